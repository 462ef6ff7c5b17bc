"""`memberbot vouchers extend CODE --days N --as USER`"""

from __future__ import annotations

import click

from app.cli import BadInput, Failed, as_option, cli, pass_app, staff_actor
from core.clock import now
from handlers.desk import vouchers as desk_vouchers
from handlers.desk.vouchers import VoucherRefused


@cli.group()
def vouchers() -> None:
    """Vouchers (supervisors and admins)."""


@vouchers.command("extend")
@click.argument("code")
@click.option("--days", type=int, required=True, help="Days added to the voucher's validity.")
@as_option
@pass_app
def extend(app, code: str, days: int, username: str | None) -> None:
    """Extend a voucher by N days; the member is told."""
    actor = staff_actor(app, username)
    try:
        seen = desk_vouchers.extend(app.database, app.config, code, days, actor, now())
    except VoucherRefused as exc:
        raise (Failed if exc.code in ("used", "void") else BadInput)(str(exc)) from None
    click.echo(
        f"voucher {seen.code} ({seen.benefit}, {seen.member_no}) "
        f"now valid until {seen.until.isoformat()}"
    )
