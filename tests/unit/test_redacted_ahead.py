"""Chat imports through the API read their messages with the language model before the transaction (so the
SQLite write lock is not held meanwhile); what is stored must be exactly what reading them inside gives."""

from app.interactions import content
from app.privacy import pii

TEXTS = ["Can you confirm your date of birth please?", "12/03/1985", "My card is 4111 1111 1111 1111, I'm Maria Lopez"]
CONTEXTS = ["", TEXTS[0], TEXTS[1]]


def test_findings_made_ahead_are_used_and_give_the_same_redaction(monkeypatch):
    plain = content.redact_texts(TEXTS, contexts=CONTEXTS)
    alone = content.redact_texts(["12/03/1985"], contexts=["The line keeps dropping."])
    assert plain[1] == "[DOB]" and "[CARD]" in plain[2]  # the answer is read after the question
    with content.redacted_ahead(list(zip(TEXTS, CONTEXTS, strict=True))):
        calls: list[list[str]] = []
        real = pii.find_pii_many
        monkeypatch.setattr(pii, "find_pii_many", lambda texts, **kw: calls.append(list(texts)) or real(texts, **kw))
        assert content.redact_texts(TEXTS, contexts=CONTEXTS) == plain
        assert calls == []  # nothing read twice
        # a text stored with another previous message than guessed is read again, with its real context
        assert content.redact_texts(["12/03/1985"], contexts=["The line keeps dropping."]) == alone
        assert calls == [["12/03/1985"]]
    monkeypatch.undo()
    assert content._ahead.get() is None  # nothing left behind for the next request
