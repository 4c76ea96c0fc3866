"""Survey tool presets: the column mapping of Qualtrics and SurveyMonkey CSV exports, a function that
creates or updates a survey source with one, and an import that understands each export's extra header
rows and date format (then hands canonical rows to app.surveys' `import_rows`, line numbers kept).

Followed: Qualtrics "Export Data → CSV" (2024 layout: row 1 column names such as ResponseId, StartDate,
EndDate, RecordedDate, RecipientEmail, ExternalReference, Q1...; row 2 the question texts; row 3
`{"ImportId": ...}`; dates 'YYYY-MM-DD HH:MM:SS' in the account's zone) and SurveyMonkey "Export → All
responses data → CSV" (row 1 Respondent ID, Collector ID, Start Date, End Date, IP Address, Email Address,
First Name, Last Name, Custom Data 1, then one column per question; row 2 the answer labels such as
'Response' / 'Open-Ended Response'; dates 'MM/DD/YYYY HH:MM:SS AM').
"""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from app.core import audit
from app.core.errors import InvalidInput
from app.core.inputs import CsvFile
from app.core.security import Principal
from app.ingest import writing
from app.interactions.service import DEFAULT_REGION
from app.surveys import service as surveys
from app.surveys.imports import column_labels, import_rows, mapped_row
from app.surveys.models import ImportReport, RowProblem, SurveySource

PRESETS: dict[str, dict[str, str]] = {
    "qualtrics": {"response_id": "ResponseId", "invited_at": "StartDate", "responded_at": "RecordedDate",
                  "customer_email": "RecipientEmail", "interaction_external_id": "ExternalReference",
                  "agent": "agent", "score": "Q1", "comment": "Q2"},
    "surveymonkey": {"response_id": "Respondent ID", "invited_at": "Start Date", "responded_at": "End Date",
                     "customer_email": "Email Address", "interaction_external_id": "Custom Data 1",
                     "score": "How satisfied were you with our service?",
                     "comment": "Is there anything else you would like to tell us?"},
}
DATE_FORMATS = {"qualtrics": "%Y-%m-%d %H:%M:%S", "surveymonkey": "%m/%d/%Y %I:%M:%S %p"}


def preset_mapping(preset: str, **columns: str | None) -> dict[str, str]:
    """The preset's mapping with any columns overridden (e.g. score='Q3', comment='Q4_TEXT')."""
    if preset not in PRESETS:
        raise InvalidInput(f"unknown survey preset {preset!r}; one of {', '.join(PRESETS)}")
    mapping = dict(PRESETS[preset])
    mapping.update({k: v for k, v in columns.items() if v})
    return mapping


def apply_preset(*, session: Session, name: str, preset: str, actor: Principal | None,
                 score_column: str | None = None, comment_column: str | None = None) -> SurveySource:
    """Create the survey source `name` with the preset mapping, or update an existing one's mapping (audited)."""
    mapping = preset_mapping(preset, score=score_column, comment=comment_column)
    source = surveys.get_source_by_name(session=session, name=name)
    if source is None:
        return surveys.create_source(session=session, name=name, actor=actor, column_mapping=mapping)
    assert source.id is not None
    return surveys.update_source(session=session, source_id=source.id, actor=actor, column_mapping=mapping)


def import_export(*, session: Session, source: SurveySource, preset: str, text: str, zone: str = "UTC",
                  actor: Principal | None = None, region: str = DEFAULT_REGION, what: str = "the CSV",
                  writer: writing.Commits | None = None) -> ImportReport:
    """A raw Qualtrics / SurveyMonkey export: the extra header rows are skipped, dates made ISO 8601 in
    `zone`; a row whose date cannot be read is rejected with its line (naming the export's column). Rows go
    through app.surveys' `import_rows` (absent columns change nothing). The caller commits (a background
    import's `writer` after every chunk)."""
    preset_mapping(preset)
    mapping = source.column_mapping
    labels = column_labels(mapping)
    csv_file = CsvFile(text, required=[str(mapping.get("response_id"))], what=what)
    header = set(csv_file.header)
    rows: list[tuple[int, dict[str, Any] | InvalidInput]] = []
    problems: list[RowProblem] = []
    for line, raw in csv_file.rows():
        if isinstance(raw, InvalidInput):
            rows.append((line, raw))
            continue
        if _is_extra_header(preset, raw, mapping):
            continue
        row = mapped_row(mapping, header, raw)
        try:
            for field in ("invited_at", "responded_at"):
                if field in row:
                    row[field] = _iso(row[field], DATE_FORMATS[preset], zone, labels.get(field, field))
        except ValueError as exc:
            problems.append(RowProblem(line=line, response_id=row.get("response_id"), reason=str(exc)))
            continue
        rows.append((line, row))
    report = import_rows(session=session, source=source, rows=rows, region=region, labels=labels,
                         writer=writer)
    report.rejected = sorted([*report.rejected, *problems], key=lambda p: p.line)
    audit.record(session=session, actor=actor, action="survey.import", record_type="survey_source",
                 record_id=source.id, after={"preset": preset, "created": report.created, "updated": report.updated,
                                             "unchanged": report.unchanged, "rejected": len(report.rejected),
                                             "cases_opened": report.cases_opened})
    return report


def _is_extra_header(preset: str, raw: dict[str, Any], mapping: dict[str, str]) -> bool:
    first = str(raw.get(mapping["response_id"]) or "")
    if preset == "qualtrics":
        return first.startswith('{"ImportId"') or first == "Response ID"
    return first == "" and any(str(v).strip() in ("Response", "Open-Ended Response") for v in raw.values())


def _iso(value: Any, fmt: str, zone: str, field: str) -> str | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        parsed = datetime.strptime(text, fmt)
    except ValueError:
        try:
            return datetime.fromisoformat(text).isoformat()
        except ValueError as exc:
            raise ValueError(f"{field} {text!r} is not a date in the export's format") from exc
    return parsed.replace(tzinfo=ZoneInfo(zone)).isoformat()
