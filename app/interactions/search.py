"""Full-text search over every channel: SQLite FTS5 by default, PostgreSQL tsvector + GIN at scale.

One `search_document` row per interaction holds its text (subject, messages, transcript segments —
redacted only, through the content gate). Its `sort_key` is time-ordered (start epoch seconds x 1e6 + id
modulo 1e6), and is the FTS5 rowid, so the index itself walks newest-first.

Design for speed at 1 M interactions (p95 < 50 ms; numbers from bench/search.py are in the report):
the database's own relevance ranking (FTS5 bm25 / ts_rank) has to visit every hit of every word — even
the document frequency bm25 needs walks the whole posting list — so a common word at 1 M documents costs
hundreds of milliseconds (668 ms measured). So the database only ever *finds* matches, newest first, and
stops early:
- `order="newest"` walks the index newest-first (the sort_key) and stops after the page.
- `order="relevance"` takes the newest `RANK_WINDOW` matches that pass the filters and has the database
  rank them (ts_rank on PostgreSQL; on SQLite FTS5's bm25 for selective words, BM25 in SQL over the
  window for common ones — see `_rank`). Only one page of ids comes back. For selective queries (a
  reference code, a name, a phrase: fewer hits than the window) this is exact relevance; for broad ones
  it is "most relevant among the recent matches", and the answer says so (`ranked_window`). The two
  databases' scores differ in scale, so ties and near-ties may order differently between them.
- `total` counts at most COUNT_CAP + 1 matches. With filters (checked row by row), counting and the
  relevance window look only among the newest COUNT_SCAN text matches. Past either bound
  `total_is_lower_bound` is set and pages show "N+". "newest" pages are not bounded (complete, but a
  filter that matches nothing among many hits walks them all).
- A customer filter starts from the customer's few interactions (rowid IN ...), not from the words.
Filters (channel, dates, agent, team, queue, customer, and the caller's scope) are applied in the same
query; dates become a sort_key range, which FTS5 and the B-tree index both use directly.

Query language (same on both databases): words are ANDed, "quoted text" is a phrase, a trailing * is a
prefix (of at least MIN_PREFIX letters; on SQLite it is expanded through the index vocabulary into an OR
of at most MAX_EXPANSION terms, because FTS5's own prefix query merges every matching posting list first).
Chinese (no spaces between words) is indexed as its characters and adjacent character pairs after folding
Traditional/Hong Kong forms to Simplified (`SearchDocument.terms`, app.core.language.index_text); a query's
run of characters is one token (1-2 characters) or a phrase of those tokens, so any word or exact phrase is
found in either script.
On PostgreSQL, lists of keys go to the database as one array parameter (`= ANY(:array)`), not IN lists.
Snippets are built here, not by the database, so both return the same HTML: the text is escaped
first and only then are matches wrapped in <mark> (Chinese matched in the folded text, marked in the
original).
"""

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from typing import Any, Literal

from markupsafe import Markup
from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    MetaData,
    Table,
    Text,
    any_,
    cast,
    func,
    literal,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col
from sqlmodel import select as sm_select

from app.core.language import CJK_CHAR, fold, has_cjk, index_text
from app.core.listing import Page
from app.core.security import Principal
from app.core.timeutil import as_utc, utcnow
from app.interactions import content
from app.interactions.models import (
    Interaction,
    InteractionAgent,
    Message,
    SearchDocument,
    Segment,
)
from app.interactions.snippets import make_snippet

RANK_WINDOW = 200
COUNT_CAP = 1_000
COUNT_SCAN = 2_000
IDF_CAP = 1_000
K1, B = 1.2, 0.75  # BM25's usual constants
MAX_EXPANSION = 30
MIN_PREFIX = 3
PG_SELECTIVE = 2_000
PG_PROBE_BELOW = 25_000  # planner estimate: rare words get a default of ~0.3-0.5 % of the rows
KEY_SCALE = 1_000_000
Order = Literal["relevance", "newest"]

_fts = Table("search_fts", MetaData(), Column("rowid", BigInteger), Column("body", Text),
             Column("search_fts", Text), Column("rank", Float))
