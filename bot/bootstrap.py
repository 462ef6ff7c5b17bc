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
