"""The one ASGI application `memberbot serve` runs: the WeChat callback (/wechat), the
Telegram webhook (/telegram/webhook), the staff workbench (/staff), the REST API (/api,
OpenAPI at /api/docs) and /healthz. `web.state.app` is the bootstrap App (configuration,
database) and `web.state.channels` the channels and their senders."""

from __future__ import annotations

import asyncio
import logging
import os
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

import staff
from app import logs, metrics
from app.channels import records, setup
from app.channels.setup import Channels
from app.composition import App
from core.clock import now

log = logging.getLogger(__name__)

CLAIMS_KEPT = timedelta(days=2)


def _unavailable(path: str, methods: list[str]) -> APIRouter:
    """A channel without its secrets: 503, so the platform retries once it is set up."""
    router = APIRouter()

    async def off() -> Response:
        return Response(status_code=503)

    router.add_api_route(path, off, methods=methods, include_in_schema=False)
    return router


def create_app(app, channels: Channels | None = None) -> FastAPI:
    channels = setup.build(app) if channels is None else channels

    @asynccontextmanager
    async def lifespan(_web: FastAPI):
        channels.report()
        channels.adopt_running_loop()
        try:
            await asyncio.to_thread(records.forget_claims_before, app.database, now() - CLAIMS_KEPT)
        except Exception as exc:  # a database that is not migrated yet must not stop serve
            log.warning("could not prune old inbound claims: %s", exc)
        try:
            await asyncio.to_thread(channels.warm)
        except Exception:
            log.exception("the dialogue engine could not be built; messages get an apology")
        yield
        if channels.wechat is not None:
            await channels.wechat.drain()
        await asyncio.to_thread(channels.close)

    web = FastAPI(
        title="memberbot", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    web.state.app = app
    web.state.channels = channels
    web.include_router(
        channels.wechat.router() if channels.wechat else _unavailable("/wechat", ["GET", "POST"])
    )
    web.include_router(
        channels.telegram.router()
        if channels.telegram
        else _unavailable("/telegram/webhook", ["POST"])
    )

    staff.install(web, app, channels.senders)

    @web.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        try:
            await asyncio.to_thread(_ping, app.database)
            database = "ok"
        except Exception as exc:
            database = f"error: {type(exc).__name__}"
        body = {
            "status": "ok" if database == "ok" else "degraded",
            "database": database,
            "channels": channels.status(),
        }
        return JSONResponse(body, status_code=200 if database == "ok" else 503)

    @web.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        body, content_type = await asyncio.to_thread(metrics.exposition, app.database)
        return Response(body, media_type=content_type)

    return web


def worker_app() -> FastAPI:
    """The app factory each `serve --workers N` process calls: configuration and database
    from the environment the parent set (MEMBERBOT_CONFIG, DATABASE_URL)."""
    app = App(os.environ.get("MEMBERBOT_CONFIG"))
    logs.configure(app.config.logging)
    return create_app(app)


def _ping(database) -> None:
    with database.unit_of_work(write=False) as session:
        session.execute(text("SELECT 1"))
