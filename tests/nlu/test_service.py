"""Building the parser: the saved model is reused, trained again when stale, Rasa wraps it."""

from __future__ import annotations

import os
import sys
import types

import pytest

from nlu.model import ModelFileError, NluModel
from nlu.parser import EmbeddedParser
from nlu.service import build_parser, load_or_train

SMALL_DATA = """\
version: "3.1"
nlu:
- intent: check_points
  examples: |
    - 我的积分还有多少
    - 积分余额
    - 查积分
    - how many points do i have
    - points balance
- intent: greet
  examples: |
    - 你好
    - 在吗
    - hello
    - hi there
    - good morning
- intent: redeem_benefit
  examples: |
    - 兑换[咖啡券]{"entity": "benefit", "value": "coffee_voucher"}
    - 我要换[两张]{"entity": "quantity", "value": "2"}咖啡券
    - redeem a [coffee voucher]{"entity": "benefit", "value": "coffee_voucher"}
    - use points for a voucher
    - 换东西
"""


@pytest.fixture
def small(tmp_path, config):
    data = tmp_path / "data"
    data.mkdir()
    (data / "nlu.yml").write_text(SMALL_DATA, encoding="utf-8")
    model_path = tmp_path / "model" / "nlu-model.npz"
    nlu = config.nlu.model_copy(update={"data_path": data, "model_path": model_path})
    return config.model_copy(update={"nlu": nlu})


def test_a_missing_model_is_trained_saved_and_then_reused(small):
    parser = build_parser(small)

    assert isinstance(parser, EmbeddedParser)
    assert small.nlu.model_path.is_file()
    trained_at = small.nlu.model_path.stat().st_mtime_ns
    again = build_parser(small)
    assert small.nlu.model_path.stat().st_mtime_ns == trained_at
    assert again.parse("查积分")["intent"]["name"] == parser.parse("查积分")["intent"]["name"]


def test_a_model_older_than_the_training_data_is_trained_again(small):
    load_or_train(small.nlu.data_path, small.nlu.model_path)
    data_file = small.nlu.data_path / "nlu.yml"
    data_file.write_text(SMALL_DATA + "    - 积分商城\n", encoding="utf-8")
    old = small.nlu.model_path.stat().st_mtime - 100
    os.utime(small.nlu.model_path, (old, old))

    model = load_or_train(small.nlu.data_path, small.nlu.model_path)

    assert model.info["examples"] == 16
    assert small.nlu.model_path.stat().st_mtime > old


def test_a_damaged_model_file_is_trained_again(small):
    small.nlu.model_path.parent.mkdir(parents=True)
    small.nlu.model_path.write_bytes(b"not a model")

    model = load_or_train(small.nlu.data_path, small.nlu.model_path)

    assert model.intents == ["check_points", "greet", "redeem_benefit"]
    assert NluModel.load(small.nlu.model_path).intents == model.intents


def test_a_model_trained_with_other_vectors_is_trained_again(small, monkeypatch):
    with monkeypatch.context() as patched:
        patched.setattr("nlu.model.VECTORS", "other-vectors")
        load_or_train(small.nlu.data_path, small.nlu.model_path)
    with pytest.raises(ModelFileError, match="other vectors"):
        NluModel.load(small.nlu.model_path)

    load_or_train(small.nlu.data_path, small.nlu.model_path)

    assert NluModel.load(small.nlu.model_path).intents == [
        "check_points",
        "greet",
        "redeem_benefit",
    ]


def test_a_saved_model_parses_exactly_like_the_trained_one(nlu_model, tmp_path):
    path = tmp_path / "model.npz"
    nlu_model.save(path)

    loaded = EmbeddedParser(NluModel.load(path))
    fresh = EmbeddedParser(nlu_model)
    for text in ["我要兑换两张咖啡券", "how many points do I have", "工单T000123"]:
        assert loaded.parse(text) == fresh.parse(text)


def test_the_rasa_backend_gets_the_embedded_parser_as_its_fallback(small, monkeypatch):
    made = {}

    class FakeRasaParser:
        def __init__(self, url, token, timeout, fallback):
            made.update(url=url, token=token, timeout=timeout, fallback=fallback)

    module = types.ModuleType("nlu.rasa_client")
    module.RasaParser = FakeRasaParser
    monkeypatch.setitem(sys.modules, "nlu.rasa_client", module)
    nlu = small.nlu.model_copy(update={"backend": "rasa"})

    parser = build_parser(small.model_copy(update={"nlu": nlu}))

    assert isinstance(parser, FakeRasaParser)
    assert made["url"] == small.nlu.rasa.url
    assert made["timeout"] == small.nlu.rasa.timeout_seconds
    assert isinstance(made["fallback"], EmbeddedParser)
