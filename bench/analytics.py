"""Throughput of the whole analytics job (sentiment, categories, PII, auto-QA, storage) over synthetic
transcripts and messages scaled to 10 k interactions, against a sentiment-only baseline in the same run.

    .venv/bin/python bench/analytics.py [--interactions 10000] [--measure 400]

Builds a fresh migrated SQLite database with `--interactions` synthetic interactions (60 % calls of
8-14 turns, 40 % chats/e-mails/social threads of 3-8 messages), then times the job on `--measure` of
them (evenly spread) and the baseline on the same ones, and projects the time for all of them.
"""

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402
from sqlmodel import Session  # noqa: E402

from app.core.db import make_engine  # noqa: E402
from app.core.hooks import load_hooks  # noqa: E402
from app.core.migrate import upgrade  # noqa: E402
from app.interactions.models import Interaction, Message, Segment  # noqa: E402
from app.nlp import sentiment  # noqa: E402
from app.nlp.service import analyze_interaction, load_units  # noqa: E402
from app.privacy.pipeline import get_nlp  # noqa: E402

AGENT = [
    "thank you for calling acme energy this call may be recorded for training purposes how can i help",
    "good morning you're through to sam how can i help you today",
    "im really sorry to hear that i completely understand how frustrating that must be",
    "can i just take your date of birth and the first line of your address please",
    "bear with me one moment while i put you on hold",
    "thanks for holding ive had a look and i can see what happened",
    "ive applied a credit of twenty pounds to your account",
    "is there anything else i can help you with today",
    "no problem at all have a lovely day",
    "let me transfer you to the right team",
]
CUSTOMER = [
    "hi yeah ive been charged twice this month and its ridiculous",
    "im thinking of cancelling my contract to be honest",
    "can i speak to a manager please",
    "its the twelfth of march nineteen eighty five",
    "my card number is four one one one one one one one one one one one one one one one",
    "you can call me back on oh seven seven double oh nine oh oh one two three",
    "my email is maria dot lopez at example dot com",
    "ok thats great thank you so much youve been really helpful",
    "i still havent got my refund and nobody calls me back",
    "yeah thats fine",
    "my name is sarah jones and i live at 12 high street leeds ls1 4ap",
    "the engineer never turned up i waited in all day",
]
RULES = {
    "greeting": {"type": "phrase", "category": "greeting", "within_seconds": 20},
    "disclosure": {"type": "phrase", "category": "recording_disclosure"},
    "verification": {"type": "phrase", "category": "verification"},
    "empathy": {"type": "empathy_after_negative", "within_seconds": 30},
    "no_supervisor": {"type": "phrase", "category": "supervisor_request", "speaker": "customer", "expect": "absent"},
    "hold": {"type": "metric", "metric": "hold_seconds", "op": "<=", "threshold": 120},
    "response": {"type": "response_time", "max_seconds": 3600},
}


def build(url: str, count: int, seed: int = 7) -> list[int]:
    rng = random.Random(seed)
    engine = make_engine(url)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    ids = []
    with Session(engine) as session:
        interactions, segments, messages = [], [], []
        for n in range(count):
            channel = "call" if rng.random() < 0.6 else rng.choice(["chat", "email", "social"])
            interactions.append({"id": n + 1, "channel": channel, "direction": "inbound", "source": "bench",
                                 "external_id": f"bench-{n}", "started_at": start + timedelta(minutes=n),
                                 "extra": {}, "created_at": start})
            ids.append(n + 1)
            if channel == "call":
                t = 0.0
                for seq in range(rng.randint(8, 14)):
                    side = "agent" if seq % 2 == 0 else "customer"
                    text = rng.choice(AGENT if side == "agent" else CUSTOMER)
                    length = 2 + len(text) / 15
                    segments.append({"interaction_id": n + 1, "seq": seq, "speaker": side, "start": t,
                                     "end": t + length, "text": text, "words": []})
                    t += length + rng.uniform(0.2, 2.0)
            else:
                for seq in range(rng.randint(3, 8)):
                    side = "customer" if seq % 2 == 0 else "agent"
                    messages.append({"interaction_id": n + 1, "external_id": f"m{seq}", "author_role": side,
                                     "sent_at": start + timedelta(minutes=n, seconds=seq * rng.randint(30, 3000)),
                                     "text": rng.choice(CUSTOMER if side == "customer" else AGENT).capitalize() + ".",
                                     "is_public": True, "attachments": [], "extra": {}})
        session.execute(insert(Interaction), interactions)
        session.execute(insert(Segment), segments)
        session.execute(insert(Message), messages)
        session.commit()
    engine.dispose()
    return ids


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--interactions", type=int, default=10_000)
    parser.add_argument("--measure", type=int, default=400)
    args = parser.parse_args()
    load_hooks()  # the analysis asks scorecards and speech for its rules and metrics through them
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        started = time.perf_counter()
        ids = build(url, args.interactions)
        print(f"built {len(ids)} synthetic interactions in {time.perf_counter() - started:.1f} s")
        step = max(1, len(ids) // args.measure)
        sample = ids[::step][:args.measure]
        engine = make_engine(url)
        get_nlp()  # model load is per process, not per interaction

        started, cpu = time.perf_counter(), time.process_time()
        units = 0
        for interaction_id in sample:
            with Session(engine) as session:
                interaction = session.get(Interaction, interaction_id)
                assert interaction is not None
                loaded = load_units(session=session, interaction=interaction)
                units += len(loaded)
                sentiment.summarize([(u.speaker, sentiment.compound(u.text)) for u in loaded])
        baseline_rate = len(sample) / (time.perf_counter() - started)
        baseline_cpu = len(sample) / (time.process_time() - cpu)

        started, cpu = time.perf_counter(), time.process_time()
        for interaction_id in sample:
            with Session(engine) as session:
                analyze_interaction(session=session, interaction_id=interaction_id, rules=RULES,
                                    metrics={"hold_seconds": 30.0})
        full_rate = len(sample) / (time.perf_counter() - started)
        full_cpu = len(sample) / (time.process_time() - cpu)

        print(f"measured on {len(sample)} of {len(ids)} interactions ({units} segments/messages, "
              f"{units / len(sample):.1f} per interaction), one process:")
        print(f"  sentiment-only baseline     {baseline_rate:8.1f} interactions/s")
        print(f"  whole analytics job         {full_rate:8.1f} interactions/s  "
              f"= {full_rate / baseline_rate:.3f} x baseline")
        print(f"  per CPU-second (less sensitive to other load): job {full_cpu:.1f}, baseline {baseline_cpu:.1f}")
        print(f"  load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(f"  projected for all {len(ids)}: {len(ids) / full_rate / 60:.1f} min per worker process "
              f"(baseline {len(ids) / baseline_rate / 60:.1f} min)")
        engine.dispose()


if __name__ == "__main__":
    main()
