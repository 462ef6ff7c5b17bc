"""Every conversation script, through the real engine, the real NLU and a real database.

Each case in tests/conversations/*.yml is one test, named by its `name`; cases that
list `databases: [sqlite, postgres]` run on both."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conversations.conftest import SEEDED_AT
from tests.conversations.script import Script

HERE = Path(__file__).parent


def _cases():
    for path in sorted(HERE.glob("*.yml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            for kind in case.get("databases", ["sqlite"]):
                marks = [pytest.mark.postgres] if kind == "postgres" else []
                yield pytest.param(
                    case, kind, id=f"{path.stem}: {case['name']} [{kind}]", marks=marks
                )


@pytest.mark.parametrize(("case", "kind"), list(_cases()))
def test_conversation(case, kind, request, config, parser, seeded):
    database = seeded(request.getfixturevalue(f"{kind}_db"))
    script = Script(database, config, parser, user=case.get("user", "demo"), at=SEEDED_AT)
    script.setup(case.get("setup") or {})
    for number, step in enumerate(case["steps"], start=1):
        script.run(step, where=f"{case['name']}, step {number}")
