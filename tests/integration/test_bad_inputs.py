"""The bad-input corpus (tests/fixtures/bad_inputs/manifest.yaml) sent to every importer that accepts its
kind, on both databases: never a 5xx; a refused input gets a clear error; a partly bad one keeps every good
record, reports exactly the bad lines, and a re-run adds nothing; hostile markup is stored as sent and every
page that shows it shows it escaped, under the Content-Security-Policy."""

import json
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func
from sqlmodel import select

from app.core.web import make_templates
from app.interactions.models import Customer, Interaction, Message
from app.reviews import pack
from app.reviews.meetings import get_meeting
from app.reviews.models import ReviewCase
from app.surveys.models import SurveyResponse
from tests.conftest import BACKENDS, sign_in
from tests.fixtures.bad_inputs import generate

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "bad_inputs"
MANIFEST: list[dict[str, Any]] = yaml.safe_load((CORPUS / "manifest.yaml").read_text(encoding="utf-8"))
JOB_KINDS = {"chats_job": "chats", "social_job": "social", "emails_job": "emails"}
SUFFIX = {"chats_job": ".csv", "social_job": ".json", "emails_job": ".eml", "emails_upload": ".eml",
          "recording": ".wav", "survey_csv": ".csv"}
SURVEY_IMPORTERS = {"survey_csv"}


def _touches_database(entry: dict[str, Any], importer: str) -> bool:
    """Refusals decided before anything is read from or written to the database (request limits, parsing,
    audio probing) are the same on both backends: they run on SQLite only."""
    return entry["expect"]["outcome"] != "refused" or importer in JOB_KINDS or importer in SURVEY_IMPORTERS


def _cases() -> list[Any]:
    cases = []
    for entry in MANIFEST:
        name = entry.get("file") or entry["generated"]
        for importer in entry["importers"]:
            marks = [pytest.mark.slow] if name == "chats_10k_csv" else []
            for backend in BACKENDS if _touches_database(entry, importer) else ["sqlite"]:
                cases.append(pytest.param(entry, importer, backend, id=f"{backend}-{name}-{importer}", marks=marks))
    return cases


@pytest.fixture(scope="session")
def generated() -> dict[str, bytes]:
    return {}


def _input(entry: dict[str, Any], cache: dict[str, bytes]) -> tuple[str, bytes]:
    if "file" in entry:
        return entry["file"], (CORPUS / entry["file"]).read_bytes()
    name = entry["generated"]
    if name not in cache:
        cache[name] = getattr(generate, name)()
    filename = next((n for n, f in generate.GENERATORS.items() if f.__name__ == name), name)
    return filename, cache[name]


@dataclass
class Outcome:
    status: int  # HTTP status of the request (for a background import: 200 when the job ran)
    report: dict[str, Any] | None = None
    error: str | None = None


class World:
    """An admin signed in, an API token, a survey source: what the importers need."""

    def __init__(self, client: Any, session: Any, settings: Any, importer: str) -> None:
        self.client, self.session, self.settings = client, session, settings
        sign_in(client, "admin")
        if importer.startswith("webhook"):
            self.token = client.post("/api/tokens", json={"name": "bad-inputs"}).json()["token"]
        if importer in SURVEY_IMPORTERS:
            self.source_id = client.post("/api/surveys/sources", json={"name": "bad-inputs"}).json()["id"]

    def send(self, importer: str, filename: str, data: bytes) -> Outcome:
        client = self.client
        if importer in SUFFIX and Path(filename).suffix in (".zip", ".gz"):  # an archive named as the importer expects
            filename = Path(filename).stem + SUFFIX[importer]
        if importer in JOB_KINDS:
            response = client.post(f"/api/imports/{JOB_KINDS[importer]}/upload",
                                   files={"file": (filename, data, "application/octet-stream")})
            if response.status_code != 202:
                return Outcome(response.status_code, error=response.text)
            job = client.get(f"/api/jobs/{response.json()['job_id']}").json()
            assert job["status"] in ("done", "failed"), f"a bad file must not leave a job to retry: {job}"
            return Outcome(200, report=job["result"], error=job["error"])
        if importer == "emails_upload":
            response = client.post("/api/emails/upload", files={"files": (filename, data, "message/rfc822")})
        elif importer == "recording":
            metadata = {"external_id": "rec-1", "started_at": "2026-09-17T09:00:00+00:00"}
            response = client.post("/api/recordings", files={"file": (filename, data, "audio/wav")},
                                   data={"metadata": json.dumps(metadata)})
        elif importer == "survey_csv":  # a job, like the other file imports; unreadable files refused at once
            response = client.post(f"/api/surveys/sources/{self.source_id}/upload",
                                   files={"file": (filename, data, "text/csv")})
            if response.status_code == 202:
                job = client.get(response.json()["url"]).json()
                assert job["status"] in ("done", "failed"), f"a bad file must not leave a job to retry: {job}"
                return Outcome(200, report=job["result"], error=job["error"])
        elif importer == "scorecard_yaml":
            response = client.post("/api/scorecards/import", json={"yaml": data.decode("utf-8")})
        else:
            path = {"chats_api": "/api/chats", "chats_api_gzip": "/api/chats", "social_api": "/api/social",
                    "social_api_gzip": "/api/social", "webhook": "/api/webhooks/interactions",
                    "webhook_gzip": "/api/webhooks/interactions"}[importer]
            headers = {"content-type": "application/json"}
            if importer.endswith("_gzip"):
                headers["content-encoding"] = "gzip"
            if importer.startswith("webhook"):
                headers["authorization"] = f"Bearer {self.token}"
            response = client.post(path, content=data, headers=headers)
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        if response.status_code < 300 and "error" not in body:
            if "interaction_id" in body:  # the webhook answers for its one interaction
                body = {"created": int(body["status"] == "created"), "rejected": []}
            return Outcome(response.status_code, report=body)
        return Outcome(response.status_code, error=json.dumps(body.get("error", body)))

    def count(self, importer: str) -> int:
        table = SurveyResponse if importer in SURVEY_IMPORTERS else Interaction
        return int(self.session.exec(select(func.count()).select_from(table)).one())

    def stored_text(self, importer: str) -> str:
        if importer in SURVEY_IMPORTERS:
            return "\n".join(r.comment or "" for r in self.session.exec(select(SurveyResponse)).all())
        parts: list[str] = []
        for message in self.session.exec(select(Message)).all():
            parts += [message.text, message.author_name or "", message.subject or "", message.author_handle or ""]
        parts += [i.subject or "" for i in self.session.exec(select(Interaction)).all()]
        parts += [c.display_name or "" for c in self.session.exec(select(Customer)).all()]
        return "\n".join(parts)


