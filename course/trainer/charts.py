"""Small server-rendered SVG charts for trainers: plain functions from numbers to markup, no JavaScript.

Every chart is decoration for sighted readers of a table that says the same (the page puts the
table next to it), so the SVG is aria-hidden unless it is given a label. Colours are the site's own
and have at least 3:1 contrast against white (WCAG 1.4.11); every bar also carries its number as
text, so a chart printed in black and white still reads. Presentation attributes only (no style
attributes): the Content-Security-Policy allows no inline styles.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

from markupsafe import Markup, escape

from course.formatting import nl_date

INK = "#1b1f23"
MUTED = "#4a5560"
LINE = "#c9d3d8"
BRAND = "#1d5c63"  # 7.4:1 on white
ACCENT = "#a4460f"  # 6.0:1
OK = "#1e6b34"  # 6.6:1
ERROR = "#b00020"  # 7.0:1
GREY = "#5f6b75"  # 5.6:1
STATE_COLOURS = {"afgerond": OK, "bezig": BRAND, "niet gestart": GREY, "te laat": ERROR}
FONT = 'font-family="system-ui, sans-serif" font-size="13"'


@dataclass(frozen=True)
class Bar:
    label: str
    value: float  # what the bar's length shows
    text: str  # the number printed after the bar
    colour: str = BRAND


def _svg(width: int, height: int, body: list[str], label: str | None) -> Markup:
    access = f'role="img" aria-label="{escape(label)}"' if label else 'aria-hidden="true" focusable="false"'
    # Every text that comes from data (labels, names, prompts) went through escape() where it was added.
    return Markup(  # noqa: S704
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" {access} {FONT}>' + "".join(body) + "</svg>"
    )


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def bar_chart(
    bars: Sequence[Bar], *, maximum: float | None = None, label: str | None = None, label_width: int = 200
) -> Markup:
    """Horizontal bars, one row each: label, bar (length value / maximum), the number as text."""
    row, plot, width = 28, 320, label_width + 320 + 70
    top = maximum if maximum is not None else max((b.value for b in bars), default=0)
    body = []
    for index, bar in enumerate(bars):
        y = index * row + 4
        length = round(plot * bar.value / top, 2) if top > 0 else 0.0
        x = label_width
        body.append(
            f'<text class="label" x="{label_width - 8}" y="{y + 15}" text-anchor="end" fill="{INK}">'
            f"{escape(_short(bar.label, label_width // 7))}</text>"
            f'<rect class="bar" x="{x}" y="{y}" width="{length}" height="20" fill="{bar.colour}" '
            f'data-value="{bar.value:g}"/>'
            f'<text class="value" x="{x + length + 6}" y="{y + 15}" fill="{INK}">{escape(bar.text)}</text>'
        )
    body.append(f'<line x1="{label_width}" y1="0" x2="{label_width}" y2="{len(bars) * row + 4}" stroke="{INK}"/>')
    return _svg(width, len(bars) * row + 8, body, label)


def state_chart(counts: dict[str, int], order: Sequence[str], label: str | None = None) -> Markup:
    """How many learners are in each state (afgerond, bezig, niet gestart, te laat)."""
    bars = [
        Bar(state.capitalize(), counts.get(state, 0), str(counts.get(state, 0)), STATE_COLOURS[state])
        for state in order
    ]
    return bar_chart(bars, label=label, label_width=120)


def cumulative(days: Sequence[date] | Mapping[date, int], start: date, end: date) -> list[tuple[date, int]]:
    """(day, how many by then) at the start, at every day something happened, and at the end.

    `days` lists one day per event, or says how many events each day had (as SQL counts them)."""
    per_day = Counter(days) if not isinstance(days, Mapping) else days
    counted = sorted((d, n) for d, n in per_day.items() if d <= end and n)
    by_start = sum(n for d, n in counted if d <= start)
    points, running = [(start, by_start)], by_start
    for day, number in counted:
        if start < day:
            running += number
            points.append((day, running))
    if points[-1][0] < end:
        points.append((end, running))
    return points


def progress_chart(
    completed_on: Sequence[date] | Mapping[date, int],
    total: int,
    start: date,
    today: date,
    deadline: date | None,
    label: str | None = None,
) -> Markup:
    """Learners who completed, over time (a step line), against the group size and the deadline."""
    end = max(today, deadline or today)
    if end <= start:
        end = date.fromordinal(start.toordinal() + 1)
    left, right, top, bottom, width, height = 48, 20, 16, 40, 640, 240
    plot_w, plot_h = width - left - right, height - top - bottom
    span = (end - start).days
    ceiling = max(total, 1)

    def x(day: date) -> float:
        return round(left + plot_w * (day - start).days / span, 2)

    def y(value: int) -> float:
        return round(top + plot_h * (1 - value / ceiling), 2)

    points = cumulative(completed_on, start, min(today, end))
    path = [f"M{x(points[0][0])},{y(points[0][1])}"]
    for (_, before), (day, value) in pairwise(points):
        path.append(f"L{x(day)},{y(before)}L{x(day)},{y(value)}")
    body = [
        # axes and the group size
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="{INK}"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="{INK}"/>',
        f'<line class="total" x1="{left}" y1="{y(total)}" x2="{left + plot_w}" y2="{y(total)}" stroke="{MUTED}" '
        f'stroke-dasharray="4 3" data-value="{total}"/>',
        f'<text x="{left - 6}" y="{y(total) + 4}" text-anchor="end" fill="{INK}">{total}</text>',
        f'<text x="{left - 6}" y="{top + plot_h + 4}" text-anchor="end" fill="{INK}">0</text>',
        f'<text x="{left}" y="{height - 12}" fill="{INK}">{nl_date(start)}</text>',
        f'<text x="{left + plot_w}" y="{height - 12}" text-anchor="end" fill="{INK}">{nl_date(end)}</text>',
        f'<path class="completed" d="{"".join(path)}" fill="none" stroke="{OK}" stroke-width="3" '
        f'data-points="{" ".join(f"{d.isoformat()}:{v}" for d, v in points)}"/>',
        f'<text class="value" x="{x(points[-1][0]) - 4}" y="{y(points[-1][1]) - 6}" text-anchor="end" fill="{OK}">'
        f"{points[-1][1]} afgerond</text>",
    ]
    if deadline is not None:
        body.append(
            f'<line class="deadline" x1="{x(deadline)}" y1="{top}" x2="{x(deadline)}" y2="{top + plot_h}" '
            f'stroke="{ERROR}" stroke-width="2" stroke-dasharray="6 3" data-date="{deadline.isoformat()}"/>'
            f'<text x="{x(deadline) - 4}" y="{top + 12}" text-anchor="end" fill="{ERROR}">deadline</text>'
        )
    if start < today < end:
        body.append(
            f'<line class="today" x1="{x(today)}" y1="{top + plot_h}" x2="{x(today)}" y2="{top + plot_h + 6}" '
            f'stroke="{INK}"/><text x="{x(today)}" y="{top + plot_h + 18}" text-anchor="middle" fill="{INK}">vandaag</text>'
        )
    return _svg(width, height, body, label)


def option_chart(options: Sequence[tuple[str, int, float, bool]], label: str | None = None) -> Markup:
    """An item's answer distribution: (label, count, share 0..1, correct) per option; correct ones in green."""
    bars = [
        Bar(
            f"{'✓ ' if correct else ''}{text}",
            share * 100,
            f"{round(share * 100)}% ({count})",
            OK if correct else GREY,
        )
        for text, count, share, correct in options
    ]
    return bar_chart(bars, maximum=100, label=label, label_width=260)


