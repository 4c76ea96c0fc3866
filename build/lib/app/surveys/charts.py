"""Small SVG charts drawn by our own code: the same markup on the web page and in the PDF meeting pack."""

from html import escape

from markupsafe import Markup

from app.surveys.figures import PeriodFigures

BAND_COLOURS = {"good": "#2e7d32", "acceptable": "#f9a825", "bad": "#c62828"}


def band_trend_svg(periods: list[PeriodFigures], *, width: int = 560, height: int = 236) -> Markup:
    """Stacked bars of good/acceptable/bad answers per period, with the response rate as a line (right axis).
    Labels are escaped: the markup is safe to embed."""
    left, right, top, bottom = 40, 40, 16, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    most = max((sum(p.total.counts.values()) for p in periods), default=0) or 1
    slot = plot_w / max(len(periods), 1)
    bar_w = slot * 0.6
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="Survey answers per period by band">',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#888"/>',
             f'<text x="{left - 6}" y="{top + 8}" font-size="10" text-anchor="end">{most}</text>',
             f'<text x="{left - 6}" y="{top + plot_h}" font-size="10" text-anchor="end">0</text>',
             f'<text x="{left + plot_w + 6}" y="{top + 8}" font-size="10">100%</text>']
    points = []
    for index, period in enumerate(periods):
        x = left + index * slot + (slot - bar_w) / 2
        y = float(top + plot_h)
        for band in ("good", "acceptable", "bad"):
            count = period.total.counts.get(band, 0)
            h = plot_h * count / most
            if h > 0:
                y -= h
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                             f'fill="{BAND_COLOURS[band]}"><title>{escape(period.period)} {band}: {count}'
                             f'</title></rect>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 14}" font-size="10" '
                     f'text-anchor="middle">{escape(period.period)}</text>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 26}" font-size="9" fill="#555" '
                     f'text-anchor="middle">{period.total.completed}/{period.total.invited}</text>')
        rate_y = top + plot_h - plot_h * min(period.total.response_rate, 100.0) / 100.0
        points.append(f"{x + bar_w / 2:.1f},{rate_y:.1f}")
    if len(points) > 1:
        parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="#1565c0" stroke-width="2"/>')
    for point in points:
        cx, cy = point.split(",")
        parts.append(f'<circle cx="{cx}" cy="{cy}" r="3" fill="#1565c0"/>')
    legend_y = height - 6
    for offset, (band, colour) in enumerate([*BAND_COLOURS.items(), ("response rate", "#1565c0")]):
        lx = left + offset * 110
        parts.append(f'<rect x="{lx}" y="{legend_y - 8}" width="10" height="8" fill="{colour}"/>'
                     f'<text x="{lx + 14}" y="{legend_y}" font-size="10">{band}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - built from numbers and escaped labels only
