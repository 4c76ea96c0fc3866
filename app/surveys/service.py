"""Survey sources, rating bands, and the CSV and webhook imports (idempotent by response id per source)."""

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.auth.models import Site, User
from app.core import audit
from app.core.errors import Conflict, InvalidInput, NotFound, Unauthorized
from app.core.inputs import CsvFile, clean_json, clean_text
from app.core.security import Principal
from app.core.timeutil import utcnow
from app.surveys import linking
from app.surveys.models import (
    CANONICAL_FIELDS,
    DEFAULT_COLUMN_MAPPING,
    DEFAULT_RATING_RULE,
    Band,
    ImportReport,
    LinkStatus,
    RowProblem,
    Scale,
    SurveyResponse,
    SurveySource,
)

SIGNATURE_HEADER = "X-Earshot-Signature"
SCALE_RANGES = {Scale.CSAT: (1.0, 5.0), Scale.NPS: (0.0, 10.0)}

class RowRejected(ValueError):
    """A survey row that cannot be stored; the message is the reason shown to the importer."""


# ---------------------------------------------------------------- sources


def get_source(*, session: Session, source_id: int) -> SurveySource:
    source = session.get(SurveySource, source_id)
    if source is None:
        raise NotFound(f"survey source {source_id} not found")
    return source


def get_source_by_name(*, session: Session, name: str) -> SurveySource | None:
    return session.exec(select(SurveySource).where(SurveySource.name == name.strip())).first()


def list_sources(*, session: Session) -> list[SurveySource]:
    return list(session.exec(select(SurveySource).order_by(col(SurveySource.name))).all())


def create_source(*, session: Session, name: str, actor: Principal | None,
                  column_mapping: dict[str, str] | None = None, rating_rule: dict[str, Any] | None = None,
                  link_window_hours: int = 72) -> SurveySource:
    """Create a source with a freshly generated webhook secret. Raises Conflict when the name is taken,
    InvalidInput for a bad mapping or rule."""
    name = name.strip()
    if not name or len(name) > 100 or not all(c.isalnum() or c in "-_." for c in name):
        raise InvalidInput("source name: 1-100 letters, digits or - _ .")
    if get_source_by_name(session=session, name=name):
        raise Conflict(f"survey source {name!r} already exists")
    source = SurveySource(name=name, webhook_secret=secrets.token_urlsafe(32),
                          column_mapping=_checked_mapping(column_mapping or DEFAULT_COLUMN_MAPPING),
                          rating_rule=_checked_rule(rating_rule or DEFAULT_RATING_RULE),
                          link_window_hours=_checked_window(link_window_hours))
    session.add(source)
    session.flush()
    audit.record(session=session, actor=actor, action="survey_source.create", record_type="survey_source",
                 record_id=source.id, after={"name": name, "column_mapping": source.column_mapping,
                                             "rating_rule": source.rating_rule})
    return source


def get_or_create_source(*, session: Session, name: str, actor: Principal | None) -> SurveySource:
    return get_source_by_name(session=session, name=name) or create_source(session=session, name=name, actor=actor)


def update_source(*, session: Session, source_id: int, actor: Principal | None,
                  column_mapping: dict[str, str] | None = None, rating_rule: dict[str, Any] | None = None,
                  link_window_hours: int | None = None) -> SurveySource:
    """Save a source's column mapping, rating rule or linking window (audited)."""
    source = get_source(session=session, source_id=source_id)
    before = {"column_mapping": source.column_mapping, "rating_rule": source.rating_rule,
              "link_window_hours": source.link_window_hours}
    if column_mapping is not None:
        source.column_mapping = _checked_mapping(column_mapping)
    if rating_rule is not None:
        source.rating_rule = _checked_rule(rating_rule)
    if link_window_hours is not None:
        source.link_window_hours = _checked_window(link_window_hours)
    session.add(source)
    audit.record(session=session, actor=actor, action="survey_source.update", record_type="survey_source",
                 record_id=source_id, before=before,
                 after={"column_mapping": source.column_mapping, "rating_rule": source.rating_rule,
                        "link_window_hours": source.link_window_hours})
    return source


def _checked_mapping(mapping: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(mapping) - set(CANONICAL_FIELDS))
    if unknown:
        raise InvalidInput(f"column mapping names unknown fields: {', '.join(unknown)}; "
                           f"fields are {', '.join(CANONICAL_FIELDS)}")
    if "response_id" not in mapping:
        raise InvalidInput("column mapping must map response_id")
    return {key: str(value) for key, value in mapping.items()}


