"""Full-text search: same API, same results and ordering on SQLite FTS5 and PostgreSQL tsvector."""

from datetime import UTC, date, datetime, timedelta

from app.auth.service import principal_of
from app.interactions import customers, search, service
from app.interactions.models import Segment
from app.interactions.service import InteractionData, MessageData

T0 = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)


def add(session, external_id, text, *, channel="chat", agent_id=None, days=0, queue=None, customer_id=None):
    at = T0 + timedelta(days=days)
    interaction, _ = service.upsert_interaction(session=session, data=InteractionData(
        source="test", external_id=external_id, channel=channel, started_at=at, agent_id=agent_id, queue=queue,
        customer_id=customer_id,
        messages=[MessageData(external_id="m1", author_role="customer", sent_at=at, text=text)]))
    return interaction


def ids(results):
    return [hit.interaction.external_id for hit in results.items]


def test_search_filters_order_and_snippets(session, make_user):
    ada = make_user("agent", team="Billing")
    ben = make_user("agent", team="Technical")
    admin = principal_of(make_user("admin"))
    add(session, "old", "refund please, refund now, the refund is late", agent_id=ada.id, days=0, queue="billing")
    add(session, "mid", "my broadband is down, I want a refund", agent_id=ben.id, days=5, queue="tech")
    add(session, "new", "refunds take five days", agent_id=ada.id, days=10, channel="email", queue="billing")
    add(session, "other", "nothing to see here", agent_id=ada.id, days=11)

    newest = search.search(session=session, principal=admin, q="refund", order="newest")
    assert ids(newest) == ["new", "mid", "old"] and newest.total == 3
    relevant = search.search(session=session, principal=admin, q="refund", order="relevance")
    assert ids(relevant)[0] == "old"  # three mentions outrank one, on both databases
    assert "<mark>refund</mark>" in relevant.items[0].snippet

    assert ids(search.search(session=session, principal=admin, q="refund", channel="email")) == ["new"]
    assert ids(search.search(session=session, principal=admin, q="refund", agent_id=ben.id)) == ["mid"]
    assert set(ids(search.search(session=session, principal=admin, q="refund", team_id=ada.team_id))) == {"old", "new"}
    assert ids(search.search(session=session, principal=admin, q="refund", queue="tech")) == ["mid"]
    assert ids(search.search(session=session, principal=admin, q="refund", order="newest",
                             date_from=date(2026, 9, 2), date_to=date(2026, 9, 6))) == ["mid"]
    assert ids(search.search(session=session, principal=admin, q='"broadband is down"')) == ["mid"]
    assert ids(search.search(session=session, principal=admin, q="broad*")) == ["mid"]
    assert ids(search.search(session=session, principal=admin, q="refund broadband")) == ["mid"]
    assert search.search(session=session, principal=admin, q="zebra").total == 0
    assert search.search(session=session, principal=admin, q=' ") OR ').total == 0

    # an agent only finds what they handled
    assert set(ids(search.search(session=session, principal=principal_of(ada), q="refund"))) == {"old", "new"}


def test_pagination_and_customer_filter(session, make_user):
    admin = principal_of(make_user("admin"))
    maria = customers.resolve_customer(session=session, identities=[customers.normalise_identity("phone", "07700900123")])
    for n in range(5):
        add(session, f"c{n}", f"line fault number {n}", days=n, customer_id=maria.id if n % 2 == 0 else None)
    first = search.search(session=session, principal=admin, q="fault", order="newest", per_page=2)
    second = search.search(session=session, principal=admin, q="fault", order="newest", per_page=2, page=2)
    assert ids(first) == ["c4", "c3"] and ids(second) == ["c2", "c1"] and first.pages == 3
    assert ids(search.search(session=session, principal=admin, q="fault", order="newest",
                             customer_id=maria.id)) == ["c4", "c2", "c0"]


def test_transcripts_are_searchable_by_their_redacted_text_only(session, make_user):
    admin = principal_of(make_user("admin"))
    call, _ = service.upsert_interaction(session=session, data=InteractionData(
        source="test", external_id="call", channel="call", started_at=T0))
    session.add(Segment(interaction_id=call.id, seq=1, speaker="customer", start=0, end=2,
                        text="my card is 4111 1111 1111 1111", redacted_text="my card is [CARD]"))
    session.add(Segment(interaction_id=call.id, seq=2, speaker="agent", start=2, end=4, text="thanks, verified",
                        redacted_text="thanks, verified"))
    session.add(Segment(interaction_id=call.id, seq=3, speaker="customer", start=4, end=6, text="postcode SW1A 1AA"))
    session.flush()
    service.reindex_interaction(session=session, interaction_id=call.id)
    assert ids(search.search(session=session, principal=admin, q="verified")) == ["call"]
    # a line not redacted yet is indexed as "being redacted", never in clear
    assert search.search(session=session, principal=admin, q="SW1A").total == 0
    assert search.search(session=session, principal=admin, q="4111").total == 0
    service.reindex_interaction(session=session, interaction_id=call.id)  # idempotent
    assert search.search(session=session, principal=admin, q="card").total == 1


def test_bounded_counts_and_ranking_window(session, make_user, monkeypatch):
    admin = principal_of(make_user("admin"))
    ada = make_user("agent")
    monkeypatch.setattr(search, "COUNT_CAP", 3)
    monkeypatch.setattr(search, "COUNT_SCAN", 4)
    monkeypatch.setattr(search, "RANK_WINDOW", 2)
    add(session, "old-best", "outage outage outage outage", days=0, agent_id=ada.id)
    for n in range(1, 6):
        add(session, f"n{n}", f"outage reported {n}", days=n, agent_id=ada.id if n % 2 else None)
    plain = search.search(session=session, principal=admin, q="outage", order="newest")
    assert (plain.total, plain.total_is_lower_bound) == (3, True)
    ranked = search.search(session=session, principal=admin, q="outage", order="relevance")
    # only the two newest matches are ranked, so the old best match is not among them
    assert ids(ranked) == ["n5", "n4"] and ranked.ranked_window == 2 and ranked.pages == 1
    filtered = search.search(session=session, principal=admin, q="outage", agent_id=ada.id, order="newest")
    # counted among the 4 newest text matches (n5..n2), of which n5 and n3 are ada's
    assert (filtered.total, filtered.total_is_lower_bound) == (2, True)
    assert ids(filtered) == ["n5", "n3", "n1", "old-best"]  # newest pages stay complete


def test_relevance_for_common_words_is_ranked_in_sql(session, make_user, monkeypatch):
    """Past IDF_CAP documents a word is ranked by BM25 written in SQL (SQLite; FTS5's bm25 would count every
    hit of the word): more mentions and shorter texts still come first, phrases included."""
    admin = principal_of(make_user("admin"))
    monkeypatch.setattr(search, "IDF_CAP", 1)  # every word is "common"
    add(session, "once", "the refund is late and the late fee is wrong, please look at the whole bill", days=3)
    add(session, "thrice", "refund refund refund", days=0)
    add(session, "twice", "refunds: a refund for the late fee", days=1)
    assert ids(search.search(session=session, principal=admin, q="refund")) == ["thrice", "twice", "once"]
    phrase = search.search(session=session, principal=admin, q='"late fee" refund')
    assert ids(phrase) == ["twice", "once"] and phrase.items[0].score > phrase.items[1].score
