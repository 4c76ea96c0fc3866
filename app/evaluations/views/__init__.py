"""Evaluation pages, one module a concern (lists, sampling rules, scoring one evaluation, calibrations).

This package's router joins theirs in an order that matters: fixed paths such as /evaluations/queue and
/evaluations/sampling come before /evaluations/{evaluation_id}, which would take them for an id.
"""

from fastapi import APIRouter

from app.core.security import Role
from app.core.web import NavItem
from app.evaluations.views import calibrations, lists, sampling_rules, scoring

NAV = [
    NavItem("Evaluations", "/evaluations", tuple(Role), order=30),
    NavItem("My queue", "/evaluations/queue", (Role.ADMIN, Role.EVALUATOR), order=31),
    NavItem("Calibration", "/calibrations", (Role.ADMIN, Role.EVALUATOR), order=32),
    NavItem("Sampling", "/evaluations/sampling", (Role.ADMIN,), order=33),
    NavItem("Evaluator bias", "/calibrations/bias", (Role.ADMIN,), order=34),
    NavItem("Auto-QA kept", "/evaluations/suggestions", (Role.ADMIN, Role.EVALUATOR), order=35),
]

router = APIRouter()
for pages in (lists, sampling_rules, scoring, calibrations):
    router.include_router(pages.router)
