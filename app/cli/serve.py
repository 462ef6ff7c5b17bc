"""`memberbot serve` and `memberbot telegram poll`"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket

import click
from sqlalchemy import inspect

from app import logs
from app.cli import BadInput, Failed, cli, pass_app

SCHEMA_TABLE = "signed_requests"  # the newest table the channels need


def _schema_ready(app) -> None:
    if not inspect(app.database.engine).has_table(SCHEMA_TABLE):
        raise BadInput("the database schema is not up to date: run `memberbot db upgrade` first")


def _send_limits_ready(app) -> None:
    """A Redis that cannot be used stops serve now rather than at the first send."""
    from app.channels import rate_limit
    from storage.send_limits import Failover
    from storage.send_limits_redis import RedisLimits

    limits = rate_limit.shared_limits(app.database)
    redis = limits.primary if isinstance(limits, Failover) else None
    why = redis.unreachable() if isinstance(redis, RedisLimits) else None
    if why:
        raise Failed(f"cannot reach Redis at REDIS_URL: {why}")


def _port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise Failed(f"cannot listen on {host}:{port}: {exc.strerror}") from None


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="TCP port."
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Processes answering on the one port (more than one needs PostgreSQL).",
)
@pass_app
def serve(app, host: str, port: int, workers: int) -> None:
    """The HTTP server: WeChat callback at /wechat, Telegram webhook at
    /telegram/webhook, staff workbench, REST API, /healthz and /metrics. Channel secrets
    come from the environment; a channel without them answers 503 and the rest runs."""
    import uvicorn

    from app import metrics
    from app.web import create_app

    logs.configure(app.config.logging)
    if workers > 1 and app.database.is_sqlite:
        raise BadInput(
            f"--workers {workers} needs PostgreSQL (SQLite has one writer): set DATABASE_URL "
            "to a PostgreSQL database, or run one worker"
        )
    _schema_ready(app)
    _send_limits_ready(app)
    _port_free(host, port)
    metrics.prepare(workers)
    settings = dict(
        host=host,
        port=port,
        log_config=None,  # uvicorn's records go through our structured, masked logging
        log_level=app.config.logging.level.lower(),
        access_log=True,  # masked like every record (query strings carry openids)
        use_colors=False,
        # The client address behind a proxy: the same proxies the sign-in limits trust.
        forwarded_allow_ips=",".join(app.config.sign_in.trusted_proxies) or "127.0.0.1",
        timeout_graceful_shutdown=10,
    )
    if workers == 1:
        uvicorn.run(create_app(app), **settings)
        return
    # Each worker process builds its own App from the same environment (app.web.worker_app).
    if app.config_path:
        os.environ["MEMBERBOT_CONFIG"] = os.path.abspath(app.config_path)
    os.environ["DATABASE_URL"] = app.database.url.render_as_string(hide_password=False)
    uvicorn.run("app.web:worker_app", factory=True, workers=workers, **settings)


@cli.group()
def telegram() -> None:
    """The Telegram bot."""


@telegram.command()
@click.option(
    "--delete-webhook",
    is_flag=True,
    help="Remove the bot's webhook first (Telegram refuses polling while one is set).",
)
@pass_app
def poll(app, delete_webhook: bool) -> None:
    """Long polling (getUpdates) instead of a webhook: for development, or a server
    Telegram cannot reach. Stop with Ctrl-C."""
    from telegram.error import Conflict, InvalidToken, TelegramError

    from app.channels import setup

    logs.configure(app.config.logging)
    _schema_ready(app)
    channels = setup.build(app)
    channel = channels.telegram
    if channel is None:
        raise BadInput("set TELEGRAM_BOT_TOKEN to the token BotFather gave you")

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if delete_webhook:
            await asyncio.wrap_future(channel.sender.submit(channel.sender.bot.delete_webhook()))
        try:
            await asyncio.to_thread(channels.warm)
        except Exception:
            logging.getLogger(__name__).exception("the dialogue engine could not be built")
        click.echo("polling Telegram; Ctrl-C stops", err=True)
        await channel.poll(stop)

    try:
        asyncio.run(run())
    except Conflict:
        raise Failed(
            "Telegram refuses polling while a webhook is set: run "
            "`memberbot telegram poll --delete-webhook`"
        ) from None
    except InvalidToken:
        raise BadInput(
            "Telegram refused TELEGRAM_BOT_TOKEN: use the token BotFather gave you"
        ) from None
    except TelegramError as exc:
        raise Failed(f"Telegram: {exc}") from None
    finally:
        channels.close()
