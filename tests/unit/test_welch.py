"""The closed-form Welch test the coaching verdicts use gives scipy's p-value (it replaced
scipy.stats.ttest_ind, whose per-call overhead dominated the coach's home page)."""

import math
import warnings

from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from app.coaching.effectiveness import welch_p_value

scores = st.lists(st.sampled_from([0.0, 25.0, 50.0, 62.5, 75.0, 87.5, 100.0]) | st.floats(0, 100).map(
    lambda x: round(x, 1)), min_size=1, max_size=15)


@settings(max_examples=300, deadline=None)
@given(before=scores, after=scores)
def test_welch_p_value_equals_scipys(before, after):
    if len(set(before)) <= 1 and len(set(after)) <= 1:
        assert welch_p_value(before, after) == (1.0 if sum(before) / len(before) == sum(after) / len(after) else 0.0)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = float(stats.ttest_ind(after, before, equal_var=False).pvalue)
    expected = 1.0 if math.isnan(expected) else expected
    assert math.isclose(welch_p_value(before, after), expected, rel_tol=1e-9, abs_tol=1e-12)


def test_known_values():
    assert math.isclose(welch_p_value([60, 65, 70, 62], [80, 85, 90, 88]), float(
        stats.ttest_ind([80, 85, 90, 88], [60, 65, 70, 62], equal_var=False).pvalue))
    assert welch_p_value([70, 80, 90], [70, 80, 90]) == 1.0