def _reasons(expect: dict[str, Any]) -> list[str]:
    reason = expect.get("reason")
    return [] if reason is None else [reason] if isinstance(reason, str) else list(reason)


def _expected_lines(expect: dict[str, Any]) -> list[int]:
    rejected = expect.get("rejected", [])
    return sorted(getattr(generate, rejected)()) if isinstance(rejected, str) else rejected


def _assert_refused(outcome: Outcome, expect: dict[str, Any]) -> None:
    assert outcome.error, f"expected a refusal, got {outcome}"
    if "status" in expect:
        assert outcome.status == expect["status"], outcome
    else:
        assert 400 <= outcome.status < 500 or outcome.status == 200, outcome
    for reason in _reasons(expect):
        assert reason.lower() in outcome.error.lower(), outcome.error


def _assert_report(outcome: Outcome, expect: dict[str, Any], *, first_run: bool) -> None:
    assert outcome.report is not None and outcome.status < 300, outcome
    report = outcome.report
    assert report["created"] == (expect.get("created", 0) if first_run else 0), report
    lines = sorted({r["line"] for r in report["rejected"]})
    assert lines == _expected_lines(expect), report["rejected"]
    if isinstance(expect.get("rejected"), str):  # the generated file says what is wrong with each line
        wrong = getattr(generate, expect["rejected"])()
        for rejected in report["rejected"]:
            assert wrong[rejected["line"]].lower() in rejected["reason"].lower(), rejected
    for reason in _reasons(expect):  # the reason the manifest names is given for at least one bad line
        assert any(reason.lower() in r["reason"].lower() for r in report["rejected"]), report["rejected"]


@pytest.fixture
def people(make_user):
    """The admin who imports, and the agent the chat files name."""
    return make_user("admin", username="admin"), make_user("agent", username="ada")


@pytest.mark.parametrize(("entry", "importer", "backend"), _cases())
def test_bad_input(entry, importer, backend, client, session, settings, people, generated):
    world = World(client, session, settings, importer)
    filename, data = _input(entry, generated)
    expect = entry["expect"]
    before = world.count(importer)

    outcome = world.send(importer, filename, data)
    assert outcome.status < 500, outcome

    if expect["outcome"] == "refused" or (expect["outcome"] == "rejected_or_refused" and outcome.report is None):
        _assert_refused(outcome, expect)
        assert world.count(importer) == before, "a refused input must leave nothing behind"
        return
    _assert_report(outcome, expect, first_run=True)
    assert world.count(importer) == before + expect.get("created", 0)
    stored = world.stored_text(importer)
    for text in expect.get("contains", []):
        assert text in stored, f"{text!r} was not kept"
    for text in expect.get("absent", []):
        assert text not in stored, f"{text!r} was stored"

    again = world.send(importer, filename, data)
    _assert_report(again, expect, first_run=False)
    assert world.count(importer) == before + expect.get("created", 0), "a re-run must not duplicate"

    if expect.get("xss"):
        for path in _pages_showing(world, importer):
            _assert_escaped(client.get(path), path)
        if importer in SURVEY_IMPORTERS:
            _assert_pack_escaped(world)


# ---------------------------------------------------------------- pages that show untrusted text


def _pages_showing(world: World, importer: str) -> list[str]:
    session = world.session
    pages = ["/search?q=alert", "/search?q=script"]
    if importer in SURVEY_IMPORTERS:
        pages += ["/surveys", "/surveys/unlinked", "/reviews"]
        pages += [f"/reviews/cases/{case.id}" for case in session.exec(select(ReviewCase)).all()]
        return pages
    for interaction in session.exec(select(Interaction)).all():
        pages.append(f"/interactions/{interaction.id}")
        if interaction.customer_id is not None:
            pages.append(f"/customers/{interaction.customer_id}")
        if interaction.channel == "social":
            pages += [f"/social/threads/{interaction.id}", "/social", "/care"]
    return pages


