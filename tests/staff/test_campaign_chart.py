"""The campaign report's charts in Chromium: every label inside its chart, value axes in
round steps, the day-by-day chart and table readable on a desk and on a 360 px phone."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from tests.handlers.desk.conftest import NOW
from tests.schedules.conftest import campaign_with_aftermath
from tests.staff.conftest import IN_CHROMIUM, signed_in

pytestmark = IN_CHROMIUM

OUTSIDE = """svg => {
  const box = svg.getBoundingClientRect();
  return [...svg.querySelectorAll('text')].filter(t => {
    const r = t.getBoundingClientRect();
    return r.left < box.left - 0.5 || r.right > box.right + 0.5
        || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5;
  }).map(t => t.textContent);
}"""
AXIS = "svg => [...svg.querySelectorAll('text[text-anchor=end]')].map(t => t.textContent)"


def _round_steps(ticks: list[str]) -> bool:
    values = [float(t.replace(",", "")) for t in ticks]
    step = values[1] - values[0]
    magnitude = 10 ** math.floor(math.log10(step))
    return values[0] == 0 and round(step / magnitude, 6) in (1, 2, 2.5, 5)


@pytest.mark.parametrize("width", [1280, 360])
def test_the_campaign_report_charts_read_day_by_day(
    served, browser, sqlite_db, config, monkeypatch, tmp_path, width
):
    server, _ = served
    campaign_with_aftermath(sqlite_db, config, NOW)
    monkeypatch.setenv("MEMBERBOT_NOW", (NOW + timedelta(days=3)).isoformat())
    page = signed_in(browser, server, width=width, height=900, username="sam")
    page.goto(f"{server.url}/staff/campaigns/member-day/report?lang=en")

    charts = page.locator(".over-time svg")
    assert charts.count() == 2
    for n in range(charts.count()):
        chart = charts.nth(n)
        assert chart.evaluate(OUTSIDE) == []  # no label clipped
        assert _round_steps(chart.evaluate(AXIS))
    labels = charts.first.evaluate(
        "svg => [...svg.querySelectorAll('text')].map(t => t.textContent)"
    )
    assert {"Jun 1", "Jun 4"} <= set(labels)
    caption = page.locator(".over-time figcaption").first.inner_text()
    assert all(word in caption for word in ("Delivered", "Redemptions", "Purchases"))
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert "80.50" in page.locator("table.days").inner_text()
    page.screenshot(path=str(tmp_path / f"campaign-report-{width}.png"), full_page=True)
