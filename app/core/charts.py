"""Server-drawn SVG charts, used by the pages and the PDF packs alike.

Every chart carries an accessible <title>/<desc> and the data table behind it, so nobody has to read
values off bars. All text is escaped here; the returned markup is safe to insert into templates.
Charts scale to the width of their container (up to their drawn width), on pages and in PDFs alike. A line
breaks where a value is missing (an empty week is a gap, not a bridge); interval bands are clipped to the
chart's scale.
"""

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from html import escape

from markupsafe import Markup

PALETTE = ["#2455c3", "#e08a00", "#1e7b34", "#b3261e", "#6b4fb3", "#00838f"]


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float | None]
    color: str | None = None
    low: list[float | None] | None = None  # optional interval band (e.g. a 95 % CI)
    high: list[float | None] | None = None


@dataclass
class Chart:
    title: str
    svg: Markup
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)


def _fmt(value: float | None, digits: int) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _scale(lo: float, hi: float, top: float, bottom: float) -> Callable[[float], float]:
    span = (hi - lo) or 1.0
    return lambda v: bottom - (v - lo) / span * (bottom - top)


def _frame(title: str, desc: str, width: int, height: int, body: list[str]) -> Markup:
    uid = hashlib.sha1(f"{title}|{desc}".encode(), usedforsecurity=False).hexdigest()[:8]
    return Markup(  # noqa: S704 - every piece of text in `body` and here is escaped by this module
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'style="max-width:{width}px;height:auto" preserveAspectRatio="xMinYMin meet" '
        f'role="img" aria-labelledby="t{uid} d{uid}" class="chart" font-family="DejaVu Sans, sans-serif" '
        f'font-size="11"><title id="t{uid}">{escape(title)}</title><desc id="d{uid}">{escape(desc)}</desc>'
        + "".join(body) + "</svg>")


