"""Survey imports: a CSV export read with the source's column mapping (csv_rows, import_csv) and a signed
webhook delivery (ingest_webhook), both stored row by row through service.merge_response in chunks, the
background pace of a big import (background_writer), and the webhook signature."""

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlmodel import Session, col, select

from app.core import audit
from app.core.errors import InvalidInput, Unauthorized
from app.core.inputs import CsvFile, clean_json, decode_text, text_lines
from app.core.security import Principal
from app.ingest import writing
from app.interactions import service as interactions_service
from app.surveys.models import (
    CANONICAL_FIELDS,
    FIXED_VALUE_PREFIX,
    ImportReport,
    RowProblem,
    SurveyResponse,
    SurveySource,
)
from app.surveys.service import (
    RowRejected,
    after_answers_changed,
    get_source_by_name,
    merge_response,
    parse_row,
)

SIGNATURE_HEADER = "X-Earshot-Signature"
IMPORT_CHUNK = 500
# Background imports (the job, the command line) run beside other users: on SQLite a chunk holds the
# database's write lock from its first write to its commit, so they commit every 50 rows (or sooner, see
# background_writer).
BACKGROUND_CHUNK = 50
Progress = Callable[[int, int], None]


def background_writer(session: Session) -> writing.Commits:
    """How a background import (job, command line) commits: the rule every import follows (ingest's
    writing.Commits: short write turns on SQLite, each followed by a pause as long, and a commit at the end of
    each chunk), so a big import holds the database's write lock only briefly at a time and others get theirs."""
    return writing.Commits(session, background=True)


def column_labels(mapping: dict[str, str]) -> dict[str, str]:
    """Each mapped field as the user's file names it (their column), for reasons."""
    return {field: column for field, column in mapping.items() if not column.startswith(FIXED_VALUE_PREFIX)}


def mapped_row(mapping: dict[str, str], header: set[str], raw: dict[str, Any]) -> dict[str, Any]:
    """Canonical fields of one file row: a mapped column the file has (absent columns are left out, so they
    change nothing), and every fixed value of the mapping."""
    row: dict[str, Any] = {}
    for field, column in mapping.items():
        if column.startswith(FIXED_VALUE_PREFIX):
            row[field] = column[len(FIXED_VALUE_PREFIX):]
        elif column in header:
            row[field] = raw.get(column)
    return row


def with_fixed_values(mapping: dict[str, str], row: dict[str, Any]) -> dict[str, Any]:
    """A pushed row (webhook) with the mapping's fixed values where the row gives none."""
    fixed = {field: column[len(FIXED_VALUE_PREFIX):] for field, column in mapping.items()
             if column.startswith(FIXED_VALUE_PREFIX)}
    return {**fixed, **{k: v for k, v in row.items() if v not in (None, "") or k not in fixed}}


