"""The admin pages as people read them: jobs and audit without raw JSON, uploading a recording."""

import io
import math
import struct
import wave

from app.core import audit
from app.core.models import Job
from tests.conftest import sign_in


def _wav(seconds: float = 1.0, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i / 8))) for i in range(int(seconds * rate))))
    return out.getvalue()


def test_jobs_and_audit_read_without_json(client, session, make_user):
    admin = make_user("admin", username="root")
    session.add(Job(kind="speech.transcribe", status="done", progress=1.0, progress_message="Saving the transcript",
                    result={"segments": 12, "language": "en"}, created_by=admin.id))
    audit.record(session=session, actor=None, action="evaluation.submit", record_type="evaluation", record_id=7,
                 before={"state": "draft", "score": None}, after={"state": "submitted", "score": 82.5})
    session.commit()
    sign_in(client, "root")
    jobs = client.get("/jobs").text
    assert "Transcribe a recording" in jobs and "Finished" in jobs and "Saving the transcript" not in jobs
    assert "segments: 12" in jobs and '{"segments"' not in jobs
    page = client.get("/admin/audit").text
    assert "evaluation · submit" in page
    assert '<tr class="changed"><td>state</td><td>draft</td><td>submitted</td></tr>' in page
    assert "<td>score</td><td>—</td><td>82.5</td>" in page and '{"state"' not in page


def test_every_job_kind_reads_in_words_and_an_unknown_one_still_shows():
    from app.core.jobs import JobKind
    from app.system.views import job_label

    labels = [job_label(kind.value) for kind in JobKind]
    assert len(set(labels)) == len(labels) and not any("." in label or "_" in label for label in labels)
    assert job_label("legacy.old_task") == "Legacy: old task"


def test_admin_uploads_a_recording_from_the_browser(client, session, make_user):
    make_user("admin", username="root")
    make_user("agent", username="ada")
    sign_in(client, "root")
    form = client.get("/admin/recordings/upload")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    fields = {"started_at": "2026-11-20T09:30", "agent": "ada", "customer_name": "Jo Bloggs", "layout": "mixed"}
    bad = client.post("/admin/recordings/upload", data=fields,
                      files={"file": ("notes.wav", b"this is not audio", "audio/wav")})
    assert bad.status_code == 422 and 'role="alert"' in bad.text and "Jo Bloggs" in bad.text  # nothing lost
    done = client.post("/admin/recordings/upload", data=fields, files={"file": ("call.wav", _wav(), "audio/wav")},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("/interactions/")
    call = client.get(done.headers["location"]).text
    assert "<h2>Recording</h2>" in call and "0:01" in call
    make_user("agent", username="ben")
    sign_in(client, "ben")
    assert client.get("/admin/recordings/upload", headers={"accept": "text/html"}).status_code in (403, 404)


def test_api_docs_and_favicon_are_served_locally(client):
    page = client.get("/docs")
    assert page.status_code == 200 and "/docs/assets/swagger-ui-bundle.js" in page.text
    assert "<script>" not in page.text and "cdn" not in page.text.lower()  # the CSP allows neither
    script = client.get("/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.text[:200000]
    assert client.get("/docs/assets/secrets.py").status_code in (404, 422)
    assert client.get("/static/docs-init.js").status_code == 200
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
