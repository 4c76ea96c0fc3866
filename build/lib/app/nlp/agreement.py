"""How often auto answers match human answers: accuracy and Cohen's kappa per question."""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def cohen_kappa(pairs: Sequence[tuple[str, str]]) -> float | None:
    """Cohen's kappa of two raters over the same items: (p_o - p_e) / (1 - p_e).

    p_o is the observed agreement, p_e the agreement expected by chance from each rater's marginal
    frequencies. Returns None for no items, and 1.0 when both raters used a single identical label
    throughout (p_e = 1: agreement is perfect but kappa is undefined).
    """
    n = len(pairs)
    if n == 0:
        return None
    observed = sum(1 for a, b in pairs if a == b) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(first[label] * second[label] for label in first.keys() | second.keys()) / (n * n)
    if expected >= 1.0:
        return 1.0 if observed == 1.0 else 0.0
    return (observed - expected) / (1 - expected)


@dataclass(frozen=True)
class QuestionAgreement:
    question_id: str
    n: int
    agreed: int
    accuracy: float | None
    kappa: float | None
    confusion: dict[str, int]  # "auto→human": count

    @property
    def trust(self) -> str:
        """A plain-language reading of kappa (Landis & Koch bands)."""
        if self.kappa is None or self.n < 10:
            return "too few answers"
        k = self.kappa
        return ("poor" if k < 0.2 else "fair" if k < 0.4 else "moderate" if k < 0.6
                else "substantial" if k < 0.8 else "almost perfect")


def agreement_by_question(rows: Iterable[tuple[str, str, str]]) -> list[QuestionAgreement]:
    """rows: (question_id, auto_value, human_value); one result per question, sorted by question id."""
    grouped: dict[str, list[tuple[str, str]]] = {}
    for question_id, auto, human in rows:
        grouped.setdefault(question_id, []).append((auto, human))
    report = []
    for question_id in sorted(grouped):
        pairs = grouped[question_id]
        agreed = sum(1 for a, h in pairs if a == h)
        confusion = Counter(f"{a}→{h}" for a, h in pairs)
        report.append(QuestionAgreement(question_id=question_id, n=len(pairs), agreed=agreed,
                                        accuracy=agreed / len(pairs), kappa=cohen_kappa(pairs),
                                        confusion=dict(sorted(confusion.items()))))
    return report
