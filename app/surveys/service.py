"""Survey sources, rating bands, reading a row into a response's fields (parse_row) and the one way a response
changes (merge_response, idempotent by response id per source), and the responses as the pages read them.
The CSV and webhook imports that feed merge_response are app/surveys/imports.py's."""

import hashlib
import json
import secrets
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.auth.models import Site, User
from app.core import audit
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.hooks import SURVEY_ANSWERS_CHANGED, SurveyAnswersChanged
from app.core.inputs import clean_text
from app.core.listing import Page, paginate
from app.core.merge import merge_fields
from app.core.security import Principal
from app.core.timeutil import utcnow
from app.interactions import service as interactions_service
from app.surveys import linking
from app.surveys.models import (
    CANONICAL_FIELDS,
    DEFAULT_COLUMN_MAPPING,
    DEFAULT_RATING_RULE,
    FIXED_VALUE_PREFIX,
    Band,
    LinkStatus,
    Scale,
    SurveyResponse,
    SurveySource,
)

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
                  link_window_hours: int = 72, clear_when_empty: list[str] | None = None) -> SurveySource:
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
                          link_window_hours=_checked_window(link_window_hours),
                          clear_when_empty=_checked_clearing(clear_when_empty or []))
    session.add(source)
    session.flush()
    audit.record(session=session, actor=actor, action="survey_source.create", record_type="survey_source",
                 record_id=source.id, after={"name": name, "column_mapping": source.column_mapping,
                                             "rating_rule": source.rating_rule,
                                             "clear_when_empty": source.clear_when_empty})
    return source


def get_or_create_source(*, session: Session, name: str, actor: Principal | None) -> SurveySource:
    return get_source_by_name(session=session, name=name) or create_source(session=session, name=name, actor=actor)


def update_source(*, session: Session, source_id: int, actor: Principal | None,
                  column_mapping: dict[str, str] | None = None, rating_rule: dict[str, Any] | None = None,
                  link_window_hours: int | None = None, clear_when_empty: list[str] | None = None) -> SurveySource:
    """Save a source's column mapping, rating rule, linking window or the fields an empty cell clears
    (audited)."""
    source = get_source(session=session, source_id=source_id)
    before = {"column_mapping": source.column_mapping, "rating_rule": source.rating_rule,
              "link_window_hours": source.link_window_hours, "clear_when_empty": source.clear_when_empty}
    if column_mapping is not None:
        source.column_mapping = _checked_mapping(column_mapping)
    if rating_rule is not None:
        source.rating_rule = _checked_rule(rating_rule)
    if link_window_hours is not None:
        source.link_window_hours = _checked_window(link_window_hours)
    if clear_when_empty is not None:
        source.clear_when_empty = _checked_clearing(clear_when_empty)
    session.add(source)
    audit.record(session=session, actor=actor, action="survey_source.update", record_type="survey_source",
                 record_id=source_id, before=before,
                 after={"column_mapping": source.column_mapping, "rating_rule": source.rating_rule,
                        "link_window_hours": source.link_window_hours,
                        "clear_when_empty": source.clear_when_empty})
    return source


def _checked_mapping(mapping: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(mapping) - set(CANONICAL_FIELDS))
    if unknown:
        raise InvalidInput(f"column mapping names unknown fields: {', '.join(unknown)}; "
                           f"fields are {', '.join(CANONICAL_FIELDS)}")
    if "response_id" not in mapping:
        raise InvalidInput("column mapping must map response_id")
    if str(mapping["response_id"]).startswith(FIXED_VALUE_PREFIX):
        raise InvalidInput("response_id must be a column, not a fixed value")
    return {key: str(value) for key, value in mapping.items()}


def _checked_clearing(fields: list[str]) -> list[str]:
    unknown = sorted(set(fields) - set(CANONICAL_FIELDS) | ({"response_id"} & set(fields)))
    if unknown:
        raise InvalidInput(f"clear_when_empty names fields that cannot be cleared: {', '.join(unknown)}")
    return sorted(set(fields))


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