def _axes(lo: float, hi: float, left: int, right: int, top: int, bottom: int, digits: int) -> list[str]:
    y = _scale(lo, hi, top, bottom)
    parts = [f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#888"/>']
    for i in range(5):
        value = lo + (hi - lo) * i / 4
        pos = y(value)
        parts.append(f'<line x1="{left}" y1="{pos:.1f}" x2="{right}" y2="{pos:.1f}" stroke="#e3e6ec"/>'
                     f'<text x="{left - 4}" y="{pos + 4:.1f}" text-anchor="end" fill="#555">{_fmt(value, digits)}</text>')
    return parts


def _legend(series: list[Series], left: int, top: int) -> list[str]:
    parts = []
    x = left
    for i, s in enumerate(series):
        color = s.color or PALETTE[i % len(PALETTE)]
        parts.append(f'<rect x="{x}" y="{top - 10}" width="10" height="10" fill="{color}"/>'
                     f'<text x="{x + 14}" y="{top - 1}">{escape(s.name)}</text>')
        x += 24 + 7 * len(s.name)
    return parts


def _table(labels: list[str], series: list[Series], digits: int, label_header: str) -> tuple[list[str], list[list[str]]]:
    headers = [label_header] + [s.name for s in series]
    rows = [[label] + [_fmt(s.values[i] if i < len(s.values) else None, digits) for s in series]
            for i, label in enumerate(labels)]
    return headers, rows


def _bounds(series: list[Series], y_min: float | None, y_max: float | None, target: float | None) -> tuple[float, float]:
    values = [v for s in series for v in (s.values + (s.low or []) + (s.high or [])) if v is not None]
    if target is not None:
        values.append(target)
    lo = y_min if y_min is not None else min([0.0, *values])
    hi = y_max if y_max is not None else max([1.0, *values])
    return lo, hi if hi > lo else lo + 1


def bar_chart(title: str, labels: list[str], series: list[Series], *, width: int = 640, height: int = 260,
              y_min: float | None = None, y_max: float | None = None, digits: int = 0,
              label_header: str = "") -> Chart:
    """Grouped bars, one group per label."""
    left, right, top, bottom = 44, width - 10, 26, height - 34
    lo, hi = _bounds(series, y_min, y_max, None)
    y = _scale(lo, hi, top, bottom)
    body = _axes(lo, hi, left, right, top, bottom, digits) + _legend(series, left, 14)
    group = (right - left) / max(1, len(labels))
    bar = group * 0.8 / max(1, len(series))
    for i, label in enumerate(labels):
        x0 = left + i * group + group * 0.1
        for j, s in enumerate(series):
            value = s.values[i] if i < len(s.values) else None
            if value is None:
                continue
            color = s.color or PALETTE[j % len(PALETTE)]
            top_y, base = y(max(value, lo)), y(max(lo, 0.0) if lo < 0 else lo)
            body.append(f'<rect x="{x0 + j * bar:.1f}" y="{min(top_y, base):.1f}" width="{bar * 0.92:.1f}" '
                        f'height="{abs(base - top_y):.1f}" fill="{color}"><title>{escape(s.name)} · '
                        f'{escape(label)}: {_fmt(value, digits)}</title></rect>')
        body.append(f'<text x="{left + i * group + group / 2:.1f}" y="{bottom + 14}" text-anchor="middle" '
                    f'fill="#333">{escape(label)}</text>')
    headers, rows = _table(labels, series, digits, label_header)
    desc = "; ".join(f"{r[0]}: " + ", ".join(f"{h} {v}" for h, v in zip(headers[1:], r[1:], strict=False)) for r in rows)
    return Chart(title=title, svg=_frame(title, desc, width, height, body), headers=headers, rows=rows)


def _clipper(lo: float, hi: float) -> Callable[[float], float]:
    return lambda v: min(max(v, lo), hi)


def _runs(points: Sequence[tuple[int, float, float]]) -> list[list[tuple[int, float, float]]]:
    """Consecutive indexes grouped: [(0,..), (1,..), (3,..)] → [[0, 1], [3]] (a missing value breaks a line)."""
    runs: list[list[tuple[int, float, float]]] = []
    for point in points:
        if runs and runs[-1][-1][0] == point[0] - 1:
            runs[-1].append(point)
        else:
            runs.append([point])
    return runs


def iso_weeks(first: date, last: date) -> list[str]:
    """Every ISO week label ("2026-W07") from the week of `first` to the week of `last`, empty ones included."""
    start = first - timedelta(days=first.weekday())
    labels = []
    while start <= last:
        year, week, _ = start.isocalendar()
        labels.append(f"{year}-W{week:02d}")
        start += timedelta(days=7)
    return labels


def line_chart(title: str, labels: list[str], series: list[Series], *, width: int = 640, height: int = 260,
               y_min: float | None = None, y_max: float | None = None, digits: int = 1,
               target: float | None = None, label_header: str = "") -> Chart:
    """Lines over ordered labels (periods), with optional interval bands and a target line."""
    left, right, top, bottom = 44, width - 10, 26, height - 34
    lo, hi = _bounds(series, y_min, y_max, target)
    y = _scale(lo, hi, top, bottom)
    step = (right - left) / max(1, len(labels) - 1) if len(labels) > 1 else 0
    xs = [left + i * step if len(labels) > 1 else (left + right) / 2 for i in range(len(labels))]
    body = _axes(lo, hi, left, right, top, bottom, digits) + _legend(series, left, 14)
    if target is not None:
        body.append(f'<line x1="{left}" y1="{y(target):.1f}" x2="{right}" y2="{y(target):.1f}" stroke="#b3261e" '
                    f'stroke-dasharray="4 3"/><text x="{right}" y="{y(target) - 3:.1f}" text-anchor="end" '
                    f'fill="#b3261e">target {_fmt(target, digits)}</text>')
    clip = _clipper(lo, hi)
    for j, s in enumerate(series):
        color = s.color or PALETTE[j % len(PALETTE)]
        if s.low and s.high:
            for run in _runs([(i, lw, hg) for i, (lw, hg) in enumerate(zip(s.low, s.high, strict=False))
                              if lw is not None and hg is not None and i < len(xs)]):
                upper = [(xs[i], y(clip(hg))) for i, _, hg in run]
                lower = [(xs[i], y(clip(lw))) for i, lw, _ in run]
                if len(run) == 1:  # one week alone: a short bar instead of an invisible polygon
                    (cx, top_y), (_, low_y) = upper[0], lower[0]
                    body.append(f'<rect x="{cx - 4:.1f}" y="{top_y:.1f}" width="8" height="{low_y - top_y:.1f}" '
                                f'fill="{color}" fill-opacity="0.15"/>')
                    continue
                band = " ".join(f"{a:.1f},{b:.1f}" for a, b in upper + lower[::-1])
                body.append(f'<polygon points="{band}" fill="{color}" fill-opacity="0.15" stroke="none"/>')
        for run in _runs([(i, v, v) for i, v in enumerate(s.values) if v is not None and i < len(xs)]):
            if len(run) > 1:
                body.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="'
                            + " ".join(f"{xs[i]:.1f},{y(clip(v)):.1f}" for i, v, _ in run) + '"/>')
        for i, v in enumerate(s.values):
            if v is not None and i < len(xs):
                body.append(f'<circle cx="{xs[i]:.1f}" cy="{y(clip(v)):.1f}" r="3" fill="{color}"><title>'
                            f'{escape(s.name)} · {escape(labels[i])}: {_fmt(v, digits)}</title></circle>')
    for i, label in enumerate(labels):
        anchor = "end" if len(labels) > 1 and i == len(labels) - 1 else "middle"  # the last one ends at the edge
        body.append(f'<text x="{xs[i]:.1f}" y="{bottom + 14}" text-anchor="{anchor}" fill="#333">{escape(label)}</text>')
    headers, rows = _table(labels, series, digits, label_header)
    desc = f"{len(labels)} points for {', '.join(s.name for s in series)}"
    return Chart(title=title, svg=_frame(title, desc, width, height, body), headers=headers, rows=rows)


