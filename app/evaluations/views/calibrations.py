"""Calibration pages: the sessions, one session (start, close), evaluator bias and agreement per question."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlmodel import Session

from app.auth.deps import SessionDep
from app.auth.service import list_users, user_names
from app.core import stats
from app.core.errors import EarshotError, InvalidInput
from app.core.export import Column, csv_response, table_csv, wants_csv
from app.core.security import Principal, Role
from app.core.web import render
from app.evaluations import agreement, bias, calibration
from app.evaluations.models import (
    CalibrationSession,
)
from app.evaluations.views.common import WebEvaluator
from app.scorecards import service as scorecards
from app.scorecards.models import ScorecardVersion

router = APIRouter()


@router.get("/calibrations", response_class=HTMLResponse)
def calibrations_page(request: Request, principal: WebEvaluator, session: SessionDep) -> Response:
    return _calibrations_page(request, principal, session)


def _calibrations_page(request: Request, principal: Principal, session: Session, *, error: str | None = None,
                       values: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    rows = calibration.list_sessions(session=session, principal=principal)
    evaluators = [u for u in list_users(session=session) if {Role.EVALUATOR, Role.ADMIN} & u.role_set]
    bias_rows = bias.evaluator_bias(session=session, principal=principal)
    people = user_names(session=session, ids=[c.lead_id for c in rows])
    columns: list[Column[CalibrationSession]] = [
        Column("#", lambda c: c.id, name="id", link=lambda c: f"/calibrations/{c.id}"),
        Column("Title", lambda c: c.title),
        Column("Interaction", lambda c: c.interaction_id, name="interaction_id", format=lambda v: f"#{v}"),
        Column("Lead", lambda c: people.get(c.lead_id or 0, ""), format=lambda v: v or "—"),
        Column("Evaluators", lambda c: len(c.evaluator_ids)),
        Column("Status", lambda c: c.status, html=lambda c: Markup('<span class="badge">{}</span>').format(c.status)),
        Column("Nominal α", lambda c: (c.results or {}).get("alpha", {}).get("nominal"), name="nominal_alpha",
               format=lambda v: "—" if v is None else str(v)),
        Column("Created", lambda c: c.created_at, name="created_at")]
    if wants_csv(request):
        return table_csv("calibrations.csv", rows, columns)
    return render(request, "evaluations/calibrations.html", {
        "sessions": rows, "columns": columns, "evaluators": evaluators, "scorecards": scorecards.list_scorecards(session=session),
        "names": people, "error": error, "values": values or {},
        "trend": calibration.evaluator_trend(session=session, evaluator_id=principal.user_id),
        "bias_rows": bias_rows, "bias_names": user_names(session=session, ids=[r.evaluator_id for r in bias_rows]),
        "min_pairs": bias.MIN_PAIRS,
    }, principal=principal, status_code=status_code)


@router.post("/calibrations")
def create_calibration(request: Request, principal: WebEvaluator, session: SessionDep,
                       title: Annotated[str, Form()] = "", interaction_id: Annotated[str, Form()] = "",
                       scorecard_id: Annotated[str, Form()] = "",
                       evaluator_ids: Annotated[list[str], Form()] = []) -> Response:  # noqa: B006 (FastAPI copies it)
    """A refused session (no such interaction, fewer than two evaluators, ...) shows the page again with the
    reason and what was typed."""
    values = {"title": title, "interaction_id": interaction_id, "scorecard_id": scorecard_id,
              "evaluator_ids": evaluator_ids}
    try:
        row = calibration.create(session=session, principal=principal, title=title,
                                 interaction_id=_whole_number(interaction_id, "Interaction id"),
                                 scorecard_id=_whole_number(scorecard_id, "Scorecard"),
                                 evaluator_ids=[_whole_number(v, "Evaluator") for v in evaluator_ids])
    except EarshotError as exc:
        session.rollback()
        return _calibrations_page(request, principal, session, error=exc.message, values=values,
                                  status_code=exc.status_code)
    return RedirectResponse(f"/calibrations/{row.id}", status_code=303)


def _whole_number(value: str, field: str) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        raise InvalidInput(f"{field}: give a number (not {value.strip()[:40]!r}).") from None
    if not 1 <= number <= 2**31 - 1:
        raise InvalidInput(f"{field}: {number} is not an id.")
    return number


# Registered before /calibrations/{calibration_id}, which would otherwise take "bias" for an id.
@router.get("/calibrations/bias", response_class=HTMLResponse)
def bias_page(request: Request, principal: WebEvaluator, session: SessionDep,
              format: Literal["html", "csv"] = "html") -> Response:
    """Every evaluator's offset against gold and peers (admins); an evaluator sees their own rows."""
    rows = bias.evaluator_bias(session=session, principal=principal)
    who = user_names(session=session, ids=[r.evaluator_id for r in rows])
    if format == "csv":
        return csv_response("evaluator-bias.csv", bias.CSV_HEADERS, bias.csv_rows(rows, who))
    return render(request, "evaluations/bias.html", {"rows": rows, "names": who, "min_pairs": bias.MIN_PAIRS},
                  principal=principal)