_sd = SearchDocument.__table__  # type: ignore[attr-defined]
_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
_WORD = re.compile(r"\w+\*?", re.UNICODE)
_ENGLISH: Any = literal_column("'english'::regconfig")  # a literal, so EXPLAIN can render the query


# ---------------------------------------------------------------- indexing


def document_text(*, session: Session, interaction: Interaction, messages: Sequence[Message] | None = None,
                  segments: Sequence[Segment] | None = None) -> str:
    """The indexed text: redacted only (through the content gate), so neither a search by a card number nor a
    snippet or the search CSV can reveal one; not-yet-redacted content is indexed as "[being redacted]".
    `messages` / `segments`: every one of the interaction, when the caller holds them (otherwise they are read);
    messages are taken in time order, then in the order they were stored."""
    parts: list[str] = []
    parts.append(content.REDACTED.subject(interaction) or "")  # the redaction stored at ingest
    if messages is None:
        messages = session.exec(sm_select(Message).where(Message.interaction_id == interaction.id)
                                .order_by(col(Message.sent_at), col(Message.id))).all()
    else:  # as the query orders them; a message not stored yet (no id) was written after the others
        messages = [m for _, m in sorted(enumerate(messages), key=lambda pair: (
            as_utc(pair[1].sent_at), pair[1].id if pair[1].id is not None else math.inf, pair[0]))]
    for message in messages:
        parts.append(content.REDACTED.message_text(message))
    if segments is None:
        segments = session.exec(sm_select(Segment).where(Segment.interaction_id == interaction.id)
                                .order_by(col(Segment.seq))).all()
    for segment in segments:
        parts.append(content.REDACTED.segment_text(segment))
    return "\n".join(p for p in parts if p)


def _base_key(interaction: Interaction) -> int:
    assert interaction.id is not None
    return int(as_utc(interaction.started_at).timestamp()) * KEY_SCALE + interaction.id % KEY_SCALE


def reindex_interaction(*, session: Session, interaction_id: int, interaction: Interaction | None = None,
                        messages: Sequence[Message] | None = None, new: bool = False) -> None:
    """Rebuild the search document of one interaction (idempotent). Other features call this after
    writing or redacting segments or messages. Flushes, does not commit.

    The interactions service passes what it has just written instead of having it read back: the interaction,
    `messages` (every one it has, redacted) and `new` for an interaction created in this transaction (no
    segments and no search document yet)."""
    if interaction is None:
        interaction = session.get(Interaction, interaction_id)
    document = None if new else session.get(SearchDocument, interaction_id)
    if interaction is None:
        if document is not None:
            session.delete(document)
            session.flush()
        return
    body = document_text(session=session, interaction=interaction, messages=messages, segments=[] if new else None)
    terms = _terms(body)
    key = _base_key(interaction)
    if document is not None and document.sort_key // KEY_SCALE == key // KEY_SCALE:
        key = document.sort_key  # keep a bumped key
    else:
        while True:
            taken = session.exec(sm_select(SearchDocument.interaction_id)
                                 .where(SearchDocument.sort_key == key)).first()
            if taken is None or taken == interaction_id:
                break
            key += 1
    if document is None:
        session.add(SearchDocument(interaction_id=interaction_id, sort_key=key, body=body, terms=terms,
                                   updated_at=utcnow()))
    elif document.body != body or document.sort_key != key or document.terms != terms:
        document.body, document.terms, document.sort_key, document.updated_at = body, terms, key, utcnow()
    session.flush()


def _terms(body: str) -> str | None:
    """What the index sees when it is not the body itself (Chinese: folded, characters and pairs as tokens)."""
    terms = index_text(body)
    return terms if terms != body else None


# ---------------------------------------------------------------- query parsing