def _checked_rule(rule: dict[str, Any]) -> dict[str, Any]:
    merged = {**DEFAULT_RATING_RULE, **rule}
    try:
        Scale(merged["default_scale"])
        for scale in (Scale.CSAT, Scale.NPS):
            low, high = SCALE_RANGES[scale]
            good, acceptable = float(merged[scale]["good_min"]), float(merged[scale]["acceptable_min"])
            if not low <= acceptable <= good <= high:
                raise ValueError(f"{scale}: need {low:g} <= acceptable_min <= good_min <= {high:g}")
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"rating rule is not valid: {exc}") from exc
    return merged


def _checked_window(hours: int) -> int:
    if not 1 <= hours <= 24 * 60:
        raise InvalidInput("link window must be between 1 and 1440 hours")
    return hours


# ---------------------------------------------------------------- ratings


def band_for(*, rating: str | None, score: str | None, scale: str | None,
             rule: dict[str, Any]) -> tuple[str | None, float | None, str | None]:
    """(band, raw score, scale) of a row. A native band wins; a score is mapped by the source's rule.
    Raises RowRejected for an unknown band, a non-number or a score outside its scale."""
    rating = (rating or "").strip().lower()
    score = (score or "").strip()
    raw: float | None = None
    chosen: Scale | None = None
    if score:
        try:
            chosen = Scale((scale or "").strip().lower() or rule.get("default_scale", "csat"))
        except ValueError as exc:
            raise RowRejected(f"unknown scale {scale!r}; scales are csat, nps, band") from exc
        try:
            raw = float(score)
        except ValueError as exc:
            raise RowRejected(f"score {score!r} is not a number") from exc
        if chosen in SCALE_RANGES:
            low, high = SCALE_RANGES[chosen]
            if not low <= raw <= high:
                raise RowRejected(f"score {score} is outside the {chosen.upper()} scale {low:g}-{high:g}")
    if rating:
        try:
            return Band(rating).value, raw, (chosen or Scale.BAND).value
        except ValueError as exc:
            raise RowRejected(f"unknown rating {rating!r}; ratings are good, acceptable, bad") from exc
    if raw is None or chosen is None:
        return None, None, None
    if chosen == Scale.BAND:
        raise RowRejected("a band scale needs a rating, not a score")
    limits = rule.get(chosen.value) or DEFAULT_RATING_RULE[chosen.value]
    if raw >= float(limits["good_min"]):
        return Band.GOOD.value, raw, chosen.value
    if raw >= float(limits["acceptable_min"]):
        return Band.ACCEPTABLE.value, raw, chosen.value
    return Band.BAD.value, raw, chosen.value


def parse_time(value: str | None, field: str) -> datetime | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise RowRejected(f"{field} {value!r} is not an ISO 8601 time") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_row(row: dict[str, Any], *, rule: dict[str, Any]) -> dict[str, Any]:
    """Canonical fields (strings) → the values stored on a SurveyResponse. Raises RowRejected."""
    def text(name: str, limit: int) -> str | None:
        value = row.get(name)
        if value is None:
            return None
        value = clean_text(str(value)).strip()
        if len(value) > limit:
            raise RowRejected(f"{name} is longer than {limit} characters")
        return value or None

    response_id = text("response_id", 300)
    if not response_id:
        raise RowRejected("response_id is missing")
    score = row.get("score")
    band, raw, scale = band_for(rating=text("rating", 20), score=None if score is None else str(score),
                                scale=text("scale", 10), rule=rule)
    invited_at = parse_time(text("invited_at", 40), "invited_at")
    responded_at = parse_time(text("responded_at", 40), "responded_at")
    if responded_at is not None and band is None:
        raise RowRejected("responded_at is set but the row has no rating or score")
    if responded_at is None and band is not None:
        raise RowRejected("the row has a rating but no responded_at")
    if invited_at is None and responded_at is None:
        raise RowRejected("neither invited_at nor responded_at is set")
    phone_raw = text("customer_phone", 50)
    phone = linking.normalise_phone(phone_raw)
    if phone_raw and phone is None:
        raise RowRejected(f"customer_phone {phone_raw!r} is not a phone number")
    email_raw = text("customer_email", 320)
    email = linking.normalise_email(email_raw)
    if email_raw and email is None:
        raise RowRejected(f"customer_email {email_raw!r} is not an e-mail address")
    channel = text("channel", 20)
    return {
        "response_id": response_id, "invited_at": invited_at, "responded_at": responded_at,
        "customer_email": email, "customer_phone": phone,
        "interaction_external_id": text("interaction_external_id", 300),
        "interaction_source": text("interaction_source", 100) if text("interaction_external_id", 300) else None,
        "channel": channel.lower() if channel else None,
        "agent_username": (text("agent", 100) or "").lower() or None, "shop": text("shop", 200),
        "band": band, "raw_score": raw, "scale": scale, "comment": text("comment", 10_000),
    }


