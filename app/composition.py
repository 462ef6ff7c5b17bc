"""The composition root: configuration, database, NLU, engine and senders, built lazily,
in one place, for every entry point (serve, scheduler, the CLI, the tests)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

from core.config import Config, load_config


class App:
    def __init__(self, config_path: str | None = None, config: Config | None = None):
        self._config_path = config_path
        if config is not None:
            self.__dict__["config"] = config

    @cached_property
    def config(self) -> Config:
        return load_config(self._config_path)

    @cached_property
    def database(self):
        from storage.db import Database

        return Database(self.config.database_url())

    @cached_property
    def parser(self):
        """The NLU: the embedded engine or a Rasa server, as config.yml says."""
        from nlu.service import build_parser

        return build_parser(self.config)

    @cached_property
    def engine(self):
        """The dialogue engine every channel (console, Telegram, WeChat) talks to."""
        from bot.engine import Engine

        return Engine(self.database, self.config, self.parser)

    def senders(self, echo: Callable[[str], None] | None = None) -> dict:
        """The console's sender and each chat channel's whose secrets are set."""
        from app.channels.setup import senders
        from schedules.senders import ConsoleSender

        return {"console": ConsoleSender(self.database, echo=echo)} | senders(self)
