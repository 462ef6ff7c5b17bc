"""Wiring in one place: configuration, database and NLU, built lazily for each command."""

from __future__ import annotations

from functools import cached_property

from bot.config import Config, load_config


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
