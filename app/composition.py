"""The composition root: configuration, database, NLU, engine and senders, built lazily,
in one place, for every entry point (serve, scheduler, the CLI, the tests)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

from core.config import Config, load_config

if TYPE_CHECKING:  # built lazily: an entry point loads only what it uses
    from bot.engine import Engine
    from handlers.ports import Sender
    from nlu.service import Parser
    from storage.db import Database


class App:
    def __init__(self, config_path: str | None = None, config: Config | None = None):
        self._config_path = config_path
        if config is not None:
            self.__dict__["config"] = config

    @property
    def config_path(self) -> str | None:
        return self._config_path

    def choose_config(self, path: str) -> None:
        """Another configuration file (a `--config` given after the subcommand)."""
        self._config_path = path
        self.__dict__.pop("config", None)

    @cached_property
    def config(self) -> Config:
        return load_config(self._config_path)

    @cached_property
    def database(self) -> Database:
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        from core.config import ConfigError
        from storage.db import Database

        try:
            return Database(self.config.database_url())
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            # `DATABASE_URL=garbage`, or a database whose driver is not installed.
            raise ConfigError(
                f"DATABASE_URL is not a database this can use ({type(exc).__name__}: {exc}): "
                "give sqlite:///FILE or postgresql+psycopg://USER@HOST:5432/DB"
            ) from None

    @cached_property
    def parser(self) -> Parser:
        """The NLU: the embedded engine or a Rasa server, as config.yml says."""
        from nlu.service import build_parser

        return build_parser(self.config)

    @cached_property
    def engine(self) -> Engine:
        """The dialogue engine every channel (console, Telegram, WeChat) talks to."""
        from bot.engine import Engine

        return Engine(self.database, self.config, self.parser)

    def senders(self, echo: Callable[[str], None] | None = None) -> dict[str, Sender]:
        """The console's sender and each chat channel's whose secrets are set."""
        from app.channels.setup import senders
        from schedules.senders import ConsoleSender

        return {"console": ConsoleSender(self.database, echo=echo)} | senders(self)
