"""What a survey import changes: a column a file does not have never changes the stored value, an empty cell
clears a field only where the source says so, and the invitations file and the responses file give the same
state in any order, any number of times — on SQLite and PostgreSQL."""

import csv
import io
import itertools
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlmodel import Session, select

from app.reviews.models import ReviewCase
from app.surveys import service
from app.surveys.imports import import_csv, ingest_webhook, sign
from app.surveys.models import SurveyResponse, SurveyResponseInteraction, SurveySource
from tests.fixtures.surveys.support import make_customer, make_interaction

# One month of truth, cut into files by column groups.
TRUTH: list[dict[str, str]] = [
    {"response_id": "r1", "invited_at": "2026-11-02T10:00:00+00:00", "responded_at": "2026-11-02T12:00:00+00:00",
     "rating": "good", "score": "", "customer_email": "maria.lopez@example.com", "customer_phone": "",
     "interaction_external_id": "call-001", "interaction_source": "demo", "agent": "ada", "channel": "call",
     "comment": "Lovely service"},
    {"response_id": "r2", "invited_at": "2026-11-03T10:00:00+00:00", "responded_at": "2026-11-03T11:00:00+00:00",
     "rating": "bad", "score": "", "customer_email": "Maria.Lopez@Example.com", "customer_phone": "",
     "interaction_external_id": "", "interaction_source": "", "agent": "", "channel": "",
     "comment": "Nobody called back"},
    {"response_id": "r3", "invited_at": "2026-11-04T10:00:00+00:00", "responded_at": "", "rating": "", "score": "",
     "customer_email": "", "customer_phone": "07700 900123", "interaction_external_id": "",
     "interaction_source": "", "agent": "ben", "channel": "chat", "comment": ""},
    {"response_id": "r4", "invited_at": "", "responded_at": "2026-11-02T13:00:00+00:00", "rating": "",
     "score": "2", "customer_email": "", "customer_phone": "+44 7700 900123", "interaction_external_id": "",
     "interaction_source": "", "agent": "", "channel": "", "comment": "Too slow"},
]
GROUPS: dict[str, tuple[str, ...]] = {
    "invited": ("invited_at",), "answer": ("responded_at", "rating", "score"), "email": ("customer_email",),
    "phone": ("customer_phone",), "named": ("interaction_external_id", "interaction_source"),
    "agent": ("agent",), "channel": ("channel",), "comment": ("comment",),
}
INPUTS = ("invited_at", "responded_at", "customer_email", "customer_phone", "interaction_external_id",
          "interaction_source", "channel", "agent_username", "shop", "band", "raw_score", "scale", "comment")
DERIVED = ("customer_id", "agent_id", "team_id", "site_id", "interaction_id", "link_status", "link_reason",
           "link_method")
INVITATIONS = ("invited", "email", "phone", "agent", "channel", "named")
RESPONSES = ("answer", "comment", "named")


@pytest.fixture
def month(session, make_user):
    ada = make_user("agent", username="ada", team="Billing", site="Downtown shop")
    make_user("agent", username="ben", team="Billing", site="Riverside shop")
    maria = make_customer(session, "Maria Lopez", email="maria.lopez@example.com", phone="+447700900123")
    make_interaction(session, "call-001", "2026-11-02T09:00:00", customer=maria, agent_id=ada.id)
    make_interaction(session, "chat-007", "2026-11-01T15:00:00", channel="chat", customer=maria, agent_id=ada.id)
    session.flush()
    return {"sources": itertools.count(1)}


def csv_of(groups: tuple[str, ...] | frozenset[str]) -> str:
    columns = ["response_id"] + [c for g in sorted(groups) for c in GROUPS[g]]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(TRUTH)
    return out.getvalue()


def new_source(session: Session, month: dict[str, Any]) -> SurveySource:
    return service.create_source(session=session, name=f"merge-{next(month['sources'])}", actor=None)


def state(session: Session, source: SurveySource) -> dict[str, dict[str, Any]]:
    """Every stored value of the source's responses (inputs, derived people and links, link rows)."""
    session.flush()
    result = {}
    for response in session.exec(select(SurveyResponse).where(SurveyResponse.source_id == source.id)).all():
        values = {name: getattr(response, name) for name in (*INPUTS, *DERIVED)}
        for name in ("invited_at", "responded_at"):
            values[name] = values[name] and values[name].replace(tzinfo=None).isoformat()
        values["links"] = sorted(session.exec(select(SurveyResponseInteraction.interaction_id).where(
            SurveyResponseInteraction.response_id == response.id)).all())
        values["cases"] = len(session.exec(select(ReviewCase).where(ReviewCase.survey_response_id == response.id)).all())
        result[response.response_id] = values
    return result


def deliver(session: Session, source: SurveySource, groups: frozenset[str]) -> None:
    """The same columns as signed webhook deliveries (one JSON object per row, only the file's keys)."""
    columns = ["response_id"] + [c for g in sorted(groups) for c in GROUPS[g]]
    body = json.dumps({"responses": [{c: row[c] for c in columns} for row in TRUTH]}).encode()
    ingest_webhook(session=session, source_name=source.name, body=body,
                   signature=sign(source.webhook_secret, body))


def imported(session: Session, month: dict[str, Any], files: list[frozenset[str]],
             by_webhook: list[bool] | None = None) -> dict[str, dict[str, Any]]:
    source = new_source(session, month)
    for number, groups in enumerate(files):
        if by_webhook and by_webhook[number % len(by_webhook)]:
            deliver(session, source, groups)
        else:
            import_csv(session=session, source=source, text=csv_of(groups), actor=None)
    return state(session, source)


