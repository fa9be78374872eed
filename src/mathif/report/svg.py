"""Small inline SVG charts for the HTML report.

Why hand-made SVG rather than matplotlib: the report needs five kinds of simple chart (bars with
interval whiskers, stacked bars, a line with an interval band), the output must be byte-for-byte
reproducible so that reports can be diffed and tested, and the HTML must open offline. Writing
the few dozen SVG elements ourselves costs no dependency (matplotlib would add ~40 MB and a font
cache, and writes random element ids into its SVG), and the text stays selectable and sharp.

Every number is formatted with a fixed precision, so the same input always gives the same bytes.
Each bar carries its value as a label (``class="value"``), and each bar and point a ``<title>``
with its exact value and interval, shown by browsers as a tooltip. A 0% bar is drawn as a thin
stub (``class="bar zero"``) so that "zero" and "no value" look different.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

# A bar this thin (px) still shows: what a 0% bar is drawn as.
MIN_BAR = 2.0
# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000")
FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"'


@dataclass(frozen=True)
class Series:
    """One set of bars or one line: a value (and optional interval) per category."""

    name: str
    values: Sequence[float | None]
    lows: Sequence[float | None] = field(default_factory=tuple)
    highs: Sequence[float | None] = field(default_factory=tuple)
    notes: Sequence[str] = field(default_factory=tuple)
    colour: int | None = None  # index into PALETTE; default: the series' position

    def colour_of(self, position: int) -> str:
        return PALETTE[(position if self.colour is None else self.colour) % len(PALETTE)]

    def top(self, i: int) -> float | None:
        """Where the bar and its whisker end (the label goes past it)."""
        value = self.values[i] if i < len(self.values) else None
        if value is None:
            return None
        ci = self.interval(i)
        return max(value, ci[1]) if ci is not None else value

    def interval(self, i: int) -> tuple[float, float] | None:
        if i >= len(self.lows) or i >= len(self.highs):
            return None
        low, high = self.lows[i], self.highs[i]
        return None if low is None or high is None else (low, high)


def _n(x: float) -> str:
    """Coordinates with one decimal: enough for screens, stable for diffs."""
    text = f"{x:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _tip(series: Series, label: str, i: int, unit: str) -> str:
    value = series.values[i]
    parts = [f"{series.name} · {label}: " + ("n/a" if value is None else f"{value:.2f}{unit}")]
    ci = series.interval(i)
    if ci is not None:
        parts.append(f"95% CI [{ci[0]:.2f}, {ci[1]:.2f}]")
    if i < len(series.notes) and series.notes[i]:
        parts.append(series.notes[i])
    return escape(" · ".join(parts))


def legend_width(series: Sequence[Series]) -> float:
    """Width the legend needs (an estimate at 6.5 px per character of an 11 px font)."""
    return sum(24 + 6.5 * len(s.name) for s in series)


def _legend(series: Sequence[Series], x: float, y: float) -> list[str]:
    out = []
    cursor = x
    for k, s in enumerate(series):
        colour = s.colour_of(k)
        out.append(f'<rect x="{_n(cursor)}" y="{_n(y - 9)}" width="10" height="10" '
                   f'fill="{colour}"/>')
        out.append(f'<text x="{_n(cursor + 14)}" y="{_n(y)}" font-size="11">'
                   f"{escape(s.name)}</text>")
        cursor += 24 + 6.5 * len(s.name)
    return out


def _open(width: float, height: float, title: str, kind: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" '
        f'width="{_n(width)}" height="{_n(height)}" viewBox="0 0 {_n(width)} {_n(height)}" '
        f'role="img" aria-label="{escape(title)}" {FONT}>',
        f"<title>{escape(title)}</title>",
        f'<text x="8" y="18" font-size="14" font-weight="600">{escape(title)}</text>',
    ]


def hbar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    x_max: float = 100.0,
    unit: str = "%",
    label_width: float = 300.0,
    width: float = 760.0,
) -> str:
    """Horizontal grouped bars with interval whiskers and value labels (e.g. pass rate per
    constraint type)."""
    bar_h = 12.0
    group_h = bar_h * len(series) + 8.0
    top, bottom = 44.0, 30.0
    plot_w = width - label_width - 44.0  # room for a label after a full bar
    height = top + group_h * len(labels) + bottom
    out = _open(width, height, title, "hbar")
    out += _legend(series, label_width, 36.0)

    def sx(v: float) -> float:
        return label_width + plot_w * max(0.0, min(v, x_max)) / x_max

    for tick in range(0, 101, 20):
        v = x_max * tick / 100.0
        x = sx(v)
        out.append(f'<line x1="{_n(x)}" y1="{_n(top - 4)}" x2="{_n(x)}" '
                   f'y2="{_n(height - bottom)}" stroke="#ddd"/>')
        out.append(f'<text x="{_n(x)}" y="{_n(height - bottom + 14)}" font-size="10" '
                   f'text-anchor="middle">{v:g}{unit}</text>')
    for g, label in enumerate(labels):
        y0 = top + g * group_h
        out.append(f'<text x="{_n(label_width - 6)}" y="{_n(y0 + group_h / 2 + 2)}" '
                   f'font-size="11" text-anchor="end">{escape(label)}</text>')
        for k, s in enumerate(series):
            value = s.values[g] if g < len(s.values) else None
            y = y0 + 4 + k * bar_h
            tip = _tip(s, label, g, unit)
            if value is None:
                out.append(f'<text x="{_n(label_width + 4)}" y="{_n(y + bar_h - 3)}" '
                           f'font-size="9" fill="#888">n/a<title>{tip}</title></text>')
                continue
            length = sx(value) - label_width
            kind = "bar zero" if length < MIN_BAR else "bar"
            out.append(f'<rect class="{kind}" x="{_n(label_width)}" y="{_n(y)}" '
                       f'width="{_n(max(length, MIN_BAR))}" height="{_n(bar_h - 2)}" '
                       f'fill="{s.colour_of(k)}"><title>{tip}</title></rect>')
            ci = s.interval(g)
            if ci is not None:
                ym = y + (bar_h - 2) / 2
                out.append(f'<path d="M{_n(sx(ci[0]))} {_n(ym)}H{_n(sx(ci[1]))}'
                           f'M{_n(sx(ci[0]))} {_n(ym - 3)}v6M{_n(sx(ci[1]))} {_n(ym - 3)}v6" '
                           f'stroke="#222" stroke-width="1.2" fill="none"/>')
            end = max(sx(s.top(g) or 0.0), label_width + MIN_BAR)
            out.append(f'<text class="value" x="{_n(end + 3)}" y="{_n(y + bar_h - 3)}" '
                       f'font-size="9" fill="#333">{value:.1f}</text>')
    out.append("</svg>")
    return "\n".join(out)


def vbar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    y_max: float = 100.0,
    unit: str = "%",
    width: float | None = None,
    height: float = 280.0,
) -> str:
    """Vertical grouped bars with interval whiskers (e.g. HAcc by source, one bar per run)."""
    bar_w = 18.0
    group_w = bar_w * len(series) + 22.0
    left, right, top, bottom = 44.0, 12.0, 56.0, 40.0  # room above a full bar for its label
    if width is None:
        width = max(360.0, left + right + group_w * len(labels),
                    left + right + legend_width(series))
    plot_w = width - left - right
    group_w = plot_w / max(1, len(labels))
    plot_h = height - top - bottom
    out = _open(width, height, title, "vbar")
    out += _legend(series, left, 36.0)

    def sy(v: float) -> float:
        return top + plot_h * (1.0 - max(0.0, min(v, y_max)) / y_max)

    for tick in range(0, 101, 20):
        v = y_max * tick / 100.0
        y = sy(v)
        out.append(f'<line x1="{_n(left)}" y1="{_n(y)}" x2="{_n(width - right)}" y2="{_n(y)}" '
                   f'stroke="#ddd"/>')
        out.append(f'<text x="{_n(left - 4)}" y="{_n(y + 3)}" font-size="10" '
                   f'text-anchor="end">{v:g}{unit}</text>')
    for g, label in enumerate(labels):
        x0 = left + g * group_w
        inner = bar_w * len(series)
        start = x0 + (group_w - inner) / 2
        out.append(f'<text x="{_n(x0 + group_w / 2)}" y="{_n(height - bottom + 16)}" '
                   f'font-size="11" text-anchor="middle">{escape(label)}</text>')
        for k, s in enumerate(series):
            value = s.values[g] if g < len(s.values) else None
            x = start + k * bar_w
            tip = _tip(s, label, g, unit)
            if value is None:
                continue
            length = sy(0) - sy(value)
            kind = "bar zero" if length < MIN_BAR else "bar"
            out.append(f'<rect class="{kind}" x="{_n(x + 1)}" '
                       f'y="{_n(sy(0) - max(length, MIN_BAR))}" width="{_n(bar_w - 2)}" '
                       f'height="{_n(max(length, MIN_BAR))}" fill="{s.colour_of(k)}">'
                       f"<title>{tip}</title></rect>")
            ci = s.interval(g)
            if ci is not None:
                xm = x + bar_w / 2
                out.append(f'<path d="M{_n(xm)} {_n(sy(ci[0]))}V{_n(sy(ci[1]))}'
                           f'M{_n(xm - 3)} {_n(sy(ci[0]))}h6M{_n(xm - 3)} {_n(sy(ci[1]))}h6" '
                           f'stroke="#222" stroke-width="1.2" fill="none"/>')
            above = min(sy(s.top(g) or 0.0), sy(0) - MIN_BAR) - 3
            out.append(f'<text class="value" x="{_n(x + bar_w / 2)}" y="{_n(above)}" '
                       f'font-size="9" text-anchor="middle" fill="#333">{value:.0f}</text>')
    out.append("</svg>")
    return "\n".join(out)


def stacked_hbar(
    title: str,
    rows: Sequence[tuple[str, Sequence[tuple[str, float]]]],
    *,
    colours: Sequence[str] = ("#009E73", "#E69F00", "#56B4E9", "#D55E00"),
    label_width: float = 220.0,
    width: float = 760.0,
) -> str:
    """100% stacked bars, one per run (e.g. the four error quadrants)."""
    bar_h, gap, top = 22.0, 10.0, 52.0
    height = top + (bar_h + gap) * len(rows) + 20.0
    plot_w = width - label_width - 20.0
    out = _open(width, height, title, "stacked")
    names = [name for name, _ in rows[0][1]] if rows else []
    cursor = 8.0
    for k, name in enumerate(names):
        out.append(f'<rect x="{_n(cursor)}" y="27" width="10" height="10" '
                   f'fill="{colours[k % len(colours)]}"/>')
        out.append(f'<text x="{_n(cursor + 14)}" y="36" font-size="11">{escape(name)}</text>')
        cursor += 24 + 6.2 * len(name)
    for r, (label, parts) in enumerate(rows):
        y = top + r * (bar_h + gap)
        out.append(f'<text x="{_n(label_width - 6)}" y="{_n(y + bar_h / 2 + 4)}" '
                   f'font-size="11" text-anchor="end">{escape(label)}</text>')
        total = sum(v for _, v in parts) or 1.0
        x = label_width
        for k, (name, value) in enumerate(parts):
            w = plot_w * value / total
            tip = escape(f"{label} · {name}: {value:.2f}%")
            out.append(f'<rect class="bar" x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" '
                       f'height="{_n(bar_h)}" fill="{colours[k % len(colours)]}">'
                       f"<title>{tip}</title></rect>")
            if w > 34:
                out.append(f'<text x="{_n(x + w / 2)}" y="{_n(y + bar_h / 2 + 4)}" '
                           f'font-size="10" text-anchor="middle" fill="#fff">{value:.1f}</text>')
            x += w
    out.append("</svg>")
    return "\n".join(out)


def line_chart(
    title: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    *,
    y_max: float = 100.0,
    unit: str = "%",
    width: float = 760.0,
    height: float = 300.0,
    x_title: str = "",
    x_sublabels: Sequence[str] = (),
) -> str:
    """Lines over ordered bins with a shaded interval band (e.g. HAcc by reasoning length).

    ``x_sublabels`` go under the labels (e.g. each bin's range); every point carries its
    value as a label."""
    left, right, top, bottom = 44.0, 16.0, 48.0, 60.0 if x_sublabels else 48.0
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(1, len(x_labels))
    out = _open(width, height, title, "line")
    out += _legend(series, left, 36.0)

    def sx(i: int) -> float:
        return left + plot_w * (i + 0.5) / n

    def sy(v: float) -> float:
        return top + plot_h * (1.0 - max(0.0, min(v, y_max)) / y_max)

    for tick in range(0, 101, 20):
        v = y_max * tick / 100.0
        out.append(f'<line x1="{_n(left)}" y1="{_n(sy(v))}" x2="{_n(width - right)}" '
                   f'y2="{_n(sy(v))}" stroke="#ddd"/>')
        out.append(f'<text x="{_n(left - 4)}" y="{_n(sy(v) + 3)}" font-size="10" '
                   f'text-anchor="end">{v:g}{unit}</text>')
    for i, label in enumerate(x_labels):
        out.append(f'<text x="{_n(sx(i))}" y="{_n(height - bottom + 16)}" font-size="10" '
                   f'text-anchor="middle">{escape(label)}</text>')
        if i < len(x_sublabels):
            out.append(f'<text class="bin-range" x="{_n(sx(i))}" y="{_n(height - bottom + 28)}" '
                       f'font-size="9" fill="#555" text-anchor="middle">'
                       f"{escape(x_sublabels[i])}</text>")
    if x_title:
        out.append(f'<text x="{_n(left + plot_w / 2)}" y="{_n(height - 10)}" font-size="11" '
                   f'text-anchor="middle">{escape(x_title)}</text>')
    for k, s in enumerate(series):
        colour = s.colour_of(k)
        points = [(i, v) for i, v in enumerate(s.values) if v is not None]
        band = [(i, s.interval(i)) for i, _ in points]
        upper = [(i, ci[1]) for i, ci in band if ci is not None]
        lower = [(i, ci[0]) for i, ci in band if ci is not None]
        if len(upper) > 1:
            path = " ".join(f"{_n(sx(i))},{_n(sy(v))}" for i, v in upper + lower[::-1])
            out.append(f'<polygon points="{path}" fill="{colour}" fill-opacity="0.15"/>')
        if len(points) > 1:
            path = " ".join(f"{_n(sx(i))},{_n(sy(v))}" for i, v in points)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                       f'stroke-width="2"/>')
        for i, v in points:
            tip = _tip(s, x_labels[i] if i < len(x_labels) else str(i), i, unit)
            out.append(f'<circle class="point" cx="{_n(sx(i))}" cy="{_n(sy(v))}" r="3.5" '
                       f'fill="{colour}"><title>{tip}</title></circle>')
            out.append(f'<text class="value" x="{_n(sx(i) + 5)}" y="{_n(sy(v) - 5)}" '
                       f'font-size="9" fill="#333">{v:.0f}</text>')
    out.append("</svg>")
    return "\n".join(out)
