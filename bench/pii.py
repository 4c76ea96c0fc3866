"""PII detection: precision/recall per kind on the hand-labelled sets against the targets of issue #18, per
channel, in a Hong Kong and a UK deployment, and throughput against a regex-only baseline in the same run.

    .venv/bin/python bench/pii.py [--misses]

Sets (tests/fixtures/nlp/, one JSON object a line, optional "context" = the previous turn):
- labelled: pii_labelled.jsonl (240, written while building the first detector) and pii_spoken.jsonl (142:
  spoken and cross-turn forms, HK numbers and HKIDs, Chinese and mixed messages, brand/place negatives;
  written while extending it);
- held out: pii_heldout.jsonl (62), pii_heldout_spoken.jsonl (69) and pii_heldout_3.jsonl (52), each written
  after the detector it tests and measured once before any change it prompted (app/nlp/README.md gives
  those first, blind figures).
"""

import re
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.nlp.evaluation import PII_TARGETS, Labelled, Report, load_labelled_sets, missed_targets, score  # noqa: E402
from app.privacy.pii import PiiOptions, PiiSpan, default_options, find_pii, find_pii_many  # noqa: E402
from app.privacy.pipeline import get_ner_nlp  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "nlp"
LABELLED = [FIXTURES / "pii_labelled.jsonl", FIXTURES / "pii_spoken.jsonl"]
HELD_OUT = [FIXTURES / "pii_heldout.jsonl", FIXTURES / "pii_heldout_spoken.jsonl", FIXTURES / "pii_heldout_3.jsonl"]

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


def detect(items: list[Labelled], options: PiiOptions) -> list[list[PiiSpan]]:
    return find_pii_many([i.text for i in items], contexts=[i.context for i in items], options=options)


def timed(detector, items: list[Labelled], repeat: int) -> tuple[list[list[PiiSpan]], float]:
    started = time.perf_counter()
    for _ in range(repeat):
        result = detector(items)
    return result, repeat * len(items) / (time.perf_counter() - started)


def table(name: str, report: Report) -> None:
    print(f"\n{name}")
    print(f"  {'kind':<12}{'gold':>6}{'pred':>6}{'precision':>11}{'recall':>8}   target")
    for kind in sorted(report.kinds):
        k = report.kinds[kind]
        target = ""
        if kind in PII_TARGETS:
            recall, precision = PII_TARGETS[kind]
            ok = k.recall >= recall and (precision is None or k.precision >= precision)
            target = f"recall >= {recall:.2f}" + (f", precision >= {precision:.2f}" if precision else "")
            target += "  met" if ok else "  MISSED"
        print(f"  {kind:<12}{k.gold:>6}{k.predicted:>6}{k.precision:>11.3f}{k.recall:>8.3f}   {target}")
    missed = missed_targets(report)
    print("  targets: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))


def per_channel(items: list[Labelled], predicted: list[list[PiiSpan]]) -> None:
    groups: dict[str, list[int]] = defaultdict(list)
    for index, item in enumerate(items):
        groups[item.channel + (" (answer to a question)" if item.context else "")].append(index)
    print("\nper channel (the six target kinds): snippets, gold spans, recall, precision")
    for channel in sorted(groups):
        chosen = groups[channel]
        report = score([items[i] for i in chosen], [predicted[i] for i in chosen])
        kinds = [report.kinds[kind] for kind in PII_TARGETS]
        gold, found = sum(k.gold for k in kinds), sum(k.found for k in kinds)
        predicted_count, correct = sum(k.predicted for k in kinds), sum(k.correct for k in kinds)
        print(f"  {channel:<32}{len(chosen):>5}{gold:>6}{found / max(gold, 1):>8.3f}"
              f"{correct / max(predicted_count, 1):>8.3f}")


def main() -> None:
    labelled, held_out = load_labelled_sets(LABELLED), load_labelled_sets(HELD_OUT)
    everything = labelled + held_out
    hong_kong = replace(default_options(), region="HK")  # the shipped vocabulary (models/vocabulary.yaml)
    uk = replace(default_options(), region="GB")
    get_ner_nlp()  # load outside the timing
    detect(everything[:8], hong_kong)
    print(f"{len(labelled)} labelled + {len(held_out)} held-out snippets; vocabulary allow-list: "
          f"{', '.join(hong_kong.allow) or '(none)'}")
    _, base_rate = timed(lambda items: baseline([i.text for i in items]), everything, repeat=20)
    full_pred, full_rate = timed(lambda items: detect(items, hong_kong), everything, repeat=2)
    one_pred, one_rate = timed(lambda items: [find_pii(i.text, context=i.context, options=hong_kong)
                                              for i in items], everything, repeat=1)
    pattern_pred, pattern_rate = timed(lambda items: [find_pii(i.text, context=i.context, options=hong_kong,
                                                               use_ner=False) for i in items], everything, repeat=3)
    split = len(labelled)
    table(f"find_pii, HK deployment (region HK), labelled set ({len(labelled)})", score(labelled, full_pred[:split]))
    table(f"find_pii, HK deployment, held-out set ({len(held_out)})", score(held_out, full_pred[split:]))
    full = score(everything, full_pred)
    table(f"find_pii, HK deployment, all {len(everything)} snippets", full)
    table(f"find_pii, UK deployment (region GB), all {len(everything)} snippets",
          score(everything, detect(everything, uk)))
    table("find_pii(use_ner=False) (patterns only), HK, all", score(everything, pattern_pred))
    table("regex-only baseline, all", score(everything, baseline([i.text for i in everything])))
    per_channel(everything, full_pred)
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
