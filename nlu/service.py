"""Building the configured parser: the embedded engine (trained when stale) or Rasa over HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from platformdirs import user_cache_path

from nlu.model import ModelFileError, NluModel
from nlu.parser import EmbeddedParser
from nlu.training import train_model
from nlu.training_data import data_files, fingerprint, load_training_data

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Parser(Protocol):
    def parse(self, text: str) -> dict: ...

    def complaint_category(self, text: str) -> dict | None: ...

    def set_benefit_names(self, names: dict[str, list[str]]) -> None: ...


def build_parser(config) -> Parser:
    """The parser `config.nlu` asks for; Rasa falls back to the embedded engine."""
    nlu = config.nlu
    embedded = EmbeddedParser(
        load_or_train(nlu.data_path, model_file(nlu.data_path, nlu.model_path)),
        nlu.fallback_threshold,
        nlu.ambiguity_margin,
    )
    if nlu.backend == "rasa":
        from nlu.rasa_client import RasaParser

        return RasaParser(
            url=nlu.rasa.url,
            token=nlu.rasa.token,
            timeout=nlu.rasa.timeout_seconds,
            fallback=embedded,
        )
    return embedded


def data_path(path: Path | str) -> Path:
    """A relative data path is looked up in the working directory, then in the project."""
    path = Path(path)
    if path.is_absolute() or path.exists():
        return path
    in_project = PROJECT_ROOT / path
    return in_project if in_project.exists() else path


def model_file(data: Path | str, configured: Path | str | None) -> Path:
    """Where the trained model lives: the configured file, else the user's cache directory
    (XDG_CACHE_HOME on Linux), one file per version of the training data."""
    if configured is not None:
        return Path(configured)
    digest = fingerprint(data_files(data_path(data)))
    return user_cache_path("memberbot") / f"nlu-model-{digest}.npz"


def load_or_train(data: Path | str, model_path: Path | str) -> NluModel:
    """The saved model, trained and saved first if it is missing or older than the data."""
    files = data_files(data_path(data))
    model_path = Path(model_path)
    if _is_fresh(model_path, files):
        try:
            model = NluModel.load(model_path)
            if model.info.get("fingerprint") == fingerprint(files):
                return model
        except ModelFileError:
            pass  # damaged or from another version: train again
    return train_and_save(data, model_path)


def train_and_save(data: Path | str, model_path: Path | str) -> NluModel:
    model = train_model(load_training_data(data_path(data)))
    model.save(model_path)
    return model


def _is_fresh(model_path: Path, files: list[Path]) -> bool:
    if not model_path.is_file():
        return False
    newest = max((f.stat().st_mtime for f in files), default=0.0)
    return model_path.stat().st_mtime >= newest
