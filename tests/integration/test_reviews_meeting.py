"""The review meeting: walk mode (order, next/previous, resume, decisions recorded in place) and the PDF
meeting pack rendered by the job, checked with pdftotext."""

import re
import subprocess

import pytest
from sqlmodel import select

from app.core.models import AuditEvent, Job
from app.interactions.models import Segment
from app.reviews.models import ReviewCase
from app.surveys import service as surveys
from app.surveys.imports import import_csv
from tests.conftest import sign_in
from tests.fixtures.surveys.support import make_customer, make_interaction, read


@pytest.fixture
def meeting_world(session, make_user):
    ada = make_user("agent", username="ada", team="Billing", site="Downtown shop")
    make_user("agent", username="cara", team="Technical", site="Downtown shop")
    maria = make_customer(session, "Maria Lopez", email="maria.lopez@example.com")
    call = make_interaction(session, "call-001", "2026-11-02T09:00:00", customer=maria, agent_id=ada.id)
    session.add(Segment(interaction_id=call.id, seq=0, speaker="customer", start=0.0, end=4.0,
                        text="My broadband drops every evening",
                        redacted_text="My broadband drops every evening"))  # as the speech pipeline stores it
    source = surveys.create_source(session=session, name="demo", actor=None)
    import_csv(session=session, source=source, text=read("basic.csv"), actor=None)
    for case in session.exec(select(ReviewCase)).all():
        case.status = "ready_for_meeting"
        session.add(case)
    session.commit()
    make_user("executive", username="erin")
    cases = {session.get(surveys.SurveyResponse, c.survey_response_id).response_id: c.id
             for c in session.exec(select(ReviewCase)).all()}
    return cases


def _user_id(session, username):
    from app.auth.service import get_user_by_username

    return get_user_by_username(session=session, username=username).id


def _walk(client, meeting_id, pos=None):
    params = {} if pos is None else {"pos": pos}
    return client.get(f"/reviews/meetings/{meeting_id}", params=params, headers={"accept": "text/html"})


def test_walk_mode_in_order_with_decision_in_place(client, session, meeting_world):
    sign_in(client, "erin")
    created = client.post("/api/reviews/meetings", json={
        "period": "2026-11", "held_on": "2026-12-03", "attendees": ["Erin", "Alex"],
        "case_ids": [meeting_world["r7"], meeting_world["r2"]]})
    assert created.status_code == 201, created.text
    meeting_id = created.json()["id"]
    first = _walk(client, meeting_id)
    assert first.status_code == 200
    assert "Case 1 of 2" in first.text and "Rude agent in the shop" in first.text and 'rel="next"' in first.text
    second = _walk(client, meeting_id, pos=1)
    assert "Case 2 of 2: Case" in second.text and "Maria Lopez" in second.text
    assert "broadband is still down" in second.text and 'rel="prev"' in second.text
    assert "/interactions/" in second.text and "My broadband drops every evening" in second.text
    assert "Case 2 of 2" in _walk(client, meeting_id).text  # resumes where the walk was
    token = client.headers["x-csrf-token"]
    decided = client.post(f"/reviews/cases/{meeting_world['r2']}/decision", data={
        "csrf_token": token, "root_cause": "business flow", "secondary_causes": ["staff knowledge"],
        "decision": "Fault call-backs within 24 h", "next": f"/reviews/meetings/{meeting_id}?pos=1"},
        follow_redirects=False)
    assert decided.status_code == 303 and decided.headers["location"].startswith(f"/reviews/meetings/{meeting_id}")
    action = client.post(f"/reviews/cases/{meeting_world['r2']}/actions", data={
        "csrf_token": token, "kind": "retrain_staff", "agent_id": str(_user_id(session, "ada")), "topic": "fault call-backs",
        "due_date": "2026-12-20", "next": f"/reviews/meetings/{meeting_id}?pos=1"}, follow_redirects=False)
    assert "error" not in action.headers["location"], action.headers["location"]
    page = _walk(client, meeting_id, pos=1).text
    assert "business flow" in page and "fault call-backs" in page
    case = session.get(ReviewCase, meeting_world["r2"])
    session.refresh(case)
    assert case.status == "decided"
    audited = {e.action for e in session.exec(select(AuditEvent).where(AuditEvent.actor_name == "Erin")).all()}
    assert {"review_meeting.create", "review_case.decision", "review_action.create"} <= audited
    minutes = client.put(f"/api/reviews/meetings/{meeting_id}/minutes", json={"minutes": "Agreed two actions."})
    assert minutes.json()["minutes"] == "Agreed two actions."