def test_invitations_and_responses_in_either_order_and_twice_end_the_same(session, month):
    invitations, responses = frozenset(INVITATIONS), frozenset(RESPONSES)
    both = imported(session, month, [invitations | responses])
    assert both["r1"]["band"] == "good" and both["r1"]["invited_at"] == "2026-11-02T10:00:00"
    assert both["r4"]["band"] == "bad" and both["r4"]["invited_at"] is None
    for order in ([invitations, responses], [responses, invitations], [responses, invitations, responses],
                  [invitations, invitations, responses, responses], [responses, responses, invitations]):
        assert imported(session, month, order) == both, order


def test_invitations_after_responses_keep_every_answer(session, month):
    source = new_source(session, month)
    import_csv(session=session, source=source, text=csv_of(frozenset(RESPONSES)), actor=None)
    report = import_csv(session=session, source=source, text=csv_of(frozenset(INVITATIONS)), actor=None)
    assert report.rejected == []
    after = state(session, source)
    assert [after[r]["band"] for r in ("r1", "r2", "r4")] == ["good", "bad", "bad"]
    assert after["r2"]["comment"] == "Nobody called back" and after["r2"]["responded_at"] == "2026-11-03T11:00:00"
    again = import_csv(session=session, source=source, text=csv_of(frozenset(RESPONSES)), actor=None)
    assert (again.created, again.updated) == (0, 0)  # and the answers blank no invitation
    assert state(session, source)["r1"]["invited_at"] == "2026-11-02T10:00:00"


def test_an_empty_cell_clears_only_where_the_source_says_so(session, month):
    source = new_source(session, month)
    import_csv(session=session, source=source, text=csv_of(frozenset(INVITATIONS) | set(RESPONSES)),
               actor=None)
    emptied = "response_id,comment,channel\nr1,,\n"
    assert import_csv(session=session, source=source, text=emptied, actor=None).rejected[0].line == 2
    kept = state(session, source)["r1"]
    assert (kept["comment"], kept["channel"]) == ("Lovely service", "call")
    assert source.id is not None
    service.update_source(session=session, source_id=source.id, actor=None, clear_when_empty=["comment"])
    report = import_csv(session=session, source=source, text=emptied, actor=None)
    assert report.updated == 1
    cleared = state(session, source)["r1"]
    assert (cleared["comment"], cleared["channel"]) == (None, "call")


def test_a_webhook_delivery_changes_only_the_keys_it_sends(session, month):
    source = new_source(session, month)
    import_csv(session=session, source=source, text=csv_of(frozenset(INVITATIONS)), actor=None)
    body = json.dumps({"response_id": "r3", "responded_at": "2026-11-04T12:00:00Z", "rating": "acceptable"}).encode()
    ingest_webhook(session=session, source_name=source.name, body=body,
                   signature=sign(source.webhook_secret, body))
    r3 = state(session, source)["r3"]
    assert r3["band"] == "acceptable" and r3["invited_at"] == "2026-11-04T10:00:00"
    assert r3["customer_phone"] == "+447700900123" and r3["agent_username"] == "ben"


FILES = st.lists(st.frozensets(st.sampled_from(sorted(GROUPS)), min_size=1), min_size=1, max_size=4)
PATHS = st.lists(st.booleans(), min_size=1, max_size=4)


@given(files=FILES, by_webhook=PATHS)
@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_files_in_any_order_give_the_state_of_their_columns(session, month, files, by_webhook):
    """Property: whatever columns each file has, whatever the order (repeats included) and whether it comes as
    a CSV upload or as webhook deliveries, the result is the truth for every column some file had, nothing for
    the others, and the same as one CSV with all of them."""
    result = imported(session, month, files, by_webhook)
    union = frozenset().union(*files)
    assert result == imported(session, month, [union])
    reordered = list(reversed(files)) + files[:1]
    assert imported(session, month, reordered) == result
    columns = {c for g in union for c in GROUPS[g]}
    for response_id, values in result.items():
        truth = next(t for t in TRUTH if t["response_id"] == response_id)
        if "comment" not in columns or not truth["comment"]:
            assert values["comment"] is None
        else:
            assert values["comment"] == truth["comment"]
        if "invited_at" in columns and truth["invited_at"]:
            assert values["invited_at"] == truth["invited_at"][:19]
        else:
            assert values["invited_at"] is None
        if "answer" not in union:
            assert values["band"] is None and values["responded_at"] is None


def test_the_sources_page_saves_fixed_values_and_the_fields_empty_cells_clear(client, session, make_user):
    from tests.conftest import sign_in

    admin = make_user("admin")
    sign_in(client, admin.username)
    token = client.headers["x-csrf-token"]
    client.post("/surveys/sources", data={"csrf_token": token, "name": "form"})
    source = service.get_source_by_name(session=session, name="form")
    assert source is not None
    saved = client.post(f"/surveys/sources/{source.id}", data={
        "csrf_token": token, "mapping": "response_id = Id\ninteraction_external_id = Call\n"
                                        "interaction_source = =genesys\ncomment = Remarks\n",
        "clear_when_empty": "comment, channel"})
    assert saved.status_code == 200 and "Source saved" in saved.text
    session.refresh(source)
    assert source.column_mapping["interaction_source"] == "=genesys"
    assert source.clear_when_empty == ["channel", "comment"]
    assert 'value="channel, comment"' in client.get("/surveys/sources").text
