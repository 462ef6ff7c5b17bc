"""`memberbot campaign create | reschedule | list | preview | run | report`"""

from __future__ import annotations

import getpass
import json
from datetime import datetime

import click
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from app.cli import BadInput, cli, pass_app
from core.clock import now
from schedules import campaigns
from schedules.campaign_report import OUTCOMES, Report, report
from schedules.segments import Segment

BAR_WIDTH = 40


@cli.group()
def campaign() -> None:
    """Push campaigns to a segment of members (marketing: consent and quiet hours apply)."""


def _when(value: str, zone) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadInput(f"--at {value!r} is not a date and time, e.g. 2026-06-01T10:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


@campaign.command()
@click.argument("name")
@click.option("--at", "at_text", required=True, help="When, e.g. 2026-06-01T10:00 (local).")
@click.option(
    "--text-zh", default="", help="The message to members in Chinese ({name}: the member's)."
)
@click.option("--text-en", default="", help="The message to members in English (both needed).")
@click.option("--tier", "tiers", multiple=True, help="Members of this tier (repeatable).")
@click.option("--dormant-days", type=int, help="Members with no purchase for this many days.")
@click.option("--birthday-month", type=int, help="Members born in this month (1-12).")
@click.option("--min-recency", type=int, help="Minimum RFM recency score (1-5).")
@click.option("--min-frequency", type=int, help="Minimum RFM frequency score (1-5).")
@click.option("--min-monetary", type=int, help="Minimum RFM monetary score (1-5).")
@click.option(
    "--consent",
    type=click.Choice(["yes", "any"]),
    default="yes",
    show_default=True,
    help="yes: only members who consented to marketing.",
)
@click.option(
    "--benefit",
    "benefits",
    multiple=True,
    help="Code of a benefit the campaign promotes (repeatable): the report counts its "
    "redemptions (none given: any benefit).",
)
@pass_app
def create(app, name, at_text, text_zh, text_en, tiers, benefits, **segment_options) -> None:
    """Create a campaign NAME, scheduled for --at; a public holiday moves it on."""
    config = app.config
    rfm = {
        score: segment_options.pop(f"min_{word}")
        for score, word in (("r", "recency"), ("f", "frequency"), ("m", "monetary"))
    }
    segment = Segment(
        tiers=list(tiers),
        dormant_days=segment_options["dormant_days"],
        birthday_month=segment_options["birthday_month"],
        rfm={k: v for k, v in rfm.items() if v is not None},
        consent=segment_options["consent"],
    )
    made, moved = campaigns.create(
        app.database,
        config,
        name,
        segment,
        {"zh": text_zh, "en": text_en},
        _when(at_text, config.zone),
        getpass.getuser(),
        now(),
        benefits,
    )
    when = made.scheduled_at.astimezone(config.zone).isoformat(timespec="minutes")
    note = " (moved off a public holiday)" if moved else ""
    click.echo(f"campaign {name!r} scheduled for {when}{note}: {segment.describe()}")


@campaign.command()
@click.argument("name")
@click.option("--at", "at_text", required=True, help="The new time, e.g. 2026-06-01T10:00 (local).")
@pass_app
def reschedule(app, name: str, at_text: str) -> None:
    """Move a scheduled or missed campaign NAME to a new time (a missed one is only ever
    sent again this way, or by `campaign run`)."""
    config = app.config
    made, moved = campaigns.reschedule(
        app.database, config, name, _when(at_text, config.zone), now()
    )
    when = made.scheduled_at.astimezone(config.zone).isoformat(timespec="minutes")
    note = " (moved off a public holiday)" if moved else ""
    click.echo(f"campaign {name!r} scheduled for {when}{note}")


@campaign.command(name="list")
@pass_app
def list_(app) -> None:
    """Every campaign with its time and status: scheduled, missed, queued or done."""
    table = Table("name", "scheduled", "status", "segment")
    for item in campaigns.listing(app.database):
        when = item.scheduled_at.astimezone(app.config.zone).isoformat(timespec="minutes")
        table.add_row(item.name, when, item.status, item.segment.describe())
    Console().print(table)


@campaign.command()
@click.argument("name")
@click.option("--sample", type=click.IntRange(0, 100), default=10, show_default=True)
@pass_app
def preview(app, name: str, sample: int) -> None:
    """How many members the campaign reaches, and a sample of them."""
    seen = campaigns.preview(app.database, app.config, name, now(), sample)
    click.echo(f"{name}: {seen.segment.describe()}")
    match = "1 member matches" if seen.matching == 1 else f"{seen.matching:,} members match"
    click.echo(f"{match}; {seen.reachable:,} reachable on a chat channel")
    table = Table("member", "name", "tier", "language")
    for row in seen.sample:
        table.add_row(*row)
    Console().print(table)


@campaign.command()
@click.argument("name")
@pass_app
def run(app, name: str) -> None:
    """Queue the campaign now (the dispatcher sends it, outside quiet hours)."""
    with Progress(transient=True) as bar:
        task = bar.add_task(f"queueing {name}", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, total=total, advance=done)

        queued = campaigns.run(app.database, app.config, name, now(), advance)
    click.echo(f"campaign {name!r}: {queued:,} message{'' if queued == 1 else 's'} queued")


@campaign.command(name="report")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_app
def report_(app, name: str, as_json: bool) -> None:
    """Delivered, failed, blocked, opted out, missed; redemptions and purchases afterwards."""
    found = report(app.database, name, app.config.zone, now())
    if as_json:
        click.echo(json.dumps(found.as_json(), ensure_ascii=False))
        return
    console = Console()
    console.print(chart(found))
    if found.days:
        console.print(by_day(found))


def chart(found: Report) -> Table:
    """A bar per outcome, then what recipients did after the message."""
    table = Table(title=f"{found.name} ({found.status}): {found.audience} messages", box=None)
    table.add_column("outcome")
    table.add_column("", min_width=BAR_WIDTH)
    table.add_column("count", justify="right")
    table.add_column("share", justify="right")
    widest = max(found.counts.values(), default=0) or 1
    colours = dict(
        zip(OUTCOMES, ("green", "red", "magenta", "yellow", "blue", "cyan"), strict=True)
    )
    for key in OUTCOMES:
        count = found.counts[key]
        bar = "█" * round(BAR_WIDTH * count / widest)
        share = f"{count / found.audience:.0%}" if found.audience else "-"
        table.add_row(key, f"[{colours[key]}]{bar}[/]", str(count), share)
    delivered = found.counts["delivered"] or 1
    table.add_row("", "", "", "")
    table.add_row("redeemed after", "", str(found.redeemed), f"{found.redeemed / delivered:.0%}")
    table.add_row("bought after", "", str(found.returned), f"{found.returned / delivered:.0%}")
    return table


def by_day(found: Report) -> Table:
    """Day by day since the send: what went out, and what recipients did after it."""
    promoted = ", ".join(found.benefits) or "any benefit"
    table = Table(title=f"day by day (redemptions of {promoted})", box=None)
    for heading in ("day", "delivered", "redeemed", "purchases", "amount"):
        table.add_column(heading, justify="left" if heading == "day" else "right")
    for day in found.days:
        table.add_row(
            day.day.isoformat(),
            str(day.delivered),
            str(day.redeemed),
            str(day.purchases),
            f"¥{day.amount:,.2f}",
        )
    return table
