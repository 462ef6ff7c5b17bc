"""The NLU tests train the project's model once per session and share it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nlu.model import NluModel
from nlu.parser import EmbeddedParser
from nlu.training import train_model
from nlu.training_data import load_training_data
from tests.conftest import ROOT

DATA = ROOT / "nlu" / "data"
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def nlu_model() -> NluModel:
    return train_model(load_training_data(DATA))


@pytest.fixture(scope="session")
def nlu_parser(nlu_model, config) -> EmbeddedParser:
    return EmbeddedParser(nlu_model, config.nlu.fallback_threshold, config.nlu.ambiguity_margin)


@pytest.fixture(scope="session")
def nlu_config_file(nlu_model, tmp_path_factory) -> Path:
    """A copy of config.yml whose model file is the session's freshly trained model."""
    folder = tmp_path_factory.mktemp("nlu")
    model_path = folder / "nlu-model.npz"
    nlu_model.save(model_path)
    raw = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    raw["nlu"].update(data_path=str(DATA), model_path=str(model_path), backend="embedded")
    path = folder / "config.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def golden() -> dict[str, dict]:
    """Golden phrases by language: {"intents": {intent: [phrase]}, "entities": [...]}."""
    return {
        language: yaml.safe_load((HERE / f"golden_{language}.yml").read_text(encoding="utf-8"))
        for language in ("zh", "en")
    }
