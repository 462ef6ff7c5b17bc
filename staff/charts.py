"""Small inline SVG charts for the figures page: no script, nothing loaded from elsewhere."""

from __future__ import annotations

import math

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 200
LEFT, RIGHT, BOTTOM, TOP = 44, 24, 22, 10
COLORS = ("#2f6fb3", "#3aa76d", "#d08a1e", "#c0392b", "#7d5ba6")
TICKS = 4
CHAR, WIDE_CHAR = 6.5, 11.5  # px per character at 11 px: Latin, CJK


def _step(values: list[float]) -> float:
    """A round tick step (1, 2, 2.5 or 5 times a power of ten) so that TICKS steps reach
    the largest value: axes read 0, 25, 50, 75, 100, never 0, 10781.75, ...; counts (whole
    numbers) step by at least 1, never 0, 0.25, 0.5."""
    top = max(values, default=0)
    whole = all(isinstance(v, int) for v in values)
    if top <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(top / TICKS))
    for nice in (1, 2, 2.5, 5, 10):
        if nice * magnitude * TICKS >= top and not (whole and nice * magnitude % 1):
            return nice * magnitude
    return 10 * magnitude


def _tick(value: float) -> str:
    return f"{round(value, 6):,g}"


def text_width(label: str) -> float:
    return sum(WIDE_CHAR if ord(c) > 0x2E7F else CHAR for c in label)


def _axis(step: float, plot_h: float) -> list[str]:
    parts = []
    for i in range(TICKS + 1):
        y = TOP + plot_h - plot_h * i / TICKS
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{_tick(step * i)}</text>'
        )
    return parts


def _every(labels: list[str], slot: float) -> int:
    """Label every n-th slot so that no two labels overlap."""
    widest = max((text_width(label) for label in labels), default=0) + 6
    return max(1, math.ceil(widest / max(slot, 1)))


def bars(labels: list[str], series: list[tuple[str, list[float]]], title: str) -> Markup:
    """Grouped vertical bars: one group per label, one bar per series."""
    plot_h = HEIGHT - BOTTOM - TOP
    step = _step([v for _, values in series for v in values])
    top = step * TICKS
    group = (WIDTH - LEFT - RIGHT) / max(1, len(labels))
    bar = max(1.0, group * 0.8 / max(1, len(series)))
    parts = _axis(step, plot_h)
    every = _every(labels, group)
    for i, label in enumerate(labels):
        x0 = LEFT + i * group + group * 0.1
        for s, (name, values) in enumerate(series):
            h = plot_h * values[i] / top
            parts.append(
                f'<rect x="{x0 + s * bar:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{COLORS[s % len(COLORS)]}">'
                f"<title>{escape(label)} {escape(name)}: {_tick(values[i])}</title></rect>"
            )
        if i % every == 0:
            parts.append(
                f'<text x="{x0 + group * 0.4:.1f}" y="{HEIGHT - 6}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    return _svg(parts, title, [name for name, _ in series])


def line(labels: list[str], values: list[float | None], title: str) -> Markup:
    plot_h = HEIGHT - BOTTOM - TOP
    tick = _step([v for v in values if v is not None])
    top = tick * TICKS
    slot = (WIDTH - LEFT - RIGHT) / max(1, len(labels))
    parts = _axis(tick, plot_h)
    points = []
    every = _every(labels, slot)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = LEFT + slot * (i + 0.5)
        if value is not None:
            y = TOP + plot_h - plot_h * value / top
            points.append(f"{x:.1f},{y:.1f}")
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{COLORS[0]}">'
                f"<title>{escape(label)}: {_tick(value)}</title></circle>"
            )
        if i % every == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - 6}" text-anchor="middle">{escape(label)}</text>'
            )
    if len(points) > 1:
        parts.insert(0, f'<polyline points="{" ".join(points)}" fill="none" stroke="{COLORS[0]}"/>')
    return _svg(parts, title, [])


def hbars(items: list[tuple[str, float]], title: str, color: str = COLORS[0]) -> Markup:
    """Horizontal bars with their values, e.g. ratings 1 to 5."""
    row = 26
    label_w = min(WIDTH / 2, 12 + max((text_width(label) for label, _ in items), default=0))
    value_w = 12 + max((text_width(_tick(v)) for _, v in items), default=0)
    height = TOP + row * len(items) + 4
    top = max((v for _, v in items), default=0) or 1
    parts = []
    for i, (label, value) in enumerate(items):
        y = TOP + i * row
        w = (WIDTH - label_w - value_w) * value / top
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="16" fill="{color}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 16}">{_tick(value)}</text>'
        )
    return _svg(parts, title, [], height)


def _svg(parts: list[str], title: str, legend: list[str], height: int = HEIGHT) -> Markup:
    keys = "".join(
        f'<span class="key"><i class="k{i % len(COLORS)}"></i>{escape(name)}</span>'
        for i, name in enumerate(legend)
    )
    return Markup(
        f'<figure class="chart"><figcaption>{escape(title)} {keys}</figcaption>'
        f'<svg viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}">'
        f"{''.join(parts)}</svg></figure>"
    )
