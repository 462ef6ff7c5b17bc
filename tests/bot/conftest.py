"""The real NLU, built once, and a seeded database standing on a fixed day."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from handlers.desk import demo

# The demo seed places its history relative to this instant.
SEEDED_AT = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(scope="session")
def parser(config):
    from nlu.service import build_parser

    return build_parser(config)


@pytest.fixture
def seeded(config):
    def seed(database):
        demo.seed(database, config, SEEDED_AT)
        return database

    return seed