@dataclass(frozen=True)
class ParsedQuery:
    terms: list[str]  # single words, possibly ending in *
    phrases: list[list[str]]  # quoted phrases, as word lists
    expansions: dict[str, list[str]] = field(default_factory=dict)  # prefix* → indexed terms it covers

    @property
    def empty(self) -> bool:
        return not self.terms and not self.phrases

    @property
    def prefixes(self) -> list[str]:
        return [t.rstrip("*") for t in self.terms if t.endswith("*")]

    def fts5(self) -> str:
        parts = [self._fts5_term(t) for t in self.terms]
        parts += ['"' + " ".join(p) + '"' for p in self.phrases]
        return " ".join(parts)

    def _fts5_term(self, term: str) -> str:
        if not term.endswith("*"):
            return f'"{term}"'
        covered = self.expansions.get(term.rstrip("*"))
        if covered:  # an OR of indexed terms walks incrementally; FTS5's own prefix scan merges every list first
            return "(" + " OR ".join(f'"{t}"' for t in covered) + ")"
        return f'"{term.rstrip("*")}"*'

    def highlight_words(self) -> list[str]:
        """What snippets mark: each word, and each run of Chinese characters as one string (rebuilt from its
        character and pair tokens)."""
        words = [t.rstrip("*") for t in self.terms]
        for phrase in self.phrases:
            run = ""
            for word in phrase:
                if not has_cjk(word):
                    words += [run, word]
                    run = ""
                elif len(word) == 2 and run.endswith(word[0]):
                    run += word[1]
                elif not run.endswith(word):
                    run += word
            words.append(run)
        return [w for w in dict.fromkeys(words) if w]


def _is_pair(token: str) -> bool:
    return len(token) == 2 and all(CJK_CHAR.match(ch) for ch in token)


def _query_tokens(text: str) -> list[str]:
    """The index tokens of query text (app.core.language.index_text), without a Chinese run's first and last
    single characters when its pairs already hold them: 斷線 is the one token 断线, 將軍澳 the phrase
    将军 军 军澳. Inside the text every token stays, so the phrase lines up with the indexed text."""
    tokens = [w.rstrip("*") for w in _WORD.findall(index_text(text).lower())]
    if len(tokens) > 1 and _is_pair(tokens[1]) and tokens[1][0] == tokens[0]:
        tokens = tokens[1:]
    if len(tokens) > 1 and _is_pair(tokens[-2]) and tokens[-2][1] == tokens[-1]:
        tokens = tokens[:-1]
    return [t for t in tokens if t]


def parse_query(q: str) -> ParsedQuery:
    """Words (ANDed), "phrases" and prefix* terms; everything else (operators, punctuation) is dropped, so
    no user text reaches the FTS5 or tsquery syntax unquoted. Chinese is folded and tokenised like the
    index (`_query_tokens`): any run of characters is found exactly — 旺角, 斷線 and "router斷線" (no
    spaces) — and a Chinese word takes no prefix *."""
    terms: list[str] = []
    phrases: list[list[str]] = []
    for match in _TOKEN.finditer(fold(q or "")):
        if match.group(1) is not None:
            words = _query_tokens(match.group(1))
            if len(words) == 1:
                terms.append(words[0])
            elif words:
                phrases.append(words)
        else:
            for word in _WORD.findall(match.group(2)):
                word = word.lower()
                if has_cjk(word):
                    parts = _query_tokens(word)
                    if len(parts) > 1:
                        phrases.append(parts)
                        continue
                    word = parts[0] if parts else ""
                elif len(word.rstrip("*")) < MIN_PREFIX:
                    word = word.rstrip("*")  # "a*" would walk most of the index: a short prefix is a word
                if word:
                    terms.append(word)
    unique_phrases = [list(p) for p in dict.fromkeys(tuple(p) for p in phrases)]
    return ParsedQuery(terms=list(dict.fromkeys(terms)), phrases=unique_phrases)


def _pg_tsquery(parsed: ParsedQuery) -> Any:
    parts: list[Any] = []
    for term in parsed.terms:
        if term.endswith("*"):
            parts.append(func.to_tsquery(_ENGLISH, _pg_lexeme(term.rstrip("*")) + ":*"))
        else:
            parts.append(func.plainto_tsquery(_ENGLISH, term))
    parts += [func.phraseto_tsquery(_ENGLISH, " ".join(p)) for p in parsed.phrases]
    query = parts[0]
    for part in parts[1:]:
        query = query.op("&&")(part)
    return query