def band_for(*, rating: str | None, score: str | None, scale: str | None, rule: dict[str, Any],
             labels: dict[str, str] | None = None) -> tuple[str | None, float | None, str | None]:
    """(band, raw score, scale) of a row. A native band wins; a score is mapped by the source's rule.
    Raises RowRejected for an unknown band, a non-number or a score outside its scale (naming the fields
    by `labels`, the user's columns, when given)."""
    named = {name: (labels or {}).get(name, name) for name in ("rating", "score", "scale")}
    rating = (rating or "").strip().lower()
    score = (score or "").strip()
    raw: float | None = None
    chosen: Scale | None = None
    if score:
        try:
            chosen = Scale((scale or "").strip().lower() or rule.get("default_scale", "csat"))
        except ValueError as exc:
            raise RowRejected(f"{named['scale']}: unknown scale {scale!r}; scales are csat, nps, band") from exc
        try:
            raw = float(score)
        except ValueError as exc:
            raise RowRejected(f"{named['score']} {score!r} is not a number") from exc
        if chosen in SCALE_RANGES:
            low, high = SCALE_RANGES[chosen]
            if not low <= raw <= high:
                raise RowRejected(f"{named['score']} {score} is outside the {chosen.upper()} scale {low:g}-{high:g}")
    if rating:
        try:
            return Band(rating).value, raw, (chosen or Scale.BAND).value
        except ValueError as exc:
            raise RowRejected(f"{named['rating']}: unknown rating {rating!r}; ratings are good, acceptable, bad") from exc
    if raw is None or chosen is None:
        return None, None, None
    if chosen == Scale.BAND:
        raise RowRejected(f"a band scale needs a {named['rating']}, not a {named['score']}")
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


# The longest text each canonical field may hold, and the stored fields an empty cell clears.
FIELD_LIMITS = {"response_id": 300, "invited_at": 40, "responded_at": 40, "customer_email": 320,
                "customer_phone": 50, "interaction_external_id": 300, "interaction_source": 100, "channel": 20,
                "agent": 100, "shop": 200, "rating": 20, "score": 40, "scale": 10, "comment": 10_000}
CLEARS = {"agent": ("agent_username",), "rating": ("band", "raw_score", "scale"),
          "score": ("band", "raw_score", "scale"), "scale": ()}
ANSWER_FIELDS = ("rating", "score")
# The stored values an import writes (the rest — ids, links, people — is derived from these).
STORED_INPUTS = ("invited_at", "responded_at", "customer_email", "customer_phone", "interaction_external_id",
                 "interaction_source", "channel", "agent_username", "shop", "band", "raw_score", "scale", "comment")


def parse_row(row: dict[str, Any], *, rule: dict[str, Any], labels: dict[str, str] | None = None,
              clear: Iterable[str] = (), region: str = interactions_service.DEFAULT_REGION) -> dict[str, Any]:
    """The changes one row makes to its stored response: {"response_id": ..., stored field: value}.

    Only the fields the row has are in it: a field missing from the row (an absent column) and an empty cell
    change nothing, unless `clear` names the field, when the empty cell clears it (value None). The checks
    look at this row only, never at what is stored, so files imported in any order give the same result.
    `labels` names each field as the user's file does (their column), for the reasons. Raises RowRejected.
    """
    def label(name: str) -> str:
        return (labels or {}).get(name, name)

    given: dict[str, str] = {}
    changes: dict[str, Any] = {}
    clearing = set(clear)
    for name, raw in row.items():
        if name not in FIELD_LIMITS:
            continue
        value = "" if raw is None else clean_text(str(raw)).strip()
        if len(value) > FIELD_LIMITS[name]:
            raise RowRejected(f"{label(name)} is longer than {FIELD_LIMITS[name]} characters")
        if value:
            given[name] = value
        elif name in clearing and name != "response_id":
            changes.update(dict.fromkeys(CLEARS.get(name, (name,)), None))
    response_id = given.get("response_id")
    if not response_id:
        raise RowRejected(f"{label('response_id')} is missing")
    changes["response_id"] = response_id
    for name in ("invited_at", "responded_at"):
        if name in given:
            changes[name] = parse_time(given[name], label(name))
    if any(name in given for name in ANSWER_FIELDS):
        band, raw, scale = band_for(rating=given.get("rating"), score=given.get("score"),
                                    scale=given.get("scale"), rule=rule, labels=labels)
        changes.update(band=band, raw_score=raw, scale=scale)
    answered = any(name in given for name in ANSWER_FIELDS)
    if "responded_at" in given and not answered and any(name in row for name in ANSWER_FIELDS):
        raise RowRejected(f"{label('responded_at')} is set but the row has no {label('rating')} or {label('score')}")
    if answered and "responded_at" in row and "responded_at" not in given:
        raise RowRejected(f"the row has a rating but no {label('responded_at')}")
    if "invited_at" in row and "responded_at" in row and not ({"invited_at", "responded_at"} & set(given)):
        raise RowRejected(f"neither {label('invited_at')} nor {label('responded_at')} is set")
    if len(changes) == 1 and len(given) == 1:
        raise RowRejected(f"the row gives nothing but {label('response_id')}")
    if "customer_phone" in given:
        phone = linking.normalise_phone(given["customer_phone"], region=region)
        if phone is None:
            raise RowRejected(f"{label('customer_phone')} {given['customer_phone']!r} is not a phone number")
        changes["customer_phone"] = phone
    if "customer_email" in given:
        email = linking.normalise_email(given["customer_email"])
        if email is None:
            raise RowRejected(f"{label('customer_email')} {given['customer_email']!r} is not an e-mail address")
        changes["customer_email"] = email
    for name in ("interaction_external_id", "interaction_source", "shop", "comment"):
        if name in given:
            changes[name] = given[name]
    if "channel" in given:
        changes["channel"] = given["channel"].lower()
    if "agent" in given:
        changes["agent_username"] = given["agent"].lower()
    return changes


