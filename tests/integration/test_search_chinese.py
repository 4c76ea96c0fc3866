"""Chinese (Cantonese, Traditional and Simplified) and mixed Chinese/English search, on SQLite and PostgreSQL."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text

from app.auth.service import principal_of
from app.core.db import make_engine
from app.core.migrate import downgrade, upgrade
from app.interactions import search, service
from app.interactions.models import Interaction, SearchDocument
from app.interactions.service import InteractionData, MessageData
from tests.conftest import create_postgres_database, drop_postgres_database

T0 = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
LABELLED = Path(__file__).resolve().parents[1] / "fixtures" / "search_zh_labelled.json"


def add(session, external_id, *texts, days=0):
    at = T0 + timedelta(days=days)
    interaction, _ = service.upsert_interaction(session=session, data=InteractionData(
        source="test", external_id=external_id, channel="chat", started_at=at,
        messages=[MessageData(external_id=f"m{n}", author_role="customer", sent_at=at + timedelta(seconds=n), text=t)
                  for n, t in enumerate(texts)]))
    return interaction


def found(session, principal, q, order="newest"):
    return [hit.interaction.external_id for hit in search.search(session=session, principal=principal, q=q,
                                                                 order=order, per_page=100).items]


def test_chinese_words_phrases_and_mixed_text_are_found(session, make_user):
    admin = principal_of(make_user("admin"))
    add(session, "mongkok", "你好，我喺旺角，部router成日斷線，唔該幫我check吓。", days=0)
    add(session, "simplified", "我在旺角，宽带又断线了", days=1)
    add(session, "hk-form", "屋企條線斷綫咗三日", days=2)  # 綫: the Hong Kong form of 線
    add(session, "english", "my line keeps dropping in Mong Kok", days=3)
    add(session, "other", "我想查詢帳單", days=4)

    assert found(session, admin, "旺角") == ["simplified", "mongkok"]
    # Traditional, Simplified and the Hong Kong form find the same text
    assert found(session, admin, "斷線") == found(session, admin, "断线") == ["hk-form", "simplified", "mongkok"]
    # one and two characters need no special case; characters apart are not a phrase
    assert found(session, admin, "綫") == ["hk-form", "simplified", "mongkok"]
    assert found(session, admin, "角斷") == []
    # an exact phrase from a chat, with its punctuation and the English word inside it
    assert found(session, admin, '"部router成日斷線"') == ["mongkok"]
    assert found(session, admin, "router斷線") == []  # "router成日斷線": not adjacent
    assert found(session, admin, "router 斷線") == ["mongkok"]  # words ANDed
    assert found(session, admin, "check 旺角") == ["mongkok"]
    assert found(session, admin, "line") == ["english"]
    assert found(session, admin, "帳單") == ["other"] and found(session, admin, "账单") == ["other"]
    assert found(session, admin, "Mong Kok") == ["english"]  # the English name is its own words
    # fullwidth letters are the ASCII ones
    assert found(session, admin, "ｒｏｕｔｅｒ") == ["mongkok"]


def test_chinese_snippets_mark_the_original_characters_escaped(session, make_user):
    admin = principal_of(make_user("admin"))
    add(session, "a", "<b>注意</b> 我部router喺旺角斷線")
    hit = search.search(session=session, principal=admin, q="断线 router").items[0]
    assert "<mark>斷線</mark>" in hit.snippet and "<mark>router</mark>" in hit.snippet
    assert "&lt;b&gt;注意&lt;/b&gt;" in hit.snippet and "<b>" not in hit.snippet


def test_chinese_relevance_is_ranked_by_the_database(session, make_user):
    admin = principal_of(make_user("admin"))
    add(session, "once", "斷線 一次，然後正常咗好耐好耐好耐", days=2)
    add(session, "often", "斷線 斷線 又斷線", days=0)
    for n in range(5):  # a word in most documents weighs nothing in bm25: keep it rare, as in real data
        add(session, f"none{n}", "冇問題，多謝", days=3 + n)
    results = search.search(session=session, principal=admin, q="斷線", order="relevance")
    assert [h.interaction.external_id for h in results.items] == ["often", "once"]
    assert results.items[0].score is not None and results.items[0].score > results.items[1].score


def test_index_text_is_kept_only_for_chinese_documents(session, make_user):
    english = add(session, "en", "refund please")
    chinese = add(session, "zh", "退款 please")
    assert session.get(SearchDocument, english.id).terms is None
    assert session.get(SearchDocument, chinese.id).terms == " 退 退款 款  please"
    # editing the text re-indexes it: the old characters are no longer found
    service.upsert_interaction(session=session, data=InteractionData(
        source="test", external_id="zh", channel="chat", started_at=T0,
        messages=[MessageData(external_id="m0", author_role="customer", sent_at=T0, text="取消合約")]))
    service.reindex_interaction(session=session, interaction_id=chinese.id)
    admin = principal_of(make_user("admin"))
    assert found(session, admin, "退款") == [] and found(session, admin, "取消合约") == ["zh"]


def indexed(engine, q):
    """The sort keys the full-text index matches for `q` (as search() asks it), read without the models."""
    dialect = engine.dialect.name
    key = search._fts.c.rowid if dialect == "sqlite" else search._sd.c.sort_key
    with engine.connect() as connection:
        return sorted(row[0] for row in connection.execute(
            select(key).where(search._match_clause(dialect, search.parse_query(q)))))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migration_indexes_existing_chinese_documents(backend, tmp_path):
    """Documents stored before interactions_0002 are found by Chinese queries after the upgrade, and a
    downgrade gives back the body-only index."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        url = create_postgres_database("cjkmig")
        if url is None:
            pytest.skip("PostgreSQL not reachable")
    try:
        upgrade(url, "interactions_0001")
        engine = make_engine(url)
        with engine.begin() as connection:
            for n, body in enumerate(["部router喺旺角斷線", "refund please"], start=1):
                connection.execute(insert(Interaction), [{
                    "id": n, "channel": "chat", "direction": "inbound", "started_at": T0, "source": "old",
                    "external_id": f"old{n}", "extra": {}, "created_at": T0}])
                connection.execute(insert(SearchDocument.__table__), [{  # the 0001 table: no terms column
                    "interaction_id": n, "sort_key": n, "body": body, "updated_at": T0}])
        # to this revision only: the next one rebuilds every document from its messages (these have none)
        upgrade(url, "interactions_0002_cjk_search")
        # the index itself, not search(): today's models map columns later revisions add (redacted_subject)
        assert indexed(engine, "断线") == [1] and indexed(engine, "refund") == [2]
        engine.dispose()
        downgrade(url, "interactions_0001")
        with make_engine(url).connect() as connection:
            if backend == "sqlite":
                hits = connection.execute(text("SELECT rowid FROM search_fts WHERE search_fts MATCH 'refund'")).all()
            else:
                hits = connection.execute(text("SELECT sort_key FROM search_document "
                                               "WHERE tsv @@ plainto_tsquery('english', 'refund')")).all()
            assert hits == [(2,)]
    finally:
        if backend == "postgresql":
            drop_postgres_database(url)


