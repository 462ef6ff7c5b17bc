"""`memberbot chat` and `memberbot converse --jsonl`: the console channel."""

import sys

import click

from app import console, terminal
from app.cli import BadInput, cli, pass_app
from core.clock import now


def _engine(app):
    now()  # a bad MEMBERBOT_NOW stops here, with exit status 2, not at every message
    return app.engine  # reads the benefits: a database without schema stops here


@cli.command()
@click.option(
    "--user",
    default="demo",
    show_default=True,
    help="Console user to chat as (the demo seed binds demo and demo-en).",
)
@pass_app
def chat(app, user: str) -> None:
    """Chat with the bot in the console; type a button's number to press it. Arrow keys edit
    the line, up and down walk the history (kept between runs)."""
    if not user.strip() or len(user) > console.MAX_USER:
        raise BadInput(f"--user must be 1 to {console.MAX_USER} characters")
    engine = _engine(app)
    console.chat(
        engine,
        user,
        read=terminal.reader(sys.stdin, sys.stdout),
        write=click.echo,
        paint=terminal.painter(sys.stdout),
    )


@cli.command()
@click.option("--jsonl", is_flag=True, help="JSON lines in on stdin, JSON lines out on stdout.")
@pass_app
def converse(app, jsonl: bool) -> None:
    """Scripted chat: one JSON object per input line, e.g. {"user": "demo", "text": "积分"}
    or {"user": "demo", "button": "<payload>"}; one JSON object per line out, flushed."""
    if not jsonl:
        raise BadInput("converse speaks JSON lines only: add --jsonl")
    engine = _engine(app)

    def write(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    console.converse(engine, sys.stdin, write)
