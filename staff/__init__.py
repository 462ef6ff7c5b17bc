"""The staff workbench (server-rendered pages under /staff) and the REST API (/api).

`install(web, app, senders)` mounts both on the ASGI app `memberbot serve` runs."""

from __future__ import annotations

from collections.abc import Mapping

from handlers.ports import Sender


def install(web, app, senders: Mapping[str, Sender] | None = None) -> None:
    """Mount the workbench at /staff and the API at /api (docs at /api/docs), once."""
    from starlette.exceptions import HTTPException

    from staff import api
    from staff import web as workbench

    if getattr(web.state, "staff_installed", False):
        return
    web.state.staff_installed = True
    desk_senders = with_console(app, senders or {})
    web.mount("/staff", workbench.create(app, desk_senders))
    web.mount("/api", api.create(app))
    # Outside /staff (its own styled pages) an unknown route answers in the API's JSON shape.
    web.add_exception_handler(HTTPException, api.http_error)


def with_console(app, senders: Mapping[str, Sender]) -> dict[str, Sender]:
    """The channels' senders plus the console's inbox, so console members get answers."""
    from schedules.senders import ConsoleSender

    return {"console": ConsoleSender(app.database), **senders}
