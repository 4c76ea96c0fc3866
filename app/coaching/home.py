"""Home panels: a coach's open and overdue assignments and whether coaching worked; an agent's own
coaching; an admin's rules."""

from sqlmodel import Session

from app.auth.service import visible_agent_ids
from app.coaching import queries, results, rules, service, sources
from app.core.figures_cache import cached
from app.core.security import Principal, Role
from app.core.web import HomePanel

AGENT_PANEL_ITEMS = 6


def panels(*, session: Session, principal: Principal, role: Role) -> list[HomePanel]:
    if role == Role.COACH:
        return [_coach_panel(session=session, principal=principal), _agents_panel(session=session,
                                                                                  principal=principal)]
    if role == Role.AGENT:
        return [_agent_panel(session=session, principal=principal)]
    if role == Role.ADMIN:
        coaching_rules = rules.list_rules(session=session)
        on = sum(r.enabled for r in coaching_rules)
        return [HomePanel(title="Coaching rules", link="/coaching/rules", order=70,
                          items=[("Rules switched on", f"{on} of {len(coaching_rules)}", "/coaching/rules")])]
    return []


# what the share of coaching followed by an improvement is computed from (besides the caller's scope)
EFFECT_TABLES = frozenset({"coaching_assignment", "evaluation", "evaluation_answer"})


def _coach_panel(*, session: Session, principal: Principal) -> HomePanel:
    counts = queries.assignment_counts(session=session, principal=principal)
    visible = visible_agent_ids(session=session, principal=principal)

    def overall() -> tuple[int, int]:
        report = results.effectiveness_report(session=session, principal=principal, load=sources.observations_for,
                                              limit=100)
        return report.overall.improved, report.overall.measured

    # the report depends on the caller only through the agents they may see: that set is the key
    improved, measured = cached(session, ("coaching-effectiveness", None if visible is None else frozenset(visible)),
                                depends_on=EFFECT_TABLES, compute=overall)
    share = f"{improved} of {measured}" if measured else "not enough evaluations yet"
    return HomePanel(title="My agents' coaching", link="/coaching", order=20, items=[
        ("Open assignments", str(counts.open), "/coaching?open=1"),
        ("Overdue", str(counts.overdue), "/coaching?overdue=1"),
        ("Completed, to verify", str(counts.completed), "/coaching?status=completed"),
        ("Followed by improvement", share, "/coaching/effectiveness"),
    ])


def _agents_panel(*, session: Session, principal: Principal) -> HomePanel:
    items: list[tuple[str, str, str | None]] = []
    for row in queries.agents_overview(session=session, principal=principal):
        if row.agent_id == principal.user_id:
            continue
        parts = [f"{row.open} open"] if row.open else ["nothing open"]
        if row.overdue:
            parts.append(f"{row.overdue} overdue")
        if row.due_soon:
            parts.append(f"{row.due_soon} due this week")
        items.append((row.name, " · ".join(parts), f"/coaching?agent_id={row.agent_id}"))
    return HomePanel(title="My agents", link="/coaching", order=21, items=items,
                     empty_text="No agents in your team yet.")


def _agent_panel(*, session: Session, principal: Principal) -> HomePanel:
    mine = queries.list_assignments(session=session, principal=principal,
                                    filters=queries.AssignmentFilters(open_only=True, agent_id=principal.user_id),
                                    per_page=AGENT_PANEL_ITEMS)
    items: list[tuple[str, str, str | None]] = []
    for a in mine.items:
        state = "overdue" if service.is_overdue(a) else (f"due {a.due_date}" if a.due_date else a.status.replace(
            "_", " "))
        if a.acknowledged_at is None:
            state += " · to acknowledge"
        items.append((a.topic_title, state, f"/coaching/{a.id}"))
    return HomePanel(title="My coaching", link="/coaching", order=20, items=items,
                     empty_text="No open coaching. Well done.")