def _content_hash(values: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


# ---------------------------------------------------------------- storing


def upsert_response(*, session: Session, source: SurveySource, values: dict[str, Any],
                    cache: dict[str, Any] | None = None,
                    existing: dict[str, SurveyResponse] | None = None) -> tuple[str, SurveyResponse]:
    """Create or update one response; returns ("created" | "updated" | "unchanged", row). `cache` keeps
    agent and shop look-ups across the rows of one import; `existing` is a prefetched map of the source's
    rows by response id (looked up here when not given). Unanswered invitations are not flushed one by one:
    the caller's next query or commit writes them in a batch."""
    assert source.id is not None
    digest = _content_hash(values)
    if existing is None:
        response = session.exec(select(SurveyResponse).where(
            SurveyResponse.source_id == source.id, SurveyResponse.response_id == values["response_id"])).first()
    else:
        response = existing.get(values["response_id"])
    if response is not None and response.content_hash == digest:
        return "unchanged", response
    outcome = "updated" if response is not None else "created"
    if response is None:
        response = SurveyResponse(source_id=source.id, response_id=values["response_id"], content_hash=digest)
    for key, value in values.items():
        setattr(response, key, value)
    response.content_hash = digest
    response.updated_at = utcnow()
    _resolve_people(session=session, response=response, cache={} if cache is None else cache)
    session.add(response)
    if response.responded_at is None and response.link_status != LinkStatus.MANUAL:
        response.link_status, response.link_reason = LinkStatus.NOT_ANSWERED, None
        return outcome, response
    session.flush()
    linking.link_response(session=session, response=response, window_hours=source.link_window_hours)
    session.add(response)
    return outcome, response


def _resolve_people(*, session: Session, response: SurveyResponse, cache: dict[str, Any]) -> None:
    response.agent_id = response.team_id = response.site_id = None
    if response.agent_username:
        key = f"agent:{response.agent_username}"
        if key not in cache:
            cache[key] = session.exec(select(User).where(User.username == response.agent_username)).first()
        agent = cache[key]
        if agent is not None:
            response.agent_id, response.team_id, response.site_id = agent.id, agent.team_id, agent.site_id
    if response.shop:
        key = f"shop:{response.shop}"
        if key not in cache:
            cache[key] = session.exec(select(Site).where(Site.name == response.shop)).first()
        site = cache[key]
        if site is not None:
            response.site_id = site.id


def _after_import(*, session: Session, response_ids: list[int]) -> int:
    """Hand the changed responses to the reviews feature (it opens one case per bad response)."""
    if not response_ids:
        return 0
    from app.reviews.service import open_cases_for_responses  # reviews builds on surveys, not the reverse

    return open_cases_for_responses(session=session, response_ids=response_ids)


IMPORT_CHUNK = 500


def import_rows(*, session: Session, source: SurveySource,
                rows: Iterable[tuple[int, dict[str, Any] | InvalidInput]]) -> ImportReport:
    """Store canonical rows (line number, fields); good rows are kept, bad ones reported by line (a row the
    reader could not read comes as InvalidInput). Existing rows are fetched in chunks, so a re-import costs
    one query per chunk for unchanged rows."""
    report = ImportReport()
    valid: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        if isinstance(row, InvalidInput):
            report.rejected.append(RowProblem(line=line, reason=row.message))
            continue
        try:
            values = parse_row(row, rule=source.rating_rule)
            if values["response_id"] in seen:
                raise RowRejected(f"response_id {values['response_id']!r} repeats line {seen[values['response_id']]}")
            seen[values["response_id"]] = line
            valid.append(values)
        except RowRejected as exc:
            rid = row.get("response_id")
            report.rejected.append(RowProblem(line=line, response_id=str(rid) if rid else None, reason=str(exc)))
    changed: list[SurveyResponse] = []
    cache: dict[str, Any] = {}
    for start in range(0, len(valid), IMPORT_CHUNK):
        chunk = valid[start:start + IMPORT_CHUNK]
        existing = {r.response_id: r for r in session.exec(select(SurveyResponse).where(
            SurveyResponse.source_id == source.id,
            col(SurveyResponse.response_id).in_([v["response_id"] for v in chunk]))).all()}
        for values in chunk:
            outcome, response = upsert_response(session=session, source=source, values=values, cache=cache,
                                                existing=existing)
            setattr(report, outcome, getattr(report, outcome) + 1)
            if outcome != "unchanged" and response.responded_at is not None:
                changed.append(response)
        session.flush()
    report.cases_opened = _after_import(session=session, response_ids=[r.id for r in changed if r.id is not None])
    return report


def import_csv(*, session: Session, source: SurveySource, text: str, actor: Principal | None) -> ImportReport:
    """Import a CSV export with the source's column mapping. Line 1 is the header; a missing mapped
    column is an error for the whole file (InvalidInput). The caller commits."""
    mapping = source.column_mapping
    csv_file = CsvFile(text, required=[mapping["response_id"]] if "response_id" in mapping else [],
                       what="the CSV")
    header = set(csv_file.header)

    def rows() -> Iterable[tuple[int, dict[str, Any] | InvalidInput]]:
        for line, raw in csv_file.rows():
            yield line, raw if isinstance(raw, InvalidInput) else {
                field: raw.get(column) for field, column in mapping.items() if column in header}

    report = import_rows(session=session, source=source, rows=rows())
    audit.record(session=session, actor=actor, action="survey.import", record_type="survey_source",
                 record_id=source.id, after={"created": report.created, "updated": report.updated,
                                             "unchanged": report.unchanged, "rejected": len(report.rejected),
                                             "cases_opened": report.cases_opened})
    return report


# ---------------------------------------------------------------- webhook


def sign(secret: str, body: bytes) -> str:
    """The signature header value for a body: `sha256=<hex HMAC-SHA256 of the raw body>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(*, source: SurveySource, body: bytes, header: str | None) -> None:
    """Raises Unauthorized unless `header` is the HMAC of the raw body with the source's secret
    (compared in constant time)."""
    expected = sign(source.webhook_secret, body)
    if not header or not hmac.compare_digest(expected.encode(), header.strip().encode()):
        raise Unauthorized("bad or missing webhook signature")


def ingest_webhook(*, session: Session, source_name: str, body: bytes, signature: str | None) -> ImportReport:
    """A signed delivery: one response object, or {"responses": [...]}. An unknown source and a bad signature
    both raise Unauthorized (nothing stored, nothing revealed); a replay changes nothing."""
    source = get_source_by_name(session=session, name=source_name)
    if source is None:
        raise Unauthorized("bad or missing webhook signature")
    verify_signature(source=source, body=body, header=signature)
    try:
        payload = clean_json(json.loads(body))
    except ValueError as exc:
        raise InvalidInput(f"the body is not JSON: {exc}") from exc
    except RecursionError as exc:
        raise InvalidInput("the body is not JSON: nested too deeply") from exc
    items = payload.get("responses") if isinstance(payload, dict) and "responses" in payload else [payload]
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise InvalidInput("expected a response object or {\"responses\": [objects]}")
    rows = ((index + 1, {k: v for k, v in item.items() if k in CANONICAL_FIELDS})
            for index, item in enumerate(items))
    report = import_rows(session=session, source=source, rows=rows)
    if report.created or report.updated:
        audit.record(session=session, actor=None, action="survey.webhook", record_type="survey_source",
                     record_id=source.id, after={"created": report.created, "updated": report.updated,
                                                 "rejected": len(report.rejected)})
    return report


# ---------------------------------------------------------------- reading


def get_response(*, session: Session, response_id: int) -> SurveyResponse:
    response = session.get(SurveyResponse, response_id)
    if response is None:
        raise NotFound(f"survey response {response_id} not found")
    return response


def list_responses(*, session: Session, link_status: str | None = None, band: str | None = None,
                   limit: int = 200, offset: int = 0) -> list[SurveyResponse]:
    query = select(SurveyResponse)
    if link_status:
        query = query.where(SurveyResponse.link_status == link_status)
    if band:
        query = query.where(SurveyResponse.band == band)
    query = query.order_by(col(SurveyResponse.responded_at).desc(), col(SurveyResponse.id).desc())
    return list(session.exec(query.offset(offset).limit(limit)).all())


def count_unlinked(*, session: Session) -> int:
    total = session.exec(select(func.count()).select_from(SurveyResponse).where(
        SurveyResponse.link_status == LinkStatus.UNLINKED)).one()
    return int(total)


def link_response_manually(*, session: Session, response_id: int, interaction_id: int, actor: Principal,
                           reason: str = "") -> SurveyResponse:
    """Link by hand (audited) and refresh the review case's story if the response has one."""
    response = linking.link_manually(session=session, response_id=response_id, interaction_id=interaction_id,
                                     actor=actor, reason=reason)
    assert response.id is not None
    _after_import(session=session, response_ids=[response.id])
    return response


def relink_unlinked(*, session: Session) -> int:
    """Try the unlinked responses again (their interactions or customer may have been imported since);
    returns how many are linked now. Their review cases get the new story."""
    linked: list[int] = []
    sources = {s.id: s for s in list_sources(session=session)}
    for response in session.exec(select(SurveyResponse).where(
            SurveyResponse.link_status == LinkStatus.UNLINKED)).all():
        source = sources[response.source_id]
        linking.link_response(session=session, response=response, window_hours=source.link_window_hours)
        session.add(response)
        if response.link_status == LinkStatus.LINKED and response.id is not None:
            linked.append(response.id)
    session.flush()
    _after_import(session=session, response_ids=linked)
    return len(linked)
