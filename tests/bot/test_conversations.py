"""Every conversation script, through the real engine, the real NLU and a real database.

Each case in tests/bot/*.yml is one test, named by its `name`; cases that
list `databases: [sqlite, postgres]` run on both. Cases that list `channels` run here
when the list has `console`; tests/app/channels/test_conversation_scripts.py plays them
through Telegram and WeChat."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.bot.conftest import SEEDED_AT
from tests.bot.script import Script

HERE = Path(__file__).parent


def cases(channel: str):
    """(file stem, case) for every script case that runs on `channel`."""
    for path in sorted(HERE.glob("*.yml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            if channel in case.get("channels", ["console"]):
                yield path.stem, case


def _cases():
    for stem, case in cases("console"):
        for kind in case.get("databases", ["sqlite"]):
            marks = [pytest.mark.postgres] if kind == "postgres" else []
            yield pytest.param(case, kind, id=f"{stem}: {case['name']} [{kind}]", marks=marks)


@pytest.mark.parametrize(("case", "kind"), list(_cases()))
def test_conversation(case, kind, request, config, parser, seeded):
    database = seeded(request.getfixturevalue(f"{kind}_db"))
    script = Script(database, config, parser, user=case.get("user", "demo"), at=SEEDED_AT)
    script.setup(case.get("setup") or {})
    for number, step in enumerate(case["steps"], start=1):
        script.run(step, where=f"{case['name']}, step {number}")