def _content_hash(response: SurveyResponse) -> str:
    values = {name: getattr(response, name) for name in STORED_INPUTS}
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


# ---------------------------------------------------------------- storing


def merge_response(*, session: Session, source: SurveySource, changes: dict[str, Any],
                   cache: dict[str, Any] | None = None,
                   existing: dict[str, SurveyResponse] | None = None) -> tuple[str, SurveyResponse]:
    """The one way an import changes a survey response: create it, or write the fields `changes` holds
    (see parse_row) over the stored ones, leaving every other field as it is; then derive the agent, team,
    shop and the links again from the merged response. Returns ("created" | "updated" | "unchanged", row).

    `cache` keeps agent and shop look-ups across the rows of one import; `existing` is a prefetched map of
    the source's rows by response id (looked up here when not given). Unanswered invitations are not
    flushed one by one: the caller's next query or commit writes them in a batch."""
    assert source.id is not None
    if existing is None:
        response = session.exec(select(SurveyResponse).where(
            SurveyResponse.source_id == source.id, SurveyResponse.response_id == changes["response_id"])).first()
    else:
        response = existing.get(changes["response_id"])
    outcome = "updated" if response is not None else "created"
    if response is None:
        response = SurveyResponse(source_id=source.id, response_id=changes["response_id"], content_hash="")
        if existing is not None:
            existing[response.response_id] = response  # a later row of this import merges into it
    # parse_row gives None only where the row clears (the mapping's clear_when_empty, or a new answer
    # replacing the old one's score and scale), so every None here is an explicit clear
    values = {name: value for name, value in changes.items() if name != "response_id"}
    changed = merge_fields(response, values, clear=[name for name, value in values.items() if value is None])
    if outcome == "updated" and not changed:
        return "unchanged", response
    response.content_hash = _content_hash(response)
    response.updated_at = utcnow()
    _resolve_people(session=session, response=response, cache={} if cache is None else cache)
    session.add(response)
    if response.responded_at is None and response.link_status != LinkStatus.MANUAL:
        response.link_status, response.link_reason, response.link_method = LinkStatus.NOT_ANSWERED, None, None
        return outcome, response
    session.flush()
    linking.link_response(session=session, response=response, window_hours=source.link_window_hours, cache=cache)
    session.add(response)
    return outcome, response


def _resolve_people(*, session: Session, response: SurveyResponse, cache: dict[str, Any]) -> None:
    """The response's agent (and their team and shop) by username, then its own shop by name, if it names one;
    each name is looked up once per import (`cache`)."""
    response.agent_id = response.team_id = response.site_id = None
    agent = _cached(cache, f"agent:{response.agent_username}", lambda username: session.exec(
        select(User).where(User.username == username)).first(), response.agent_username)
    if agent is not None:
        response.agent_id, response.team_id, response.site_id = agent.id, agent.team_id, agent.site_id
    site = _cached(cache, f"shop:{response.shop}", lambda name: session.exec(
        select(Site).where(Site.name == name)).first(), response.shop)
    if site is not None:
        response.site_id = site.id


def _cached(cache: dict[str, Any], key: str, find: Callable[[str], Any], name: str | None) -> Any:
    """`find(name)` once per key of the cache; None for no name."""
    if not name:
        return None
    if key not in cache:
        cache[key] = find(name)
    return cache[key]


def after_answers_changed(*, session: Session, response_ids: list[int]) -> int:
    """Hand the changed responses to the reviews feature through its hook (it opens one case per bad
    response); raises UnhandledHook rather than skip the cases when nobody registered it."""
    if not response_ids:
        return 0
    return SURVEY_ANSWERS_CHANGED.ask(SurveyAnswersChanged(session=session, response_ids=response_ids))


# ---------------------------------------------------------------- reading


def list_responses(*, session: Session, link_status: str | None = None, band: str | None = None,
                   page: int = 1, per_page: int = 200) -> Page[SurveyResponse]:
    """One page of the survey responses, newest first, optionally of one link status and one band."""
    query = select(SurveyResponse)
    if link_status:
        query = query.where(SurveyResponse.link_status == link_status)
    if band:
        query = query.where(SurveyResponse.band == band)
    query = query.order_by(col(SurveyResponse.responded_at).desc(), col(SurveyResponse.id).desc())
    return paginate(query, page=page, per_page=per_page, session=session)


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
    after_answers_changed(session=session, response_ids=[response.id])
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
    after_answers_changed(session=session, response_ids=linked)
    return len(linked)
