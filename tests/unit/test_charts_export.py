from app.core.export import csv_lines, safe_cell
from app.reports.charts import Series, bar_chart, line_chart


def test_bar_chart_is_accessible_and_carries_its_data():
    chart = bar_chart("Survey bands", ["Sep", "Oct"], [Series("bad", [2, 5]), Series("good", [90, None])],
                      label_header="month")
    svg = str(chart.svg)
    assert svg.startswith("<svg") and 'role="img"' in svg and "<title" in svg
    assert svg.count("<rect") == 2 + 3  # legend squares + the three non-empty bars
    assert chart.headers == ["month", "bad", "good"] and chart.rows == [["Sep", "2", "90"], ["Oct", "5", ""]]


def test_chart_text_is_escaped():
    chart = line_chart("<script>x</script>", ["<b>"], [Series("<i>", [1.0])])
    assert "<script>" not in str(chart.svg) and "&lt;script&gt;" in str(chart.svg)


def test_line_chart_with_band_and_target():
    chart = line_chart("Scores", ["W1", "W2", "W3"],
                       [Series("ada", [80, 82, 85], low=[75, 78, 80], high=[85, 86, 90])], target=82)
    svg = str(chart.svg)
    assert "<polygon" in svg and "<polyline" in svg and "target 82.0" in svg


def test_csv_neutralises_formulas_and_keeps_numbers():
    assert safe_cell("=HYPERLINK(\"evil\")") == "'=HYPERLINK(\"evil\")"
    assert safe_cell("-5") == "-5" and safe_cell("@user") == "'@user" and safe_cell(None) == ""
    lines = list(csv_lines(["name", "score"], [["Ada, A.", 91.5]]))
    assert lines == ["name,score\r\n", '"Ada, A.",91.5\r\n']


def test_line_chart_gaps_clipped_band_and_responsive_width():
    import re
    from datetime import date

    from app.reports.charts import iso_weeks, line_chart
    labels = ["W1", "W2", "W3", "W4"]
    chart = line_chart("Average score per week with its 95 % interval", labels, [Series(
        "score", [90, 95, None, 60], low=[70, 80, None, 20], high=[110, 120, None, 95])], y_min=0, y_max=100)
    svg = str(chart.svg)
    # a missing week breaks the line: one polyline for W1-W2, W4 stands alone (a dot), nothing bridges W3
    assert svg.count("<polyline") == 1 and svg.count("<circle") == 3
    # the band is drawn for both runs and never leaves the plot (top y = 26 is the scale's 100)
    assert svg.count("<polygon") == 1 and svg.count('fill-opacity="0.15"') == 2
    ys = [float(y) for y in re.findall(r"[\d.]+,([\d.]+)", svg.split("<polygon points=\"")[1].split('"')[0])]
    assert min(ys) >= 26.0
    assert 'width="100%"' in svg and "max-width:640px" in svg and 'height="260"' not in svg
    assert iso_weeks(date(2026, 12, 28), date(2027, 1, 12)) == ["2026-W53", "2027-W01", "2027-W02"]
