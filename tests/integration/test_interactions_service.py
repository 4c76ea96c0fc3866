"""Identities, merging and undo, idempotent upserts, legs, timeline and scope (SQLite and PostgreSQL)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from app.auth.service import principal_of
from app.core.errors import NotFound
from app.core.models import AuditEvent
from app.interactions import customers, service
from app.interactions.customers import normalise_identity
from app.interactions.models import Customer, CustomerIdentity, InteractionLeg
from app.interactions.service import InteractionData, LegData, MessageData

T0 = datetime(2026, 9, 14, 9, 30, tzinfo=UTC)


def ident(kind, value, platform=""):
    return normalise_identity(kind, value, platform)


def chat(external_id, *, customer_id=None, agent_id=None, text="my broadband keeps dropping", at=T0):
    return InteractionData(source="test", external_id=external_id, channel="chat", started_at=at,
                           customer_id=customer_id, agent_id=agent_id, messages=[
                               MessageData(external_id="m1", author_role="customer", sent_at=at, text=text),
                               MessageData(external_id="m2", author_role="agent", sent_at=at + timedelta(minutes=1),
                                           text="Let me check the line", agent_id=agent_id)])


def test_resolve_customer_finds_or_creates_by_normalised_identity(session):
    maria = customers.resolve_customer(session=session, identities=[ident("phone", "07700 900123")],
                                     display_name="Maria Lopez")
    again = customers.resolve_customer(session=session, identities=[ident("phone", "+44 7700 900123"),
                                                                  ident("email", "Maria.Lopez@example.com")])
    assert again.id == maria.id
    found = customers.find_customer_by_identity(session=session, kind="email", value="MARIA.LOPEZ@EXAMPLE.COM")
    assert found is not None and found.id == maria.id
    assert customers.resolve_customer(session=session, identities=[]) is None


def test_identities_that_meet_merge_customers_and_undo_restores(session, make_user):
    agent = make_user("agent")
    by_phone = customers.resolve_customer(session=session, identities=[ident("phone", "07700 900123")],
                                        display_name="Maria")
    by_handle = customers.resolve_customer(session=session, identities=[ident("social", "@marial", "twitter")])
    assert by_phone.id != by_handle.id
    tweet, _ = service.upsert_interaction(session=session, data=chat("c-tweet", customer_id=by_handle.id,
                                                                     agent_id=agent.id))
    merged = customers.resolve_customer(session=session, identities=[ident("phone", "+447700900123"),
                                                                   ident("social", "MariaL", "twitter")])
    assert merged.id == by_phone.id
    session.refresh(by_handle)
    session.refresh(tweet)
    assert by_handle.merged_into_id == by_phone.id and tweet.customer_id == by_phone.id
    timeline = service.customer_timeline(session=session, customer_id=by_phone.id)
    assert [e.interaction.id for e in timeline] == [tweet.id]
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "customer.merge")).one()
    assert event.record_id == str(by_handle.id) and event.after["interaction_ids"] == [tweet.id]
    # a merged customer's identity resolves to the survivor
    assert customers.find_customer_by_identity(session=session, kind="social", value="@marial",
                                             platform="twitter").id == by_phone.id

    customers.undo_merge(session=session, customer_id=by_handle.id, actor=None)
    session.refresh(tweet)
    assert tweet.customer_id == by_handle.id
    handle_row = session.exec(select(CustomerIdentity).where(CustomerIdentity.value == "marial")).one()
    assert handle_row.customer_id == by_handle.id
    assert session.get(Customer, by_handle.id).merged_into_id is None
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "customer.unmerge")).one()


def test_upsert_is_idempotent_and_reports_changes(session, make_user):
    agent = make_user("agent")
    first, status = service.upsert_interaction(session=session, data=chat("c1", agent_id=agent.id))
    assert status == "created"
    again, status = service.upsert_interaction(session=session, data=chat("c1", agent_id=agent.id))
    assert (again.id, status) == (first.id, "unchanged")
    _, status = service.upsert_interaction(session=session, data=chat("c1", agent_id=agent.id, text="changed"))
    assert status == "updated"
    messages = service.interaction_messages(session=session, interaction_id=first.id)
    assert [m.text for m in messages] == ["changed", "Let me check the line"]


def test_transfer_legs_are_ordered_and_every_leg_agent_takes_part(session, make_user):
    ada, ben, cara = make_user("agent"), make_user("agent"), make_user("agent")
    data = InteractionData(source="test", external_id="call-t", channel="call", started_at=T0, legs=[
        LegData(agent_id=ada.id, queue="billing", started_at=T0),
        LegData(agent_id=ben.id, queue="billing", started_at=T0 + timedelta(seconds=60)),
        LegData(agent_id=cara.id, queue="technical", started_at=T0 + timedelta(seconds=120))])
    call, status = service.upsert_interaction(session=session, data=data)
    assert status == "created" and call.agent_id == cara.id
    legs = session.exec(select(InteractionLeg).where(InteractionLeg.interaction_id == call.id)
                        .order_by(InteractionLeg.seq)).all()
    assert [(leg.seq, leg.agent_id) for leg in legs] == [(1, ada.id), (2, ben.id), (3, cara.id)]
    assert service.upsert_interaction(session=session, data=data)[1] == "unchanged"
    # the first agent of the chain still sees the call they handled
    assert service.get_interaction(session=session, interaction_id=call.id, principal=principal_of(ada)).id == call.id


def test_scope_agent_sees_own_coach_team_evaluator_all(session, make_user):
    a = make_user("agent", team="Billing")
    b = make_user("agent", team="Technical")
    coach = make_user("coach", team="Billing")
    evaluator = make_user("evaluator")
    mine, _ = service.upsert_interaction(session=session, data=chat("a1", agent_id=a.id))
    theirs, _ = service.upsert_interaction(session=session, data=chat("b1", agent_id=b.id))
    assert service.get_interaction(session=session, interaction_id=mine.id, principal=principal_of(a))
    with pytest.raises(NotFound):
        service.get_interaction(session=session, interaction_id=theirs.id, principal=principal_of(a))
    with pytest.raises(NotFound):
        service.get_interaction(session=session, interaction_id=theirs.id, principal=principal_of(coach))
    assert service.get_interaction(session=session, interaction_id=mine.id, principal=principal_of(coach))
    assert service.get_interaction(session=session, interaction_id=theirs.id, principal=principal_of(evaluator))


def test_timeline_is_in_time_order_across_channels(session, make_user):
    agent = make_user("agent")
    maria = customers.resolve_customer(session=session, identities=[ident("email", "m@example.com")])
    later, _ = service.upsert_interaction(session=session, data=chat("later", customer_id=maria.id,
                                                                     agent_id=agent.id, at=T0 + timedelta(days=1)))
    call, _ = service.upsert_interaction(session=session, data=InteractionData(
        source="test", external_id="call", channel="call", started_at=T0, duration_seconds=125.0,
        customer_id=maria.id, agent_id=agent.id))
    entries = service.customer_timeline(session=session, customer_id=maria.id)
    assert [e.interaction.id for e in entries] == [call.id, later.id]
    assert entries[0].length_label == "2:05" and entries[1].length_label == "2 messages"
    found = service.interactions_for_customer(session=session, customer_id=maria.id, since=T0 + timedelta(hours=1))
    assert [i.id for i in found] == [later.id]


def test_merge_and_unmerge_over_the_api(client, session, make_user):
    from tests.conftest import sign_in

    make_user("admin", username="boss")
    first = customers.resolve_customer(session=session, identities=[ident("email", "a@example.com")], display_name="A")
    second = customers.resolve_customer(session=session, identities=[ident("email", "b@example.com")])
    session.commit()
    sign_in(client, "boss")
    merged = client.post(f"/api/customers/{second.id}/merge", json={"into": first.id})
    assert merged.status_code == 200 and {i["value"] for i in merged.json()["identities"]} == {"a@example.com",
                                                                                               "b@example.com"}
    assert client.post(f"/api/customers/{second.id}/merge", json={"into": first.id}).status_code == 409
    undone = client.post(f"/api/customers/{second.id}/unmerge")
    assert undone.status_code == 200 and undone.json()["merged_into_id"] is None
    assert [i["value"] for i in undone.json()["identities"]] == ["b@example.com"]
    assert client.post(f"/api/customers/{second.id}/unmerge").status_code == 409
    assert client.get("/api/customers", params={"q": "b@ex"}).json()["total"] == 1


def test_customer_matching_reads_hong_kong_numbers_in_the_hk_region(session, monkeypatch):
    monkeypatch.setenv("EARSHOT_PHONE_DEFAULT_REGION", "HK")
    chan = customers.resolve_customer(session=session, identities=[ident("phone", "+852 9123 4567")],
                                    display_name="Chan Tai Man")
    for written in ("9123 4567", "91234567", "852 9123 4567", "(+852) 9123-4567"):
        found = customers.find_customer_by_identity(session=session, kind="phone", value=written)
        assert found is not None and found.id == chan.id, written
    assert customers.find_customer_by_identity(session=session, kind="phone", value="9123 4567", region="GB") is None


def test_customer_matching_by_hkid_ignores_how_it_is_written(session):
    chan = customers.resolve_customer(session=session, identities=[ident("hkid", "A123456(3)")], display_name="Chan")
    for written in ("a1234563", "A 123456 (3)"):
        found = customers.find_customer_by_identity(session=session, kind="hkid", value=written)
        assert found is not None and found.id == chan.id, written
    assert customers.find_customer_by_identity(session=session, kind="hkid", value="A123456(4)") is None
    stored = session.exec(select(CustomerIdentity).where(CustomerIdentity.customer_id == chan.id)).all()
    assert [row.kind for row in stored] == ["hkid"] and all("123456" not in row.value for row in stored)