def stacked_bar_chart(title: str, labels: list[str], series: list[Series], *, width: int = 640, height: int = 260,
                      rate: Series | None = None, label_header: str = "") -> Chart:
    """Bars stacked per label (counts), optionally with a rate line in percent on a right-hand 0–100 % axis."""
    left, right, top, bottom = 44, width - (44 if rate else 10), 26, height - 34
    totals = [sum(s.values[i] or 0 for s in series if i < len(s.values)) for i in range(len(labels))]
    hi = max([1.0, *totals])
    y = _scale(0.0, hi, top, bottom)
    body = _axes(0.0, hi, left, right, top, bottom, 0) + _legend(series + ([rate] if rate else []), left, 14)
    group = (right - left) / max(1, len(labels))
    bar = group * 0.6
    for i, label in enumerate(labels):
        x0 = left + i * group + (group - bar) / 2
        base = 0.0
        for j, s in enumerate(series):
            value = (s.values[i] if i < len(s.values) else None) or 0.0
            if value <= 0:
                continue
            color = s.color or PALETTE[j % len(PALETTE)]
            body.append(f'<rect x="{x0:.1f}" y="{y(base + value):.1f}" width="{bar:.1f}" '
                        f'height="{y(base) - y(base + value):.1f}" fill="{color}"><title>{escape(label)} · '
                        f'{escape(s.name)}: {_fmt(value, 0)}</title></rect>')
            base += value
        body.append(f'<text x="{x0 + bar / 2:.1f}" y="{bottom + 14}" text-anchor="middle" fill="#333">'
                     f'{escape(label)}</text>')
    if rate is not None:
        r = _scale(0.0, 100.0, top, bottom)
        color = rate.color or "#1565c0"
        body.append(f'<text x="{right + 4}" y="{top + 4}" fill="#555">100%</text>'
                    f'<text x="{right + 4}" y="{bottom + 4}" fill="#555">0%</text>')
        marks = [(left + i * group + group / 2, r(min(v, 100.0)), v, labels[i]) for i, v in enumerate(rate.values)
                 if v is not None and i < len(labels)]
        if len(marks) > 1:
            body.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="'
                        + " ".join(f"{a:.1f},{b:.1f}" for a, b, _, _ in marks) + '"/>')
        for cx, cy, value, label in marks:
            body.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3" fill="{color}"><title>{escape(rate.name)} · '
                        f'{escape(label)}: {_fmt(value, 1)}</title></circle>')
    headers, rows = _table(labels, series + ([rate] if rate else []), 0, label_header)
    if rate is not None:
        for row, percent in zip(rows, rate.values, strict=False):
            row[-1] = _fmt(percent, 1)
    desc = "; ".join(f"{r[0]}: " + ", ".join(f"{h} {v}" for h, v in zip(headers[1:], r[1:], strict=False)) for r in rows)
    return Chart(title=title, svg=_frame(title, desc, width, height, body), headers=headers, rows=rows)