def _pg_lexeme(word: str) -> str:
    return "'" + re.sub(r"[^\w]", "", word) + "'"


# ---------------------------------------------------------------- searching


@dataclass
class SearchFilters:
    channel: str | None = None
    date_from: date | datetime | None = None
    date_to: date | datetime | None = None
    agent_id: int | None = None
    team_id: int | None = None
    queue: str | None = None
    customer_id: int | None = None


MAX_PER_PAGE = 100


@dataclass
class SearchHit:
    interaction: Interaction
    snippet: Markup
    score: float | None


@dataclass(kw_only=True)
class SearchResults(Page[SearchHit]):
    """A page of hits; `total` may be a lower bound, and relevance order reaches only the ranked window."""

    total_is_lower_bound: bool
    ranked_window: int | None
    order: str

    @property
    def pages(self) -> int:
        reachable = min(self.total, self.ranked_window) if self.ranked_window else self.total
        return max(1, -(-reachable // self.per_page))


def _key_bounds(filters: SearchFilters) -> tuple[int | None, int | None]:
    def as_dt(value: date | datetime, end: bool) -> datetime:
        if isinstance(value, datetime):
            return as_utc(value)
        return datetime.combine(value, time.max if end else time.min, tzinfo=UTC)

    low = int(as_dt(filters.date_from, False).timestamp()) * KEY_SCALE if filters.date_from else None
    high = (int(as_dt(filters.date_to, True).timestamp()) + 1) * KEY_SCALE - 1 if filters.date_to else None
    return low, high


def _filter_clauses(*, session: Session, filters: SearchFilters, visible_agents: set[int] | None,
                    customer_ids: list[int] | None) -> list[ColumnElement[bool]]:
    from app.auth.models import User

    interaction = Interaction.__table__  # type: ignore[attr-defined]
    participants = InteractionAgent.__table__  # type: ignore[attr-defined]
    clauses: list[ColumnElement[bool]] = []
    if filters.channel:
        clauses.append(interaction.c.channel == filters.channel)
    if filters.queue:
        clauses.append(interaction.c.queue == filters.queue)
    dialect = session.get_bind().dialect.name
    if customer_ids is not None:
        clauses.append(_among(interaction.c.customer_id, customer_ids, dialect))

    def handled_by(agents: ColumnElement[bool]) -> ColumnElement[bool]:
        # correlated EXISTS: one primary-key probe per candidate row, so an index walk can stop early
        clause: ColumnElement[bool] = (select(participants.c.interaction_id)
                                       .where(participants.c.interaction_id == interaction.c.id, agents).exists())
        return clause

    if filters.agent_id is not None:
        clauses.append(handled_by(participants.c.agent_id == filters.agent_id))
    if filters.team_id is not None:
        clauses.append(handled_by(participants.c.agent_id.in_(
            select(User.id).where(User.team_id == filters.team_id))))  # type: ignore[call-overload]
    if visible_agents is not None:
        clauses.append(handled_by(_among(participants.c.agent_id, sorted(visible_agents), dialect)))
    return clauses


def _among(column: Any, values: list[int], dialect: str) -> ColumnElement[bool]:
    """`column IN values`; on PostgreSQL `column = ANY(CAST(:array AS bigint[]))` with the values as one
    parameter, so a list of 2,000 keys costs one bind instead of 2,000 (SQL compiling and parsing dominated
    otherwise). The parameter is the array's text ('{1,2,3}', joined here at C speed): psycopg dumping a Python
    list checks and quotes every element in Python, a third of a search's CPU with 2,000 keys."""
    if dialect == "postgresql":
        array = "{" + ",".join(map(str, map(int, values))) + "}"
        clause: ColumnElement[bool] = column == any_(cast(literal(array, Text), ARRAY(column.type)))
        return clause
    return column.in_(values)  # type: ignore[no-any-return]


def search(*, session: Session, principal: Principal | None, q: str, channel: str | None = None,
           date_from: date | datetime | None = None, date_to: date | datetime | None = None,
           agent_id: int | None = None, team_id: int | None = None, queue: str | None = None,
           customer_id: int | None = None, page: int = 1, per_page: int = 20,
           order: Order = "relevance") -> SearchResults:
    """Search transcripts and messages of every channel the principal may see (see the module docstring
    for the ranking contract). An empty query returns no results."""
    from app.auth.service import visible_agent_ids
    from app.interactions.service import _customer_ids

    page, per_page = max(1, page), max(1, min(per_page, MAX_PER_PAGE))
    parsed = parse_query(q)
    if parsed.empty:
        return SearchResults(items=[], total=0, total_is_lower_bound=False, ranked_window=None, page=page,
                             per_page=per_page, order=order)
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite" and parsed.prefixes:
        parsed = replace(parsed, expansions={p: _vocabulary(session, p) for p in parsed.prefixes})
    filters = SearchFilters(channel, date_from, date_to, agent_id, team_id, queue, customer_id)
    visible = visible_agent_ids(session=session, principal=principal) if principal else None
    customers = _customer_ids(session, customer_id) if customer_id is not None else None
    clauses = _filter_clauses(session=session, filters=filters, visible_agents=visible, customer_ids=customers)
    low, high = _key_bounds(filters)
    interaction = Interaction.__table__  # type: ignore[attr-defined]
    match = _match_clause(dialect, parsed)
    key: Any = _fts.c.rowid if dialect == "sqlite" else _sd.c.sort_key
    keys: set[int] | None = None
    probed_over: int | None = None  # PostgreSQL: the probe found more matches than PG_SELECTIVE
    if customers is not None:
        # a customer has a handful of interactions: start from them, not from every hit of the words
        keys = set(session.execute(select(_sd.c.sort_key).join(interaction, interaction.c.id == _sd.c.interaction_id)
                                   .where(_among(interaction.c.customer_id, customers, dialect))).scalars().all())
    if dialect != "sqlite":
        # PostgreSQL cannot estimate how rare a word is and walks the sort_key index past every row: when
        # the words match few documents (one GIN bitmap scan tells), start from those documents instead
        # (a GIN bitmap is built whole before the first row: so only when the planner does not already know
        # the words are common from its statistics)
        probe = select(_sd.c.sort_key).where(match)
        if _pg_estimate(session, probe) <= PG_PROBE_BELOW:
            few = set(session.execute(probe.limit(PG_SELECTIVE + 1)).scalars().all())  # fetched at once
            if len(few) <= PG_SELECTIVE:
                keys = few if keys is None else keys & few
            elif keys is None:
                probed_over = len(few)  # at least this many documents match the words
    if dialect == "sqlite":
        text_only: Any = select(key.label("key")).where(match)
        base = (select(_sd.c.interaction_id, key.label("key"))
                .select_from(_fts.join(_sd, _sd.c.sort_key == key)
                             .join(interaction, interaction.c.id == _sd.c.interaction_id))
                .where(match))
    else:
        text_only = select(key.label("key")).where(match)
        base = (select(_sd.c.interaction_id, key.label("key"))
                .select_from(_sd.join(interaction, interaction.c.id == _sd.c.interaction_id)).where(match))
    if keys is not None:
        among = _among(key, sorted(keys), dialect)
        base, text_only = base.where(among), text_only.where(among)
    if low is not None:
        base, text_only = base.where(key >= low), text_only.where(key >= low)
    if high is not None:
        base, text_only = base.where(key <= high), text_only.where(key <= high)
    for clause in clauses:
        base = base.where(clause)

    scanned = base
    if clauses:
        # filters are checked row by row: look only among the newest COUNT_SCAN text matches when counting
        # and ranking, so a filter keeping 1 row in 50 does not walk every hit of a common word
        text_window = text_only.order_by(key.desc()).limit(COUNT_SCAN).subquery()
        floor, seen = session.execute(select(func.min(text_window.c.key), func.count())
                                      .select_from(text_window)).one()
        scanned = base.where(key >= (floor or 0))
        truncated = int(seen) >= COUNT_SCAN
    else:
        truncated = False
    if probed_over is not None and probed_over > COUNT_CAP and not clauses and low is None and high is None:
        # the probe already saw more matches than the cap: counting them again (PostgreSQL checks each
        # row's word positions for a phrase: 120-400 ms at 1 M for a phrase in 0.5-3 % of texts) adds nothing
        counted = probed_over
    else:
        counted = session.execute(select(func.count()).select_from(
            (scanned if clauses else text_only).with_only_columns(key).limit(COUNT_CAP + 1).subquery())).scalar_one()
    total, lower_bound = min(int(counted), COUNT_CAP), int(counted) > COUNT_CAP or truncated
    ordered = base.order_by(key.desc())
    words = parsed.highlight_words()
    scores: dict[int, float] = {}
    if order == "newest":
        rows = session.execute(ordered.offset((page - 1) * per_page).limit(per_page)).all()
        ids = [int(r.interaction_id) for r in rows]
        bodies = _bodies(session, ids)
        window: int | None = None
    else:
        candidates = {int(k): int(i) for i, k in  # fetched at once: row by row cost more than the query
                      session.execute(scanned.order_by(key.desc()).limit(RANK_WINDOW)).tuples().all()}
        ranked = _rank(session=session, dialect=dialect, parsed=parsed, keys=sorted(candidates),
                       offset=(page - 1) * per_page, limit=per_page)
        ids = [candidates[k] for k, _ in ranked]
        scores = {candidates[k]: score for k, score in ranked}
        bodies = _bodies(session, ids)
        window = RANK_WINDOW
    found = {i.id: i for i in session.exec(sm_select(Interaction).where(col(Interaction.id).in_(ids)))} if ids else {}
    items = [SearchHit(interaction=found[i], snippet=make_snippet(bodies.get(i, ""), words),
                       score=round(scores[i], 4) if i in scores else None)
             for i in ids if i in found]
    return SearchResults(items=items, total=total, total_is_lower_bound=lower_bound, ranked_window=window,
                         page=page, per_page=per_page, order=order)


def _pg_estimate(session: Session, query: Any) -> float:
    """PostgreSQL's row estimate for a query (its statistics know common words; rare ones get a default)."""
    compiled = query.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
    plan = session.execute(text(f"EXPLAIN (FORMAT JSON) {compiled}")).scalar_one()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return float(plan[0]["Plan"]["Plan Rows"])


def _vocabulary(session: Session, prefix: str) -> list[str]:
    """The indexed terms starting with `prefix` (stemmed, as FTS5 stores them), or [] when there are more
    than MAX_EXPANSION (FTS5's own prefix query is then used)."""
    if not prefix:
        return []
    terms = session.execute(text("SELECT term FROM search_fts_vocab WHERE term >= :low AND term < :high LIMIT :n"),
                            {"low": prefix, "high": prefix + "\U0010ffff", "n": MAX_EXPANSION + 1}).scalars().all()
    words = [str(t) for t in terms if re.fullmatch(r"\w+", str(t))]
    return words if 0 < len(words) <= MAX_EXPANSION else []


def _match_clause(dialect: str, parsed: ParsedQuery) -> Any:
    if dialect == "sqlite":
        return _fts.c.search_fts.op("MATCH")(parsed.fts5())
    return literal_column("search_document.tsv").op("@@")(_pg_tsquery(parsed))


def _bodies(session: Session, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(_sd.c.interaction_id, _sd.c.body).where(_sd.c.interaction_id.in_(ids)))
    return {int(i): str(body) for i, body in rows.tuples()}


def _rank(*, session: Session, dialect: str, parsed: ParsedQuery, keys: list[int], offset: int,
          limit: int) -> list[tuple[int, float]]:
    """One page of `keys` (the window's documents) ordered by a relevance score the database computes, best
    first (ties: newest first). Scores differ in scale between the databases; all reward repeated and rarer
    words and shorter texts.

    PostgreSQL: ts_rank (reads only the window's tsvectors). SQLite: FTS5's own bm25 when every word or phrase
    is in fewer than IDF_CAP documents; otherwise BM25 written in SQL over the window. FTS5's bm25 counts each
    phrase's documents over the whole index on every query (its IDF), so for a common word its cost grows with
    the corpus (248 ms of CPU for `refund` at 100 k interactions, measured); the SQL form takes document
    frequencies from counts capped at IDF_CAP (a word in more documents weighs the same) and term frequencies
    from the indexed text of the window's rows (occurrences of the word, or of the phrase with spaces removed,
    so 斷線 counts in Chinese text and `refund` also counts `refunds`)."""
    if not keys:
        return []
    if dialect != "sqlite":
        # normalisation 1: divided by 1 + log(length), so a long text does not win by length alone
        rank: Any = func.ts_rank(literal_column("search_document.tsv"), _pg_tsquery(parsed), 1)
        rows = session.execute(select(_sd.c.sort_key, rank.label("score"))
                               .where(_among(_sd.c.sort_key, keys, dialect))
                               .order_by(rank.desc(), _sd.c.sort_key.desc()).offset(offset).limit(limit)).all()
        return [(int(k), float(score)) for k, score in rows]
    features = [(t.rstrip("*"), False, ParsedQuery(terms=[t], phrases=[], expansions=parsed.expansions))
                for t in parsed.terms]
    features += [("".join(p), True, ParsedQuery(terms=[], phrases=[p])) for p in parsed.phrases]
    frequencies = [_document_frequency(session, single) for _, _, single in features]
    if all(df < IDF_CAP for df in frequencies):
        fts_key = _fts.c.rowid
        bm25: Any = func.bm25(_fts.c.search_fts)
        rows = session.execute(select(fts_key, bm25.label("score"))
                               .where(_match_clause(dialect, parsed), fts_key >= keys[0], fts_key <= keys[-1],
                                      fts_key.in_(keys))
                               .order_by(bm25, fts_key.desc()).offset(offset).limit(limit)).all()
        return [(int(k), -float(score)) for k, score in rows]
    corpus = int(session.execute(select(func.coalesce(func.max(_sd.c.interaction_id), 1))).scalar_one() or 1)
    # each row's lowered text, its length and every term frequency computed once, in the (materialised)
    # window subquery; the outer query only combines them and orders by the score's label (written out
    # in ORDER BY as well, SQLite computed the whole expression and its text scans a second time)
    texts = (select(_sd.c.sort_key.label("key"), func.lower(func.coalesce(_sd.c.terms, _sd.c.body)).label("body"))
             .where(_sd.c.sort_key.in_(keys)).subquery())
    counted: list[tuple[Any, float]] = []
    for index, ((needle, squeeze, _), df) in enumerate(zip(features, frequencies, strict=True)):
        if not needle:
            continue
        text_ = func.replace(texts.c.body, " ", "") if squeeze else texts.c.body
        tf = (func.length(text_) - func.length(func.replace(text_, needle, ""))) / float(len(needle))
        counted.append((tf.label(f"tf{index}"), math.log(1 + (corpus - df + 0.5) / (df + 0.5))))
    window = select(texts.c.key, func.length(texts.c.body).label("length"),
                    func.avg(func.length(texts.c.body)).over().label("average"),
                    *[tf for tf, _ in counted]).subquery()
    norm = K1 * (1 - B + B * window.c.length / func.max(window.c.average, 1))
    score: Any = literal(0.0)
    for tf_label, idf in counted:
        tf = window.c[tf_label.name]
        score = score + idf * tf * (K1 + 1) / (tf + norm)
    scored = score.label("score")
    rows = session.execute(select(window.c.key, scored)
                           .order_by(scored.desc(), window.c.key.desc()).offset(offset).limit(limit)).all()
    return [(int(k), float(value)) for k, value in rows]


def _document_frequency(session: Session, single: ParsedQuery) -> int:
    """Documents matching one word or phrase, counted up to IDF_CAP."""
    hits: Any = select(_fts.c.rowid).where(_match_clause("sqlite", single)).limit(IDF_CAP)
    return int(session.execute(select(func.count()).select_from(hits.subquery())).scalar_one())