class _LiveCode(HTMLParser):
    """Finds markup that would run: inline scripts, event-handler attributes, javascript: URLs, frames,
    refreshes and CSS expressions."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: (value or "") for name, value in attrs}
        if tag == "script" and not values.get("src"):
            self.found.append("inline <script>")
        if tag in ("iframe", "object", "embed") or (tag == "meta" and values.get("http-equiv", "").lower() == "refresh"):
            self.found.append(f"<{tag}>")
        for name, value in values.items():
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if name in ("href", "src", "action", "formaction") and value.strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:...>")
            if name == "style" and "expression(" in value.lower():
                self.found.append(f"<{tag} style=expression(...)>")


def _assert_escaped(response: Any, path: str) -> None:
    assert response.status_code == 200, (path, response.status_code)
    assert "script-src 'self'" in response.headers["content-security-policy"], path
    checker = _LiveCode()
    checker.feed(response.text)
    assert checker.found == [], (path, checker.found)


def _assert_pack_escaped(world: World) -> None:
    """The review meeting pack (rendered to PDF by WeasyPrint) escapes survey comments too."""
    cases = world.session.exec(select(ReviewCase)).all()
    assert cases, "the bad survey rows open review cases"
    meeting = world.client.post("/api/reviews/meetings", json={
        "period": cases[0].period, "held_on": "2026-12-01", "case_ids": [c.id for c in cases]})
    assert meeting.status_code == 201, meeting.text
    reviewed = get_meeting(session=world.session, meeting_id=meeting.json()["id"])
    settings = world.settings
    context = pack.pack_context(session=world.session, meeting=reviewed)
    html = make_templates(str(settings.frontend_dir / "templates"), settings.display_timezone).env.get_template(
        "reviews/pack.html").render(**context)
    checker = _LiveCode()
    checker.feed(html)
    assert checker.found == [] and "&lt;script&gt;alert(" in html, checker.found


def test_manifest_describes_every_corpus_file():
    """Each checked-in input has a manifest entry saying what it is, where it goes and what must happen."""
    listed = {entry["file"] for entry in MANIFEST if "file" in entry}
    tooling = {"manifest.yaml", "README.md", "__init__.py", "generate.py", ".gitattributes"}
    on_disk = {p.name for p in CORPUS.iterdir() if p.is_file() and p.name not in tooling}
    assert listed == on_disk
    generated = {entry["generated"] for entry in MANIFEST if "generated" in entry}
    assert generated <= {f.__name__ for f in generate.GENERATORS.values()}
    assert all(entry.get("what") and entry.get("importers") and entry.get("expect") for entry in MANIFEST)




@pytest.mark.parametrize("path", ["/api/teams", "/api/sites"])
def test_nul_in_an_api_body_is_a_clear_answer_never_a_500(path, client, make_user, backend):
    """Bodies outside the importers are not cleaned: a NUL is stored by SQLite, and PostgreSQL's refusal is
    a 422 naming the problem (it was a 500)."""
    make_user("admin", username="root")
    sign_in(client, "root")
    response = client.post(path, json={"name": "Billing\x00 <script>alert(1)</script>"})
    if backend == "sqlite":
        assert response.status_code == 201, response.text
    else:
        assert response.status_code == 422, response.text
        assert "cannot contain NUL" in response.json()["error"]["message"]


def test_drop_folder_moves_bad_audio_to_failed_with_the_reason_and_keeps_the_good(session, settings, tmp_path,
                                                                                 generated, backend):
    """The watched drop folder (earshot watch / connect watch): archives, pages and truncated audio named
    .wav go to failed/ with a .error.txt naming the problem; the good recording beside them is ingested."""
    from app.connectors import watch

    drop = tmp_path / "drop"
    drop.mkdir()
    bad = {"bomb.wav": generate.zip_bomb(), "page.wav": (CORPUS / "audio_is_html.wav").read_bytes(),
           "half.wav": generate.wav_cut_in_half(), "good.wav": generate.good_wav()}
    for number, (name, data) in enumerate(bad.items()):
        (drop / name).write_bytes(data)
        (drop / name).with_suffix(".json").write_text(json.dumps({
            "external_id": f"drop-{number}", "started_at": "2026-09-17T09:00:00+00:00", "channel_map": "mixed"}))
        (drop / f"{name}.done").write_text("")
    result = watch.scan(session=session, settings=settings, queue=None, directory=drop, settle_seconds=0)
    assert result.ingested == ["good.wav"]
    assert "ZIP archive" in result.failed["bomb.wav"] and "HTML page" in result.failed["page.wav"]
    assert "truncated" in result.failed["half.wav"]
    assert "ZIP archive" in (drop / "failed" / "bomb.error.txt").read_text()
    assert int(session.exec(select(func.count()).select_from(Interaction)).one()) == 1
