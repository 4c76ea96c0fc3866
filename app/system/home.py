"""The admin's home: users, forms, sampling rules, imports, jobs and the audit log at a glance."""

from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.auth.models import User
from app.core.models import AuditEvent, Job, JobStatus
from app.core.security import Principal, Role
from app.core.timeutil import utcnow
from app.core.web import HomePanel

IMPORT_KINDS_PREFIX = "ingest."


def panels(*, session: Session, principal: Principal, role: Role) -> list[HomePanel]:
    if role != Role.ADMIN:
        return []
    from app.evaluations.models import SamplingRule
    from app.scorecards.models import Scorecard

    day_ago = utcnow() - timedelta(days=1)

    def count(query: object) -> int:
        return int(session.exec(query).one())  # type: ignore[call-overload]

    users = count(select(func.count()).select_from(User).where(col(User.is_active).is_(True)))
    forms = count(select(func.count()).select_from(Scorecard).where(col(Scorecard.retired_at).is_(None)))
    rules = count(select(func.count()).select_from(SamplingRule).where(col(SamplingRule.active).is_(True)))
    running = count(select(func.count()).select_from(Job).where(col(Job.status).in_(JobStatus.active())))
    failed = count(select(func.count()).select_from(Job).where(Job.status == JobStatus.FAILED,
                                                               col(Job.finished_at) >= day_ago))
    last_import = session.exec(select(Job).where(col(Job.kind).startswith(IMPORT_KINDS_PREFIX))
                               .order_by(col(Job.id).desc()).limit(1)).first()
    audited = count(select(func.count()).select_from(AuditEvent).where(col(AuditEvent.at) >= day_ago))
    items: list[tuple[str, str, str | None]] = [
        ("Active users", str(users), "/admin/users"),
        ("Evaluation forms in use", str(forms), "/scorecards"),
        ("Sampling rules active", str(rules), "/evaluations/sampling"),
        ("Last import", f"{last_import.kind.removeprefix(IMPORT_KINDS_PREFIX)} · {last_import.status}"
         if last_import else "none yet", "/imports"),
        ("Jobs queued or running", str(running), "/jobs"),
        ("Jobs failed in 24 h", str(failed), "/jobs?status=failed"),
        ("Audit events in 24 h", str(audited), "/admin/audit"),
    ]
    return [HomePanel(title="Administration", items=items, link="/admin/users", order=5)]
