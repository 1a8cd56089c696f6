"""A small inline SVG chart of mentions per day per watch entry: no script, no external asset, all text escaped.

Days run left to right (as on the charts Persian news sites print), labelled with Jalali dates in Persian
digits; one coloured line per watch entry, whose legend lives in the HTML next to the chart.
"""

from __future__ import annotations

from datetime import date
from html import escape

from monitor.report.view import jalali_day, persian_digits

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
           "#7f7f7f", "#bcbd22")
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 640, 180, 34, 16, 12, 30


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def svg(days: list[date], series: list[tuple[str, dict[date, int]]]) -> str:
    """The chart for `series` [(watch, {day: mentions})] over `days` (oldest first); "" when there is nothing."""
    if not days or not series:
        return ""
    peak = max((n for _, counts in series for n in counts.values()), default=0) or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(days) - 1, 1)

    def x(i: int) -> float:
        return LEFT + (i * step if len(days) > 1 else plot_w / 2)

    def y(n: int) -> float:
        return TOP + plot_h - plot_h * n / peak

    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" xmlns="http://www.w3.org/2000/svg"'
             f' aria-label="{escape("mentions per day per watch entry")}">']
    for n in sorted({0, peak, (peak + 1) // 2}):  # gridlines at 0, half and the peak
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(n):.1f}" y2="{y(n):.1f}" class="grid"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y(n) + 4:.1f}" text-anchor="end">{persian_digits(str(n))}</text>')
    label_every = max(1, len(days) // 8)
    for i, day in enumerate(days):
        if i % label_every == 0 or i == len(days) - 1:
            label = persian_digits(jalali_day(day)[5:].replace("-", "/"))
            parts.append(f'<text x="{x(i):.1f}" y="{HEIGHT - 10}" text-anchor="middle">{escape(label)}</text>')
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
