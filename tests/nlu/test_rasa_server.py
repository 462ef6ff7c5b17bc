"""memberbot against a real Rasa 3.6 server trained on nlu/data (set RASA_URL to run).

    nlu/rasa_project/setup.sh install && nlu/rasa_project/setup.sh train
    nlu/rasa_project/setup.sh serve &          # http://127.0.0.1:5005
    RASA_URL=http://127.0.0.1:5005 pytest tests/nlu/test_rasa_server.py

RASA_TOKEN is sent as ?token= when the server was started with one.
"""

from __future__ import annotations

import os

import pytest

from nlu.rasa_client import RasaParser

pytestmark = pytest.mark.slow


class MustNotFallBack:
    def parse(self, text: str) -> dict:
        pytest.fail(f"Rasa did not answer for {text!r}: the fallback parser was used")

    def set_benefit_names(self, names) -> None:
        pass


@pytest.fixture(scope="module")
def rasa() -> RasaParser:
    url = os.environ.get("RASA_URL")
    if not url:
        pytest.skip("RASA_URL not set: start a Rasa server with nlu/rasa_project/setup.sh serve")
    parser = RasaParser(url, os.environ.get("RASA_TOKEN"), 30.0, MustNotFallBack())
    yield parser
    parser.close()


def test_rasa_answers_in_the_contract_shape(rasa):
    result = rasa.parse("我还有多少积分")

    assert result["text"] == "我还有多少积分"
    assert set(result["intent"]) >= {"name", "confidence"}
    assert 0.0 <= result["intent"]["confidence"] <= 1.0
    assert result["intent_ranking"]
    assert all(set(item) >= {"name", "confidence"} for item in result["intent_ranking"])
    assert isinstance(result["entities"], list)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("我还有多少积分", "check_points"),
        ("how many points do I have", "check_points"),
        ("你好", "greet"),
        ("转人工", "human_handoff"),
        ("talk to a human", "human_handoff"),
        ("兑换两张咖啡券", "redeem_benefit"),
    ],
)
def test_rasa_recognises_everyday_requests(rasa, text, intent):
    assert rasa.parse(text)["intent"]["name"] == intent


def test_rasa_extracts_the_benefit_as_its_canonical_value(rasa):
    result = rasa.parse("I want to redeem a coffee voucher")

    benefits = [e for e in result["entities"] if e["entity"] == "benefit"]
    assert benefits, result["entities"]
    for entity in benefits:
        assert set(entity) >= {"entity", "value", "start", "end", "extractor"}
        assert entity["value"] == "coffee_voucher"
        assert result["text"][entity["start"] : entity["end"]].lower() == "coffee voucher"
