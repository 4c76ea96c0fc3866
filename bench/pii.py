"""PII detection: precision/recall per kind on the hand-labelled set, and throughput, against a
regex-only baseline measured in the same run.

    .venv/bin/python bench/pii.py [--misses]
"""

import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.nlp.evaluation import Report, load_labelled, score  # noqa: E402
from app.nlp.pii import PiiSpan, find_pii, find_pii_many  # noqa: E402
from app.nlp.pipeline import get_ner_nlp  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "nlp"
LABELLED = FIXTURES / "pii_labelled.jsonl"  # 240 snippets, written while building the detector
HELD_OUT = FIXTURES / "pii_heldout.jsonl"  # 62 snippets written afterwards (see app/nlp/README.md)

# The baseline: what a quick regex redactor does (no Luhn, no spoken forms, no names).
BASELINE = [
    ("CARD", re.compile(r"\b(?:\d[ -]?){12,18}\d\b")),
    ("EMAIL", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    ("PHONE", re.compile(r"(?:\+\d{1,3}[ ]?)?(?:\(\d+\)[ ]?)?\d{3,5}[ .-]?\d{3,4}[ .-]?\d{3,4}\b")),
    ("POSTCODE", re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b")),
]


def baseline(texts: list[str]) -> list[list[PiiSpan]]:
    out = []
    for text in texts:
        spans: list[PiiSpan] = []
        for kind, regex in BASELINE:
            for m in regex.finditer(text):
                if not any(s.start < m.end() and m.start() < s.end for s in spans):
                    spans.append(PiiSpan(m.start(), m.end(), kind, m.group(0), 1.0, "baseline"))
        out.append(spans)
    return out


def timed(detector, texts: list[str], repeat: int) -> tuple[list[list[PiiSpan]], float]:
    started = time.perf_counter()
    for _ in range(repeat):
        result = detector(texts)
    return result, repeat * len(texts) / (time.perf_counter() - started)


def table(name: str, report: Report) -> None:
    print(f"\n{name}")
    print(f"  {'kind':<12}{'gold':>6}{'pred':>6}{'precision':>11}{'recall':>8}")
    for kind in sorted(report.kinds):
        k = report.kinds[kind]
        print(f"  {kind:<12}{k.gold:>6}{k.predicted:>6}{k.precision:>11.2f}{k.recall:>8.2f}")


def main() -> None:
    items = load_labelled(LABELLED)
    texts = [item.text for item in items]
    get_ner_nlp()  # load outside the timing
    find_pii_many(texts[:8])
    base_pred, base_rate = timed(baseline, texts, repeat=20)
    full_pred, full_rate = timed(find_pii_many, texts, repeat=2)
    one_pred, one_rate = timed(lambda ts: [find_pii(t) for t in ts], texts, repeat=1)
    pattern_pred, pattern_rate = timed(lambda ts: [find_pii(t, use_ner=False) for t in ts], texts, repeat=3)
    full = score(items, full_pred)
    table(f"find_pii (patterns + spaCy NER), {len(items)} snippets", full)
    table("find_pii(use_ner=False) (patterns only)", score(items, pattern_pred))
    table("regex-only baseline", score(items, base_pred))
    held_out = load_labelled(HELD_OUT)
    table(f"find_pii on the held-out set, {len(held_out)} snippets", score(held_out, find_pii_many(
        [item.text for item in held_out])))
    print("\nthroughput (snippets/s, same run):")
    print(f"  find_pii_many (batched NER) {full_rate:8.0f}  = {full_rate / base_rate:.4f} x baseline")
    print(f"  find_pii one by one         {one_rate:8.0f}")
    print(f"  find_pii patterns only      {pattern_rate:8.0f}  = {pattern_rate / base_rate:.4f} x baseline")
    print(f"  regex-only baseline         {base_rate:8.0f}")
    assert one_pred == full_pred
    if "--misses" in sys.argv:
        for kind, text, snippet in full.misses:
            print("MISS", kind, repr(text), "|", snippet)
        for kind, text, snippet in full.false_alarms:
            print("FALSE", kind, repr(text), "|", snippet)


if __name__ == "__main__":
    main()
