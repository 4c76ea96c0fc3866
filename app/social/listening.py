"""Listening: keyword rules for the brand's names and competitors' names. Customer posts that match are
tagged (the care queue shows the tags) and counted hour by hour for mention spikes (app/social/alerts.py)."""

import re
from functools import lru_cache

from sqlmodel import Session, col, select

from app.core import audit
from app.core.audit import Actor
from app.core.errors import InvalidInput
from app.core.timeutil import utcnow
from app.social.models import ListeningRule

KINDS = ("brand", "competitor")


def list_rules(*, session: Session, active_only: bool = False) -> list[ListeningRule]:
    query = select(ListeningRule).order_by(col(ListeningRule.kind), col(ListeningRule.name))
    if active_only:
        query = query.where(col(ListeningRule.active).is_(True))
    return list(session.exec(query).all())


def save_rule(*, session: Session, name: str, kind: str, terms: list[str], active: bool,
              actor: Actor) -> ListeningRule | None:
    """Create or change the rule called `name` (audited); no terms deletes it (returns None).
    Raises InvalidInput for a missing name or an unknown kind."""
    name = name.strip()
    if not name:
        raise InvalidInput("the rule needs a name", details=[{"loc": "name", "msg": "required"}])
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}", details=[{"loc": "kind", "msg": "unknown"}])
    cleaned = sorted({t.strip() for t in terms if t.strip()}, key=str.lower)
    rule = session.exec(select(ListeningRule).where(ListeningRule.name == name)).first()
    before = {"kind": rule.kind, "terms": rule.terms, "active": rule.active} if rule else None
    if not cleaned:
        if rule is not None:
            session.delete(rule)
            audit.record(session=session, actor=actor, action="social.listening.deleted",
                         record_type="social_listening_rule", record_id=name, before=before)
        session.commit()
        return None
    rule = rule or ListeningRule(name=name)
    rule.kind, rule.terms, rule.active, rule.updated_at = kind, cleaned, active, utcnow()
    session.add(rule)
    audit.record(session=session, actor=actor, action="social.listening.saved", record_type="social_listening_rule",
                 record_id=name, before=before, after={"kind": kind, "terms": cleaned, "active": active})
    session.commit()
    return rule


@lru_cache(maxsize=256)
def _pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    return re.compile(rf"(?<![\w@#])[@#]?(?:{alternatives})(?!\w)", re.IGNORECASE)


def matching_rules(text: str, rules: list[ListeningRule]) -> list[str]:
    """The names of the rules whose terms occur in `text` as whole words (also as @handle or #hashtag)."""
    return [r.name for r in rules if r.terms and _pattern(tuple(r.terms)).search(text)]