@router.get("/calibrations/agreement", response_class=HTMLResponse)
def agreement_page(request: Request, principal: WebEvaluator, session: SessionDep, scorecard_id: int | None = None,
                   period: agreement.Period = "month", format: Literal["html", "csv"] = "html") -> Response:
    """Krippendorff's alpha per question and month/quarter with its bootstrap interval, table + charts."""
    if scorecard_id is None:
        scorecard_id = agreement.default_scorecard_id(session=session)
    report = agreement.question_agreement(session=session, scorecard_id=scorecard_id, period=period)
    if format == "csv":
        return csv_response(f"calibration-agreement-{period}.csv", agreement.CSV_HEADERS, agreement.csv_rows(report))
    return render(request, "evaluations/agreement.html", {
        "report": report, "charts": [agreement.chart(q, report.periods) for q in report.questions],
        "scorecards": scorecards.list_scorecards(session=session), "min_units": stats.MIN_UNITS,
        "too_few": stats.TOO_FEW_UNITS, "no_variation": stats.NO_VARIATION}, principal=principal)


@router.get("/calibrations/{calibration_id}", response_class=HTMLResponse)
def calibration_page(request: Request, calibration_id: int, principal: WebEvaluator, session: SessionDep) -> Response:
    row = calibration.get(session=session, principal=principal, calibration_id=calibration_id)
    view = calibration.public(session=session, principal=principal, calibration=row)
    version = session.get(ScorecardVersion, row.scorecard_version_id)
    # a choice answer as the form words it ("No errors"), not its stored value ("no_errors")
    choice_labels = {(q.id, o.value): o.label or o.value for _, q in scorecards.form_of(version).questions()
                     for o in q.options or []} if version is not None else {}
    return render(request, "evaluations/calibration.html", {
        "calibration": row, "view": view, "choice_labels": choice_labels,
        "names": user_names(session=session, ids=[row.lead_id, *row.evaluator_ids]),
        "is_lead": principal.user_id == row.lead_id or principal.has(Role.ADMIN),
        "can_score": principal.user_id in row.evaluator_ids or principal.user_id == row.lead_id,
        "overall_bias": {r.evaluator_id: r for r in bias.evaluator_bias(session=session, principal=principal)
                         if r.reference == "gold" and r.measure == bias.TOTAL} if row.status == "closed" else {},
    }, principal=principal)


@router.post("/calibrations/{calibration_id}/start")
def calibration_start(calibration_id: int, principal: WebEvaluator, session: SessionDep) -> Response:
    evaluation = calibration.start_evaluation(session=session, principal=principal, calibration_id=calibration_id)
    return RedirectResponse(f"/evaluations/{evaluation.id}/edit", status_code=303)


@router.post("/calibrations/{calibration_id}/close")
def calibration_close(calibration_id: int, principal: WebEvaluator, session: SessionDep) -> Response:
    calibration.close(session=session, principal=principal, calibration_id=calibration_id)
    return RedirectResponse(f"/calibrations/{calibration_id}", status_code=303)
