"""The figures' charts read: round axes, and no label cut off or printed over another."""

from __future__ import annotations

import math
import re

import pytest

from staff import charts


def axis_ticks(svg: str) -> list[float]:
    found = re.findall(r'text-anchor="end">([0-9.,]+)</text>', svg)
    return [float(t.replace(",", "")) for t in found]


@pytest.mark.parametrize("top", [0, 3, 7, 0.3, 2680, 43127])
def test_the_value_axis_counts_in_round_steps_up_to_the_largest_value(top):
    svg = str(charts.bars(["06-01", "06-02"], [("opened", [top, top / 2])], "per day"))
    ticks = axis_ticks(svg)
    step = ticks[1] - ticks[0]
    assert ticks[0] == 0 and ticks[-1] >= top
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert round(mantissa, 6) in (1, 2, 2.5, 5)
    assert all(abs(b - a - step) < 1e-9 for a, b in zip(ticks, ticks[1:], strict=False))


@pytest.mark.parametrize("top", [1, 2, 3])
def test_a_few_tickets_are_counted_in_whole_steps(top):
    svg = str(charts.bars(["06-01", "06-02"], [("opened", [top, 0])], "per day"))
    assert axis_ticks(svg) == [0, 1, 2, 3, 4]


def test_ninety_daily_labels_do_not_overlap_or_leave_the_chart():
    labels = [f"{m:02d}-{d:02d}" for m in (3, 4, 5) for d in range(1, 31)]
    svg = str(charts.line(labels, [float(n % 7) for n in range(90)], "trend"))
    shown = [
        (float(x), label)
        for x, label in re.findall(
            r'<text x="([0-9.]+)" y="\d+" text-anchor="middle">([^<]+)<', svg
        )
    ]
    assert 5 <= len(shown) < 90
    for (x1, a), (x2, _) in zip(shown, shown[1:], strict=False):
        assert x2 - x1 >= charts.text_width(a)
    assert all(
        charts.text_width(label) / 2 <= x <= charts.WIDTH - charts.text_width(label) / 2
        for x, label in shown
    )


def test_long_bar_labels_get_the_room_they_need():
    label = "Waiting for the member to answer"
    svg = str(charts.hbars([(label, 12), ("New", 3)], "open by status"))
    x = float(re.search(r'<text x="([0-9.]+)" y="\d+" text-anchor="end">Waiting', svg).group(1))
    assert x - charts.text_width(label) >= 0
