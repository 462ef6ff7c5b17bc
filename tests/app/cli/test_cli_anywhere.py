"""`memberbot` from any directory: the packaged defaults, caches outside the working
directory, `--config` on either side of the subcommand, `--version`, and one line (never a
traceback) for every command when the database has no schema or cannot be reached."""

from __future__ import annotations

import os
import subprocess
from importlib.metadata import version
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from app.cli import _register, cli
from tests.app.cli.test_cli_foundation import SEEDED_AT, memberbot_command

UNREACHABLE = "postgresql+psycopg://bob:s3cret-pw@127.0.0.1:1/nowhere"

# One way to run every command, with arguments it accepts. A new command needs a row here.
EVERY_COMMAND: dict[str, list[str]] = {
    "campaign create": ["campaign", "create", "spring", "--at", "2026-06-01T10:00"],
    "campaign list": ["campaign", "list"],
    "campaign reschedule": ["campaign", "reschedule", "spring", "--at", "2026-06-02T10:00"],
    "campaign preview": ["campaign", "preview", "spring"],
    "campaign run": ["campaign", "run", "spring"],
    "campaign report": ["campaign", "report", "spring"],
    "chat": ["chat"],
    "converse": ["converse", "--jsonl"],
    "db upgrade": ["db", "upgrade"],
    "demo seed": ["demo", "seed"],
    "import members": ["import", "members", "members.csv"],
    "import purchases": ["import", "purchases", "purchases.csv"],
    "import refunds": ["import", "refunds", "refunds.csv"],
    "members erase": ["members", "erase", "M000001", "--as", "ada"],
    "points adjust": ["points", "adjust", "M000001", "50", "--reason", "till", "--as", "sam"],
    "vouchers extend": ["vouchers", "extend", "ABCD1234", "--days", "30", "--as", "sam"],
    "staff deactivate": ["staff", "deactivate", "li", "--by", "ada"],
    "staff password": ["staff", "password", "li", "--password-stdin", "--by", "ada"],
    "staff revoke-key": ["staff", "revoke-key", "pos", "--by", "ada"],
    "scheduler": ["scheduler", "--once"],
    "outbox": ["outbox"],
    "serve": ["serve", "--port", "1"],
    "telegram poll": ["telegram", "poll"],
    "staff add": ["staff", "add", "li", "--password-stdin"],
    "staff api-key": ["staff", "api-key", "pos"],
    "staff list": ["staff", "list"],
    "tickets list": ["tickets", "list"],
    "tickets show": ["tickets", "show", "T000001"],
    "tickets reply": ["tickets", "reply", "T000001", "hello", "--as", "li"],
    "tickets assign": ["tickets", "assign", "T000001", "li", "--as", "li"],
    "tickets resolve": ["tickets", "resolve", "T000001", "--as", "li"],
}
# These never open the database.
WITHOUT_DATABASE = {"nlu train", "nlu parse", "nlu evaluate"}


def leaves(command: click.Command, path: tuple[str, ...] = ()) -> list[str]:
    if isinstance(command, click.Group):
        return [
            leaf for name, sub in command.commands.items() for leaf in leaves(sub, (*path, name))
        ]
    return [" ".join(path)]


@pytest.fixture
def empty_directory(tmp_path, monkeypatch):
    """An empty working directory, no MEMBERBOT_CONFIG, caches in a directory of their own."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "members.csv").write_text(
        "member_no,name,phone,birthday,join_date,language,marketing_consent\n"
        "M000009,王芳,13800000009,1990-01-01,2024-01-01,zh,yes\n"
    )
    (work / "refunds.csv").write_text("order_id,refund_id,amount\nO-1,R-1,50\n")
    (work / "purchases.csv").write_text(
        "order_id,member_no,amount,purchased_at\nO-1,M000001,100,2026-05-01T10:00:00+08:00\n"
    )
    monkeypatch.chdir(work)
    monkeypatch.delenv("MEMBERBOT_CONFIG", raising=False)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("MEMBERBOT_NOW", SEEDED_AT)
    return work


def test_the_table_names_every_command():
    _register()
    assert set(leaves(cli)) == set(EVERY_COMMAND) | WITHOUT_DATABASE


@pytest.mark.parametrize(
    ("database", "says"),
    [
        ("sqlite:///no-schema.db", "run `memberbot db upgrade`"),
        (UNREACHABLE, "cannot reach the database at 127.0.0.1:1/nowhere"),
    ],
    ids=["without schema", "unreachable"],
)
@pytest.mark.parametrize("command", sorted(EVERY_COMMAND))
def test_every_command_says_in_one_line_what_is_wrong_with_the_database(
    empty_directory, monkeypatch, database, says, command
):
    if command == "db upgrade" and database.startswith("sqlite"):
        pytest.skip("db upgrade is the cure")
    _register()
    monkeypatch.setenv("DATABASE_URL", database)

    result = CliRunner().invoke(cli, EVERY_COMMAND[command], input="")

    assert result.exit_code in (1, 2), result.output
    assert isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "s3cret-pw" not in result.output
    if result.exit_code == 1:
        assert says in lines[0]


def run_script(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("MEMBERBOT_CONFIG", "DATABASE_URL")}
    env |= {
        "MEMBERBOT_NOW": SEEDED_AT,
        "XDG_CACHE_HOME": str(workdir.parent / "cache"),
        "XDG_STATE_HOME": str(workdir.parent / "state"),
    }
    return subprocess.run(
        [memberbot_command(), *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.slow
def test_the_installed_command_works_from_an_empty_directory_and_writes_only_its_database(
    tmp_path,
):
    work = tmp_path / "work"
    work.mkdir()
    for args in (
        ["db", "upgrade"],
        ["demo", "seed"],
        ["tickets", "list"],
        ["staff", "list"],
        ["campaign", "list"],
        ["outbox"],
        ["nlu", "parse", "我还有多少积分"],
        ["scheduler", "--once"],
    ):
        done = run_script(work, *args)
        assert done.returncode == 0, (args, done.stderr)
        assert "Traceback" not in done.stderr

    # the database and its companions (SQLite's journal, the scheduler's lock beside it)
    assert {p.name.split(".db")[0] + ".db" for p in work.iterdir()} == {"memberbot.db"}
    assert list((tmp_path / "cache" / "memberbot").glob("nlu-model-*.npz"))


def test_config_is_accepted_before_and_after_the_subcommand(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    broken = tmp_path / "broken.yml"
    broken.write_text("timezone: Mars/Olympus\n")

    before = run_script(work, "--config", str(broken), "tickets", "list")
    after = run_script(work, "tickets", "list", "--config", str(broken))

    for done in (before, after):
        assert done.returncode == 2
        assert str(broken) in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


def test_version_prints_the_installed_version(tmp_path):
    done = run_script(tmp_path, "--version")

    assert done.returncode == 0
    assert done.stdout.strip() == f"memberbot, version {version('memberbot')}"
