"""Each command loads its own modules when it runs: `memberbot nlu train` forks its training
workers from a process without the database models, the web server or the channels."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import app.cli as package
from tests.app.cli.test_cli_foundation import memberbot_command
from tests.conftest import ROOT

LOADED = """
import sys
from app.cli import cli
cli.main(sys.argv[1:], prog_name="memberbot", standalone_mode=False)
heavy = {"sqlalchemy", "fastapi", "uvicorn", "telegram", "wechatpy", "argon2", "apscheduler"}
print(sorted({name.split(".")[0] for name in sys.modules} & heavy))
"""


def loaded(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", LOADED, *args], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_the_nlu_commands_load_neither_the_database_nor_the_web_server_nor_the_channels():
    assert loaded("nlu", "parse", "--help") == "[]"


def test_the_help_lists_every_command_without_running_one():
    listed = subprocess.run(
        [memberbot_command(), "--help"], capture_output=True, text=True, check=True
    ).stdout
    names = "campaign chat converse db demo import members nlu outbox points scheduler serve"
    for name in [*names.split(), "staff", "telegram", "tickets", "vouchers"]:
        assert f"  {name} " in listed


def test_an_unknown_command_is_named_in_a_one_line_error():
    done = subprocess.run([memberbot_command(), "nlux"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "No such command 'nlux'" in done.stderr


def test_every_command_a_module_adds_is_one_the_command_line_knows():
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"app.cli.{module.name}")
    assert sorted(package.cli.commands) == sorted(package.COMMANDS)