def import_rows(*, session: Session, source: SurveySource,
                rows: Iterable[tuple[int, dict[str, Any] | InvalidInput]],
                region: str = interactions_service.DEFAULT_REGION, labels: dict[str, str] | None = None,
                writer: writing.Commits | None = None, progress: Progress | None = None,
                total: int = 0) -> ImportReport:
    """Store canonical rows (line number, fields) through `merge_response`; good rows are kept, bad ones
    reported by line (a row the reader could not read comes as InvalidInput). Rows are written in chunks of
    IMPORT_CHUNK: existing rows are fetched with one query per chunk and review cases opened per chunk. With a
    `writer` (a background import) chunks are BACKGROUND_CHUNK rows and the writer commits at least at the end
    of each (see background_writer), so a big import holds the database's write lock only briefly at a time
    and others get their turn.
    `progress(done, total)` follows the commits."""
    report = ImportReport()
    seen: dict[str, int] = {}
    cache: dict[str, Any] = {}
    chunk: list[tuple[int, dict[str, Any]]] = []
    done = 0
    chunk_size = IMPORT_CHUNK if writer is None else BACKGROUND_CHUNK

    def flush_chunk() -> None:
        # written in the order of their ids: simultaneous imports of the same responses then take their locks in
        # the same order (PostgreSQL) and wait for each other instead of deadlocking
        chunk.sort(key=lambda row: str(row[1]["response_id"]))
        existing = {r.response_id: r for r in session.exec(select(SurveyResponse).where(
            SurveyResponse.source_id == source.id,
            col(SurveyResponse.response_id).in_([c["response_id"] for _, c in chunk]))).all()}
        changed: list[SurveyResponse] = []
        with session.no_autoflush:  # new invitations are written in one batch, not before every query
            for _, changes in chunk:
                outcome, response = merge_response(session=session, source=source, changes=changes, cache=cache,
                                                   existing=existing)
                setattr(report, outcome, getattr(report, outcome) + 1)
                if outcome != "unchanged" and response.responded_at is not None:
                    changed.append(response)
                if writer is not None:
                    writer.item_done()
        session.flush()
        report.cases_opened += after_answers_changed(session=session,
                                             response_ids=[r.id for r in changed if r.id is not None])
        if writer is not None:
            writer.batch_done()
        if progress is not None:
            progress(done, total)
        chunk.clear()

    for line, row in rows:
        done += 1
        if isinstance(row, InvalidInput):
            report.rejected.append(RowProblem(line=line, reason=row.message))
            continue
        try:
            changes = parse_row(row, rule=source.rating_rule, labels=labels, clear=source.clear_when_empty,
                                region=region)
            if changes["response_id"] in seen:
                raise RowRejected(f"{(labels or {}).get('response_id', 'response_id')} "
                                  f"{changes['response_id']!r} repeats line {seen[changes['response_id']]}")
            seen[changes["response_id"]] = line
            chunk.append((line, changes))
        except RowRejected as exc:
            rid = row.get("response_id")
            report.rejected.append(RowProblem(line=line, response_id=str(rid) if rid else None, reason=str(exc)))
        if len(chunk) >= chunk_size:
            flush_chunk()
    if chunk:
        flush_chunk()
    return report


def decode_upload(data: bytes, *, what: str) -> str:
    """The text of an uploaded survey file (UTF-8, or UTF-16/32 by its byte-order mark; bytes that are not
    UTF-8 are reported on their own line). Raises InvalidInput naming the file when it is not text."""
    return decode_text(data, what=what)


def csv_rows(*, source: SurveySource, text: str, what: str = "the CSV"
             ) -> tuple[int, Iterator[tuple[int, dict[str, Any] | InvalidInput]]]:
    """(number of data lines, canonical rows) of a CSV export read with the source's column mapping. Line 1
    is the header; a mapped column the file lacks is left out of every row (it changes nothing), but the
    response id column must be there (InvalidInput otherwise)."""
    mapping = source.column_mapping
    csv_file = CsvFile(text, required=[mapping["response_id"]], what=what)
    header = set(csv_file.header)
    total = max(len(text_lines(text)) - 1, 0)

    def rows() -> Iterator[tuple[int, dict[str, Any] | InvalidInput]]:
        for line, raw in csv_file.rows():
            yield line, raw if isinstance(raw, InvalidInput) else mapped_row(mapping, header, raw)

    return total, rows()


def import_csv(*, session: Session, source: SurveySource, text: str, actor: Principal | None,
               region: str = interactions_service.DEFAULT_REGION, what: str = "the CSV",
               writer: writing.Commits | None = None, progress: Progress | None = None) -> ImportReport:
    """Import a CSV export with the source's column mapping (see csv_rows and import_rows). The caller
    commits; a background import's `writer` commits every BACKGROUND_CHUNK rows."""
    total, rows = csv_rows(source=source, text=text, what=what)
    report = import_rows(session=session, source=source, rows=rows, region=region,
                         labels=column_labels(source.column_mapping), writer=writer, progress=progress, total=total)
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


def ingest_webhook(*, session: Session, source_name: str, body: bytes, signature: str | None,
                   region: str = interactions_service.DEFAULT_REGION) -> ImportReport:
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
    rows = ((index + 1, with_fixed_values(source.column_mapping,
                                          {k: v for k, v in item.items() if k in CANONICAL_FIELDS}))
            for index, item in enumerate(items))
    report = import_rows(session=session, source=source, rows=rows, region=region)
    if report.created or report.updated:
        audit.record(session=session, actor=None, action="survey.webhook", record_type="survey_source",
                     record_id=source.id, after={"created": report.created, "updated": report.updated,
                                                 "rejected": len(report.rejected)})
    return report
