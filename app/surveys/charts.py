"""The survey band trend, drawn by the shared chart module (app/core/charts.py): the same chart and data
table on the web page and in the PDF meeting pack."""

from app.core.charts import Chart, Series, stacked_bar_chart
from app.surveys.figures import PeriodFigures

BAND_COLOURS = {"good": "#2e7d32", "acceptable": "#f9a825", "bad": "#c62828"}


def band_trend_chart(periods: list[PeriodFigures]) -> Chart:
    """Good/acceptable/bad answers per period as stacked bars, with the response rate (%) as a line."""
    labels = [p.period for p in periods]
    series = [Series(band, [float(p.total.counts.get(band, 0)) for p in periods], color)
              for band, color in BAND_COLOURS.items()]
    rate = Series("response rate %", [round(p.total.response_rate, 1) for p in periods], "#1565c0")
    return stacked_bar_chart("Survey answers per period by band, with the response rate", labels, series,
                             rate=rate, label_header="Period")