def item_overview(items: Sequence[tuple[int, float | None, float | None]], label: str | None = None) -> Markup:
    """Facility (p-waarde, 0..1, x) against discrimination (-1..1, y) per question number, at a glance.

    Grey bands mark what the item analysis flags: p below 0.3 or above 0.9, discrimination below 0.2.
    Questions without a discrimination yet (too few answers) are not drawn."""
    left, right, top, bottom, width, height = 48, 20, 16, 40, 640, 300
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(p: float) -> float:
        return round(left + plot_w * p, 2)

    def y(d: float) -> float:
        return round(top + plot_h * (1 - (d + 1) / 2), 2)

    body = [
        f'<rect x="{left}" y="{top}" width="{x(0.3) - left}" height="{plot_h}" fill="{LINE}" opacity="0.5"/>',
        f'<rect x="{x(0.9)}" y="{top}" width="{x(1) - x(0.9)}" height="{plot_h}" fill="{LINE}" opacity="0.5"/>',
        f'<rect x="{left}" y="{y(0.2)}" width="{plot_w}" height="{y(-1) - y(0.2)}" fill="{LINE}" opacity="0.5"/>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="{INK}"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="{INK}"/>',
        f'<line x1="{left}" y1="{y(0)}" x2="{left + plot_w}" y2="{y(0)}" stroke="{MUTED}" stroke-dasharray="3 3"/>',
        f'<text x="{left}" y="{height - 22}" fill="{INK}">p-waarde 0</text>',
        f'<text x="{left + plot_w}" y="{height - 22}" text-anchor="end" fill="{INK}">1</text>',
        f'<text x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle" fill="{INK}">'
        "p-waarde (deel goed) →</text>",
        f'<text x="{left - 6}" y="{top + 10}" text-anchor="end" fill="{INK}">1</text>',
        f'<text x="{left - 6}" y="{y(0) + 4}" text-anchor="end" fill="{INK}">0</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end" fill="{INK}">−1</text>',
        f'<text x="{left + 6}" y="{top + 12}" fill="{INK}">↑ discriminatie</text>',
    ]
    for number, facility, discrimination in items:
        if facility is None or discrimination is None:
            continue
        cx, cy = x(facility), y(discrimination)
        body.append(
            f'<circle class="item" cx="{cx}" cy="{cy}" r="11" fill="{BRAND}" data-number="{number}" '
            f'data-facility="{facility:.4f}" data-discrimination="{discrimination:.4f}"/>'
            f'<text x="{cx}" y="{cy + 4}" text-anchor="middle" fill="#ffffff" font-size="11">{number}</text>'
        )
    return _svg(width, height, body, label)