def test_labelled_mixed_language_set_recall_and_precision(session):
    """The labelled set (tests/fixtures/search_zh_labelled.json; bench/search.py --labelled prints it per
    query): character phrases find what contains the words, in either script; they miss paraphrases
    (條線斷咗, 取消...合約 in another order) and find words across word boundaries (晚上網速 for 上網)."""
    data = json.loads(LABELLED.read_text(encoding="utf-8"))
    assert len(data["messages"]) >= 200
    for n, message in enumerate(data["messages"]):
        at = T0 + timedelta(minutes=n)
        service.upsert_interaction(session=session, data=InteractionData(
            source="labelled", external_id=message["id"], channel="chat", started_at=at,
            messages=[MessageData(external_id="m", author_role="customer", sent_at=at, text=message["text"])]))
    relevant = found_total = correct = 0
    by_query = {}
    for query in data["queries"]:
        hits = set(found(session, None, query["q"]))
        by_query[query["q"]] = hits
        relevant, found_total = relevant + len(query["expect"]), found_total + len(hits)
        correct += len(hits & set(query["expect"]))
    assert by_query["斷線"] == by_query["断线"] and by_query["帳單"] == by_query["账单"]
    assert correct / relevant >= 0.85 and correct / found_total >= 0.95  # measured: 0.879 and 0.969


def test_hong_kong_demo_files_import_and_are_searchable(session, make_user):
    from app.ingest.chats import import_chats, read_records
    from app.ingest.social import import_social, read_social

    demo = Path(__file__).resolve().parents[2] / "demo"
    for username in ("ada", "cara", "sam"):
        make_user("agent", username=username)
    chats = import_chats(session=session, records=read_records(demo / "chats_hk.jsonl"), source="demo")
    social = import_social(session=session, records=read_social(demo / "social_hk.json"), source="demo")
    assert (chats.created, len(chats.rejected), social.created, len(social.rejected)) == (4, 0, 2, 0)
    admin = principal_of(make_user("admin"))
    assert set(found(session, admin, "斷線")) == {"chat-hk-001", "chat-hk-003", "hk9000001"}
    assert set(found(session, admin, "账单")) == {"chat-hk-004", "hk9000004", "chat-hk-002"}


def test_common_words_walk_newest_first_with_the_same_results(session, make_user, monkeypatch):
    """PostgreSQL: when the planner's statistics say the words are common, no GIN probe runs and the search
    walks newest-first (forced here by treating every word as common); what it finds and how it orders it
    do not change."""
    admin = principal_of(make_user("admin"))
    for n in range(6):
        add(session, f"d{n}", f"第{n}日：寬頻斷線，late fee 又嚟" if n % 2 else f"day {n}: 網速慢, late fee", days=n)
    queries = ["斷線", '"late fee"', "寬頻 fee", "網速"]
    before = {q: (found(session, admin, q), found(session, admin, q, order="relevance")) for q in queries}
    monkeypatch.setattr(search, "PG_PROBE_BELOW", -1)
    assert {q: (found(session, admin, q), found(session, admin, q, order="relevance")) for q in queries} == before
    assert before["斷線"][0] == ["d5", "d3", "d1"] and before['"late fee"'][0] == [f"d{n}" for n in range(5, -1, -1)]


def test_count_is_not_repeated_when_the_probe_saw_more_than_the_cap(session, make_user, monkeypatch):
    """PostgreSQL: a probe that already found more matches than COUNT_CAP gives "N+" without a second count;
    with a filter the count still runs (it must count only what passes the filter)."""
    admin = principal_of(make_user("admin"))
    monkeypatch.setattr(search, "COUNT_CAP", 2)
    monkeypatch.setattr(search, "PG_SELECTIVE", 2)
    for n in range(4):
        add(session, f"d{n}", "將軍澳斷線" if n else "將軍澳正常", days=n)
    plain = search.search(session=session, principal=admin, q="將軍澳", order="newest")
    assert (plain.total, plain.total_is_lower_bound) == (2, True) and len(plain.items) == 4
    dated = search.search(session=session, principal=admin, q="將軍澳斷線", order="newest",
                          date_to=(T0 + timedelta(days=1)).date())
    assert (dated.total, dated.total_is_lower_bound, [h.interaction.external_id for h in dated.items]) == (
        1, False, ["d1"])
