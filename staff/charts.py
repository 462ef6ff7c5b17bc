"""Small inline SVG charts for the figures page: no script, nothing loaded from elsewhere."""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 200
LEFT, BOTTOM, TOP = 36, 22, 10
COLORS = ("#2f6fb3", "#3aa76d", "#d08a1e", "#c0392b", "#7d5ba6")


def _scale(top: float) -> float:
    """A round axis maximum at or above `top`."""
    if top <= 0:
        return 1
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if top <= step * 4:
            return step * 4
    return top


def _axis(top: float, plot_h: float) -> list[str]:
    parts = []
    for i in range(5):
        value = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        label = f"{value:g}"
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{label}</text>'
        )
    return parts


def bars(labels: list[str], series: list[tuple[str, list[float]]], title: str) -> Markup:
    """Grouped vertical bars: one group per label, one bar per series."""
    plot_h = HEIGHT - BOTTOM - TOP
    top = _scale(max((v for _, values in series for v in values), default=0))
    group = (WIDTH - LEFT) / max(1, len(labels))
    bar = max(1.0, group * 0.8 / max(1, len(series)))
    parts = _axis(top, plot_h)
    every = max(1, len(labels) // 10)
    for i, label in enumerate(labels):
        x0 = LEFT + i * group + group * 0.1
        for s, (name, values) in enumerate(series):
            h = plot_h * values[i] / top
            parts.append(
                f'<rect x="{x0 + s * bar:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{COLORS[s % len(COLORS)]}">'
                f"<title>{escape(label)} {escape(name)}: {values[i]:g}</title></rect>"
            )
        if i % every == 0:
            parts.append(
                f'<text x="{x0 + group * 0.4:.1f}" y="{HEIGHT - 6}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    return _svg(parts, title, [name for name, _ in series])


def line(labels: list[str], values: list[float | None], title: str) -> Markup:
    plot_h = HEIGHT - BOTTOM - TOP
    top = _scale(max((v for v in values if v is not None), default=0))
    step = (WIDTH - LEFT) / max(1, len(labels))
    parts = _axis(top, plot_h)
    points = []
    every = max(1, len(labels) // 10)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = LEFT + step * (i + 0.5)
        if value is not None:
            y = TOP + plot_h - plot_h * value / top
            points.append(f"{x:.1f},{y:.1f}")
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{COLORS[0]}">'
                f"<title>{escape(label)}: {value:g}</title></circle>"
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
    row, label_w = 26, 110
    height = TOP + row * len(items) + 4
    top = max((v for _, v in items), default=0) or 1
    parts = []
    for i, (label, value) in enumerate(items):
        y = TOP + i * row
        w = (WIDTH - label_w - 60) * value / top
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="16" fill="{color}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 16}">{value:g}</text>'
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
