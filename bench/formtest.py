"""Form-test cost: re-scoring N past evaluations with a draft form (inline on the test page) and running the
draft's auto-QA rules on their calls (a background job).

    .venv/bin/python bench/formtest.py [--evaluations 500] [--auto-sample 100]

A temp SQLite database with the shipped scorecards, N submitted voice-call evaluations with random answers on
calls of six transcript lines, and a draft of the voice-call form with three changes (a point value, a
critical flag, a new question). Prints CPU and wall seconds of:
1. baseline: scoring the N answer sets once with the published form (what submitting them cost);
2. the form test without auto rules (database reads + old/new/each-change re-scoring), with its ratio to 1;
3. the auto-QA rules on `--auto-sample` calls, and the estimate for N.
The test page runs 2 inline; it should stay under 1 s of CPU for 500 evaluations.
"""

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml  # noqa: E402

from app.auth.models import User  # noqa: E402
from app.core.db import make_engine, session_factory, session_scope  # noqa: E402
from app.core.hooks import load_hooks  # noqa: E402
from app.core.migrate import upgrade  # noqa: E402
from app.evaluations.models import Evaluation, EvaluationAnswer  # noqa: E402
from app.interactions.models import Interaction, Segment  # noqa: E402
from app.scorecards import auto_check, formtest, reference, service  # noqa: E402
from app.scorecards.schema import ScorecardForm, parse_form  # noqa: E402
from app.scorecards.scoring import AnswerInput, score  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LINES = ["Thank you for calling Acme Bank, my name is Sam.", "Hi, I have a problem with my card.",
         "Can I have your date of birth and postcode please?", "Sure, it is the first of May.",
         "I understand how frustrating that is.", "Is there anything else I can help with?"]


def _answers(form: ScorecardForm, rng: random.Random) -> list[AnswerInput]:
    out = []
    for _, q in form.questions():
        if q.type == "yes_no":
            out.append(AnswerInput(q.id, rng.random() < 0.85))
        elif q.type == "scale" and q.min is not None and q.max is not None:
            out.append(AnswerInput(q.id, rng.randint(q.min, q.max)))
        elif q.type == "choice":
            out.append(AnswerInput(q.id, rng.choice(q.options or []).value))
    return out


def _timed(label: str, work: Callable[[], Any]) -> float:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    spent = time.process_time() - cpu
    print(f"{label}: {spent:.3f} s CPU, {time.perf_counter() - wall:.3f} s wall")
    return spent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--evaluations", type=int, default=500)
    parser.add_argument("--auto-sample", type=int, default=100)
    args = parser.parse_args()
    load_hooks()  # the form test asks evaluations for its reference set through them
    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'formtest.db'}"
    upgrade(url)
    engine = make_engine(url)
    rng = random.Random(3)
    with session_scope(session_factory(engine)) as session:
        service.load_directory(session=session, directory=ROOT / "scorecards")
        card = service.get_by_key(session=session, key="voice_call")
        assert card is not None and card.id is not None
        published = service.published_version(session=session, scorecard_id=card.id)
        assert published is not None
        form = service.form_of(published)
        evaluator = User(username="bench_eva", display_name="Eva", password_hash="-", roles="evaluator")
        agent = User(username="bench_ada", display_name="Ada", password_hash="-", roles="agent")
        session.add_all([evaluator, agent])
        session.flush()
        answer_sets = []
        for i in range(args.evaluations):
            call = Interaction(channel="call", started_at=datetime(2026, 11, 1, tzinfo=UTC) + timedelta(hours=i),
                               agent_id=agent.id, external_id=f"bench-{i}", source="bench", duration_seconds=48)
            session.add(call)
            session.flush()
            assert call.id is not None
            for j, line in enumerate(LINES):
                session.add(Segment(interaction_id=call.id, seq=j, speaker="agent" if j % 2 == 0 else "customer",
                                    start=j * 8.0, end=j * 8.0 + 7, text=line if rng.random() < 0.8 else "Okay."))
            evaluation = Evaluation(interaction_id=call.id, scorecard_id=card.id, scorecard_version_id=published.id,
                                    evaluator_id=evaluator.id, agent_id=agent.id, channel="call", state="submitted",
                                    submitted_at=datetime(2026, 11, 2, tzinfo=UTC) + timedelta(hours=i))
            session.add(evaluation)
            session.flush()
            assert evaluation.id is not None
            answers = _answers(form, rng)
            answer_sets.append(answers)
            session.add_all([EvaluationAnswer(evaluation_id=evaluation.id, question_id=a.question_id, value=a.value)
                             for a in answers])
        session.commit()
        data = yaml.safe_load(service.export_yaml(version=published))
        data["sections"][0]["questions"][0]["points"] = 4
        data["sections"][0]["questions"][1]["critical"] = True
        data["sections"][2]["questions"].append({"id": "offered_callback", "text": "Call-back", "type": "yes_no"})
        _, draft, _ = service.save_form(session=session, form=parse_form(data), actor=None)
        n = args.evaluations
        print(f"{n} evaluations, draft with 3 changes")
        baseline = _timed("1. scoring them once (baseline)", lambda: [score(form, a) for a in answer_sets])
        options = reference.ReferenceOptions(limit=min(n, reference.MAX_REFERENCE_SIZE))
        report = formtest.form_test(session=session, version=draft, options=options)  # warm the caches
        rescoring = _timed("2. form test, inline part", lambda: formtest.form_test(
            session=session, version=draft, options=options))
        print(f"   ratio to the baseline: {rescoring / baseline:.1f}; shift {report.shift.describe(2)}")
        sample = reference.reference_set(session=session, scorecard_id=card.id, limit=args.auto_sample)
        ids = [ref.interaction_id for ref in sample]
        auto_check.run_auto_rules(session=session, draft=service.form_of(draft), interaction_ids=ids[:1])  # model
        auto = _timed(f"3. auto-QA rules on {len(ids)} calls", lambda: auto_check.run_auto_rules(
            session=session, draft=service.form_of(draft), interaction_ids=ids))
        print(f"   {1000 * auto / max(1, len(ids)):.0f} ms CPU per call; about {auto / max(1, len(ids)) * n:.0f} s "
              f"for {n} (a job)")
    engine.dispose()


if __name__ == "__main__":
    main()