def test_meeting_pack_pdf(client, session, meeting_world, tmp_path):
    sign_in(client, "erin")
    meeting_id = client.post("/api/reviews/meetings", json={"period": "2026-11", "held_on": "2026-12-03"}).json()["id"]
    assert client.get(f"/api/reviews/meetings/{meeting_id}/pack.pdf").status_code == 404
    minutes = "Agreed: disclose the exit fee at sign-up.\nRetrain the shop team on the router swap."
    assert client.put(f"/api/reviews/meetings/{meeting_id}/minutes", json={"minutes": minutes}).status_code == 200
    started = client.post(f"/api/reviews/meetings/{meeting_id}/pack")
    assert started.status_code == 202, started.text
    job = session.get(Job, started.json()["job_id"])
    session.refresh(job)
    assert job.status == "done", job.error
    assert job.result["cases"] == 2 and job.result["size"] > 1000
    download = client.get(f"/api/reviews/meetings/{meeting_id}/pack.pdf")
    assert download.status_code == 200 and download.content.startswith(b"%PDF")
    pdf = tmp_path / "pack.pdf"
    pdf.write_bytes(download.content)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Survey figures 2026-11" in text
    assert "Maria Lopez" in text and "broadband is still down" in text and "drops every evening" in text and "Rude agent in the shop" in text
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf)], capture_output=True,
                                                             text=True, check=True).stdout).group(1))
    assert 4 <= pages <= 8  # cover, 2 cases, actions table (the cover may spill onto a second page)
    assert f"Page 1 of {pages}" in text and f"Page {pages} of {pages}" in text
    assert "Customer review meeting 2026-11" in text  # the running header
    assert "Minutes" in text and "disclose the exit fee at sign-up" in text and "router swap" in text
    page = client.get(f"/reviews/meetings/{meeting_id}", headers={"accept": "text/html"}).text
    assert f"/reviews/meetings/{meeting_id}/pack.pdf" in page


def test_pages_render_and_home_panels(client, session, meeting_world, make_user):
    make_user("evaluator", username="eva")
    sign_in(client, "erin")
    home = client.get("/").text
    assert "Surveys 20" in home and "Bad-rating review cases" in home and "Review actions" in home
    for path in ("/reviews", "/reviews?status=ready_for_meeting&month=2026-11", "/reviews/actions",
                 "/reviews/actions?status=done", "/reviews/meetings", f"/reviews/cases/{meeting_world['r2']}"):
        page = client.get(path, headers={"accept": "text/html"})
        assert page.status_code == 200, path
    assert "Maria Lopez" in client.get("/reviews?month=2026-11").text
    created = client.post("/reviews/meetings", data={"csrf_token": client.headers["x-csrf-token"],
                                                      "period": "2026-11", "held_on": "2026-12-03",
                                                      "attendees": "Erin, Alex"}, follow_redirects=False)
    assert created.status_code == 303 and created.headers["location"].startswith("/reviews/meetings/")
    sign_in(client, "eva")
    case_page = client.get(f"/reviews/cases/{meeting_world['r2']}").text
    assert "Save findings" in case_page and "Record decision" not in case_page
    assert client.get("/reviews/meetings", headers={"accept": "text/html"}).status_code == 403
    saved = client.post(f"/reviews/cases/{meeting_world['r2']}/findings", data={
        "csrf_token": client.headers["x-csrf-token"], "staff_notes": "Talked to Ada", "customer_notes": ""},
        follow_redirects=False)
    assert saved.status_code == 303 and "message=" in saved.headers["location"]
    assert session.get(ReviewCase, meeting_world["r2"]).staff_notes == "Talked to Ada"


def test_meeting_page_shows_its_own_pack_job_after_another_meeting_rendered(client, session, meeting_world):
    from app.core.jobs import JobKind

    sign_in(client, "erin")
    first, second = (client.post("/api/reviews/meetings", json={"period": period, "held_on": held_on}).json()["id"]
                     for period, held_on in (("2026-11", "2026-12-03"), ("2026-10", "2026-11-05")))
    ours = Job(kind=JobKind.REVIEWS_MEETING_PACK, payload={"meeting_id": first}, status="done", progress=1.0,
               progress_message="pack of the first meeting")
    session.add(ours)
    session.commit()
    newer = Job(kind=JobKind.REVIEWS_MEETING_PACK, payload={"meeting_id": second}, status="running",
                progress_message="pack of the second meeting")
    session.add(newer)
    session.commit()
    first_page, second_page = _walk(client, first).text, _walk(client, second).text
    assert f"Pack job {ours.id}:" in first_page and "pack of the first meeting" in first_page
    assert f"Pack job {newer.id}:" not in first_page
    assert f"Pack job {newer.id}:" in second_page and "pack of the first meeting" not in second_page


def test_meeting_pack_draws_chinese_text_with_a_chinese_font(client, session, meeting_world, tmp_path):
    """A Hong Kong customer's words reach the pack as characters, not as empty boxes: the PDF names a CJK font
    (fonts-noto-cjk, installed by `make setup`) and pdftotext reads the words back."""
    call = session.exec(select(Segment)).first()
    session.add(Segment(interaction_id=call.interaction_id, seq=1, speaker="customer", start=4.0, end=8.0,
                        text="我的寬頻每晚都斷線", redacted_text="我的寬頻每晚都斷線"))
    session.commit()
    sign_in(client, "erin")
    meeting_id = client.post("/api/reviews/meetings", json={"period": "2026-11", "held_on": "2026-12-03"}).json()["id"]
    job = session.get(Job, client.post(f"/api/reviews/meetings/{meeting_id}/pack").json()["job_id"])
    session.refresh(job)
    assert job.status == "done", job.error
    pdf = tmp_path / "pack.pdf"
    pdf.write_bytes(client.get(f"/api/reviews/meetings/{meeting_id}/pack.pdf").content)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "寬頻每晚都斷線" in text
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "CJK" in fonts, fonts
