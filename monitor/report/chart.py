"""A small inline SVG chart of mentions per day per watch entry: no script, no external asset, all text escaped.

Days run left to right (as on the charts Persian news sites print) over the whole requested period, labelled
with Jalali dates in Persian digits, with the year when the period crosses one; one coloured line per watch
entry, whose legend lives in the HTML next to the chart.

Why these sizes: SVG text scales with the drawing, so the drawing is only 480 units wide with 14-unit text: on a
390 px phone (about 370 px of page) the labels are still about 11 px. Labels are spaced by their own estimated
width, counted back from the last day (the most recent is the one always shown), so they never overlap however
long the period.
"""

from __future__ import annotations

import math
from datetime import date
from html import escape

from monitor.report.view import jalali_day, jalali_year, persian_digits

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
           "#7f7f7f", "#bcbd22")
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 480, 200, 30, 12, 12, 32
FONT = 14  # user units; the page's CSS sets the same on svg.chart
CHAR_WIDTH = 0.62  # a Persian digit or slash, in em, with margin: for spacing labels
LABEL_GAP = 10


def labels(days: list[date], step: float) -> list[tuple[int, str]]:
    """[(day index, label)]: "۰۸/۲۶", or "۱۴۰۳/۱۲/۲۹" when the days cross a Jalali year; never overlapping."""
    if not days:
        return []
    with_year = jalali_year(days[0]) != jalali_year(days[-1])
    text = [persian_digits((jalali_day(d) if with_year else jalali_day(d)[5:]).replace("-", "/")) for d in days]
    width = max(len(t) for t in text) * CHAR_WIDTH * FONT
    every = max(1, math.ceil((width + LABEL_GAP) / step)) if len(days) > 1 else 1
    last = len(days) - 1
    return [(i, text[i]) for i in range(last, -1, -every)][::-1]


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def placed(chosen: list[tuple[int, str]], x) -> list[tuple[int, str, float, str]]:
    """[(index, label, x, text-anchor)]: centred under their day, moved inside the drawing at its edges, and
    any label that would still touch its right-hand neighbour dropped (the last day's label is kept)."""
    out: list[tuple[int, str, float, str, float]] = []
    for i, label in reversed(chosen):
        width = len(label) * CHAR_WIDTH * FONT
        at, anchor, start = x(i), "middle", x(i) - width / 2
        if start < 0:
            at, anchor, start = 0.0, "start", 0.0
        elif start + width > WIDTH:
            at, anchor, start = float(WIDTH), "end", WIDTH - width
        if out and start + width + LABEL_GAP / 2 > out[-1][4]:
            continue
        out.append((i, label, at, anchor, start))
    return [(i, label, at, anchor) for i, label, at, anchor, _ in reversed(out)]


def svg(days: list[date], series: list[tuple[str, dict[date, int]]]) -> str:
    """The chart for `series` [(watch, {day: mentions})] over `days` (oldest first); "" when there is nothing."""
    if not days or not series:
        return ""
    peak = max((n for _, counts in series for n in counts.values()), default=0) or 1
    left = max(LEFT, math.ceil(len(str(peak)) * CHAR_WIDTH * FONT) + 10)  # room for the peak's digits
    plot_w, plot_h = WIDTH - left - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(days) - 1, 1)

    def x(i: int) -> float:
        return left + (i * step if len(days) > 1 else plot_w / 2)

    def y(n: int) -> float:
        return TOP + plot_h - plot_h * n / peak

    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" xmlns="http://www.w3.org/2000/svg"'
             f' aria-label="{escape("mentions per day per watch entry")}">']
    for n in sorted({0, peak, (peak + 1) // 2}):  # gridlines at 0, half and the peak
        parts.append(f'<line x1="{left}" x2="{WIDTH - RIGHT}" y1="{y(n):.1f}" y2="{y(n):.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 6}" y="{y(n) + 5:.1f}" text-anchor="end">{persian_digits(str(n))}</text>')
    for i, label, at, anchor in placed(labels(days, step), x):
        parts.append(f'<line x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{TOP + plot_h}" y2="{TOP + plot_h + 4}"'
                     f' class="grid"/>')
        parts.append(f'<text x="{at:.1f}" y="{HEIGHT - 10}" text-anchor="{anchor}">{escape(label)}</text>')
    for index, (watch, counts) in enumerate(series):
        points = " ".join(f"{x(i):.1f},{y(counts.get(day, 0)):.1f}" for i, day in enumerate(days))
        parts.append(f'<g stroke="{colour(index)}" fill="{colour(index)}"><title>{escape(watch)}</title>')
        if len(days) > 1:
            parts.append(f'<polyline points="{points}" fill="none" stroke-width="2"/>')
        for i, day in enumerate(days):
            if counts.get(day):
                parts.append(f'<circle cx="{x(i):.1f}" cy="{y(counts[day]):.1f}" r="3"/>')
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)
