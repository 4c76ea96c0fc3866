"""Scorecard records: create, edit (→ new version), publish, retire, import/export YAML, and the form of a
version for scoring. Other features use these functions, never the tables directly."""

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from app.core import audit
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.security import Principal
from app.core.timeutil import utcnow
from app.scorecards.models import (
    LoadReport,
    ScoreAnswer,
    Scorecard,
    ScorecardDetail,
    ScorecardPublic,
    ScorecardVersion,
    ScorecardVersionPublic,
    VersionStatus,
)
from app.scorecards.schema import ScorecardForm, form_to_data, form_to_yaml, parse_form_yaml
from app.scorecards.scoring import AnswerError, AnswerInput, ScoreResult, score


def content_hash(form: ScorecardForm) -> str:
    canonical = json.dumps(form.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def form_of(version: ScorecardVersion) -> ScorecardForm:
    """The validated form of a stored version (stored definitions were validated when saved)."""
    return ScorecardForm.model_validate(version.definition)


# ---------------------------------------------------------------- reading

def get(*, session: Session, scorecard_id: int) -> Scorecard:
    scorecard = session.get(Scorecard, scorecard_id)
    if scorecard is None:
        raise NotFound(f"scorecard {scorecard_id} not found")
    return scorecard


def get_by_key(*, session: Session, key: str) -> Scorecard | None:
    return session.exec(select(Scorecard).where(Scorecard.key == key)).first()


def list_scorecards(*, session: Session, channel: str | None = None, include_retired: bool = False) -> list[Scorecard]:
    rows = list(session.exec(select(Scorecard).order_by(col(Scorecard.name))).all())
    return [s for s in rows if (include_retired or s.retired_at is None) and (channel is None or channel in s.channels)]


def versions(*, session: Session, scorecard_id: int) -> list[ScorecardVersion]:
    return list(session.exec(select(ScorecardVersion).where(ScorecardVersion.scorecard_id == scorecard_id)
                             .order_by(col(ScorecardVersion.number))).all())


def get_version(*, session: Session, version_id: int) -> ScorecardVersion:
    version = session.get(ScorecardVersion, version_id)
    if version is None:
        raise NotFound(f"scorecard version {version_id} not found")
    return version


def get_version_by_number(*, session: Session, scorecard_id: int, number: int) -> ScorecardVersion:
    version = session.exec(select(ScorecardVersion).where(ScorecardVersion.scorecard_id == scorecard_id,
                                                          ScorecardVersion.number == number)).first()
    if version is None:
        raise NotFound(f"scorecard {scorecard_id} has no version {number}")
    return version


def published_version(*, session: Session, scorecard_id: int) -> ScorecardVersion | None:
    return session.exec(select(ScorecardVersion).where(
        ScorecardVersion.scorecard_id == scorecard_id,
        ScorecardVersion.status == VersionStatus.PUBLISHED)).first()


def latest_version(*, session: Session, scorecard_id: int) -> ScorecardVersion | None:
    return session.exec(select(ScorecardVersion).where(ScorecardVersion.scorecard_id == scorecard_id)
                        .order_by(col(ScorecardVersion.number).desc())).first()


def version_for_evaluation(*, session: Session, scorecard_id: int, channel: str) -> ScorecardVersion:
    """The published version of a scorecard to score an interaction of `channel` with.

    Raises NotFound (no such scorecard), Conflict (retired, nothing published) or InvalidInput (the form
    does not apply to the channel)."""
    scorecard = get(session=session, scorecard_id=scorecard_id)
    if scorecard.retired_at is not None:
        raise Conflict(f"scorecard {scorecard.key!r} is retired")
    version = published_version(session=session, scorecard_id=scorecard_id)
    if version is None:
        raise Conflict(f"scorecard {scorecard.key!r} has no published version")
    if channel not in form_of(version).channels:
        raise InvalidInput(f"scorecard {scorecard.key!r} does not apply to {channel} interactions",
                           details=[{"loc": "scorecard_id", "msg": f"form applies to {', '.join(scorecard.channels)}"}])
    return version


def lock_version(*, session: Session, version: ScorecardVersion) -> None:
    """Mark a version as used by an evaluation: from now on editing makes a new version."""
    if not version.locked:
        version.locked = True
        session.add(version)


# ---------------------------------------------------------------- changing

def _snapshot(version: ScorecardVersion) -> dict[str, Any]:
    return {"number": version.number, "status": version.status, "content_hash": version.content_hash}


def save_form(*, session: Session, form: ScorecardForm, actor: Principal | None, source: str = "api",
              publish: bool = False) -> tuple[Scorecard, ScorecardVersion, str]:
    """Create or edit the scorecard `form.key`. Returns (scorecard, version, outcome).

    outcome: "created" (new scorecard), "new_version", "updated_draft" (an unlocked draft edited in place)
    or "unchanged" (same content as the latest version: nothing written — loading is idempotent).
    Published or locked versions are never changed. `publish=True` also publishes the resulting version.
    """
    digest = content_hash(form)
    scorecard = get_by_key(session=session, key=form.key)
    outcome = "new_version"
    if scorecard is None:
        scorecard = Scorecard(key=form.key, name=form.name, description=form.description,
                              channels=list(form.channels))
        session.add(scorecard)
        session.flush()
        outcome = "created"
    assert scorecard.id is not None
    latest = latest_version(session=session, scorecard_id=scorecard.id)
    if latest is not None and latest.content_hash == digest:
        if publish and latest.status == VersionStatus.DRAFT:  # a retired form stays retired
            publish_version(session=session, version=latest, actor=actor, commit=False)
            session.commit()
        return scorecard, latest, "unchanged"
    definition = form_to_data(form)
    if latest is not None and latest.status == VersionStatus.DRAFT and not latest.locked:
        before = _snapshot(latest)
        latest.definition, latest.content_hash, latest.source = definition, digest, source
        version = latest
        outcome = "updated_draft"
        audit.record(session=session, actor=actor, action="scorecard.draft_update", record_type="scorecard",
                     record_id=scorecard.id, before=before, after=_snapshot(version))
    else:
        version = ScorecardVersion(scorecard_id=scorecard.id, number=(latest.number + 1) if latest else 1,
                                   definition=definition, content_hash=digest, source=source,
                                   created_by=actor.user_id if actor else None)
        audit.record(session=session, actor=actor, action="scorecard.version_create", record_type="scorecard",
                     record_id=scorecard.id, before=_snapshot(latest) if latest else None,
                     after={"number": version.number, "content_hash": digest, "source": source})
    session.add(version)
    scorecard.name, scorecard.description, scorecard.channels = form.name, form.description, list(form.channels)
    session.add(scorecard)
    session.flush()
    if publish:
        publish_version(session=session, version=version, actor=actor, commit=False)
    session.commit()
    return scorecard, version, outcome


def update_form(*, session: Session, scorecard_id: int, form: ScorecardForm, actor: Principal | None,
                publish: bool = False) -> tuple[Scorecard, ScorecardVersion, str]:
    """Edit an existing scorecard; the form's key must stay the same (it is the stable identity)."""
    scorecard = get(session=session, scorecard_id=scorecard_id)
    if form.key != scorecard.key:
        raise InvalidInput("the key of a scorecard cannot change", details=[{"loc": "key", "msg": f"must be {scorecard.key!r}"}])
    return save_form(session=session, form=form, actor=actor, publish=publish)


def publish_version(*, session: Session, version: ScorecardVersion, actor: Principal | None,
                    commit: bool = True) -> ScorecardVersion:
    """Publish a version; the previously published version of the scorecard is retired."""
    if version.status == VersionStatus.PUBLISHED:
        return version
    if version.status == VersionStatus.RETIRED:
        raise Conflict("a retired version cannot be published again; save the form to make a new version")
    current = published_version(session=session, scorecard_id=version.scorecard_id)
    now = utcnow()
    if current is not None:
        current.status, current.retired_at = VersionStatus.RETIRED, now
        session.add(current)
    version.status, version.published_at = VersionStatus.PUBLISHED, now
    session.add(version)
    scorecard = session.get(Scorecard, version.scorecard_id)
    if scorecard is not None and scorecard.retired_at is not None:
        scorecard.retired_at = None
        session.add(scorecard)
    audit.record(session=session, actor=actor, action="scorecard.publish", record_type="scorecard",
                 record_id=version.scorecard_id,
                 before={"published_version": current.number if current else None},
                 after={"published_version": version.number})
    if commit:
        session.commit()
    return version


def retire(*, session: Session, scorecard_id: int, actor: Principal | None) -> Scorecard:
    """Retire a scorecard: no new evaluations with it; existing evaluations keep their version."""
    scorecard = get(session=session, scorecard_id=scorecard_id)
    if scorecard.retired_at is None:
        now = utcnow()
        scorecard.retired_at = now
        for version in versions(session=session, scorecard_id=scorecard_id):
            if version.status == VersionStatus.PUBLISHED:
                version.status, version.retired_at = VersionStatus.RETIRED, now
                session.add(version)
        session.add(scorecard)
        audit.record(session=session, actor=actor, action="scorecard.retire", record_type="scorecard",
                     record_id=scorecard_id, before={"retired": False}, after={"retired": True})
        session.commit()
    return scorecard


def import_yaml(*, session: Session, text: str, actor: Principal | None, source: str = "yaml",
                publish: bool = True) -> tuple[Scorecard, ScorecardVersion, str]:
    """Validate YAML (problems carry field path and line) and save it like `save_form`."""
    return save_form(session=session, form=parse_form_yaml(text), actor=actor, source=source, publish=publish)


def export_yaml(*, version: ScorecardVersion) -> str:
    return form_to_yaml(form_of(version))


def load_directory(*, session: Session, directory: Path, actor: Principal | None = None,
                   publish: bool = False) -> LoadReport:
    """Import every `*.yaml` form in `directory`. Idempotent: unchanged files add nothing.

    A form not seen before is published (there is nothing it could change). A changed form becomes a new
    *draft* version, listed in `drafts`, to be tested on past evaluations and published by someone who
    reviewed the change; `publish=True` publishes changed forms at once (set-up scripts that own the forms).
    Raises InvalidInput naming the file, field path and line of the first bad form (nothing after it loads)."""
    report = LoadReport()
    for path in sorted(directory.glob("*.yaml")):
        try:
            form = parse_form_yaml(path.read_text(encoding="utf-8"))
        except InvalidInput as exc:
            raise InvalidInput(f"{path.name}: {exc.message}", details=exc.details) from exc
        is_new = get_by_key(session=session, key=form.key) is None
        scorecard, version, outcome = save_form(session=session, form=form, actor=actor, source=f"file:{path.name}",
                                                publish=publish or is_new)
        bucket = {"created": report.created, "unchanged": report.unchanged}.get(outcome, report.new_versions)
        bucket.append(form.key)
        if version.status == VersionStatus.DRAFT:
            report.drafts.append({"key": form.key, "scorecard_id": scorecard.id, "number": version.number})
    return report


# ---------------------------------------------------------------- shaping for the API

def version_public(version: ScorecardVersion) -> ScorecardVersionPublic:
    assert version.id is not None
    return ScorecardVersionPublic(id=version.id, scorecard_id=version.scorecard_id, number=version.number,
                                  status=version.status, locked=version.locked, content_hash=version.content_hash,
                                  source=version.source, created_at=version.created_at,
                                  published_at=version.published_at, definition=version.definition)


def public(*, session: Session, scorecard: Scorecard) -> ScorecardPublic:
    assert scorecard.id is not None
    published = published_version(session=session, scorecard_id=scorecard.id)
    latest = latest_version(session=session, scorecard_id=scorecard.id)
    return ScorecardPublic(id=scorecard.id, key=scorecard.key, name=scorecard.name,
                           description=scorecard.description, channels=scorecard.channels,
                           retired=scorecard.retired_at is not None,
                           published_version=published.number if published else None,
                           latest_version=latest.number if latest else None)


def detail(*, session: Session, scorecard: Scorecard) -> ScorecardDetail:
    assert scorecard.id is not None
    return ScorecardDetail(**public(session=session, scorecard=scorecard).model_dump(),
                           versions=[version_public(v) for v in versions(session=session, scorecard_id=scorecard.id)])


def score_answers(*, form: ScorecardForm, answers: Sequence[ScoreAnswer]) -> ScoreResult:
    """Score answers against a form; InvalidInput (naming the question) for an answer that does not fit."""
    try:
        return score(form, [AnswerInput(question_id=a.question_id, value=a.value, na=a.na) for a in answers])
    except AnswerError as exc:
        raise InvalidInput(f"{exc.question_id}: {exc.message}",
                           details=[{"loc": exc.question_id, "msg": exc.message}]) from exc


def question_catalogue(*, session: Session) -> list[tuple[str, str, str]]:
    """(scorecard name, question id, question text) of every question in the newest version of every form,
    retired forms included (coaching may target a question of an older form), in form order."""
    out: list[tuple[str, str, str]] = []
    for scorecard in list_scorecards(session=session, include_retired=True):
        if scorecard.id is None:
            continue
        version = latest_version(session=session, scorecard_id=scorecard.id)
        if version is not None:
            out.extend((scorecard.name, q.id, q.text) for _, q in form_of(version).questions())
    return out
