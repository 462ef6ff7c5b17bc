"""The Rasa backend against a small real HTTP server on 127.0.0.1 that answers like Rasa."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from nlu.rasa_client import RasaParser

TIMEOUT = 0.5


def rasa_answer(text: str) -> dict:
    """What Rasa 3.6's POST /model/parse answers, extra keys included."""
    return {
        "text": text,
        "intent": {"name": "check_points", "confidence": 0.97},
        "entities": [
            {
                "entity": "benefit",
                "start": 0,
                "end": 3,
                "confidence_entity": 0.99,
                "value": "coffee_voucher",
                "extractor": "DIETClassifier",
                "processors": ["EntitySynonymMapper"],
            }
        ],
        "text_tokens": [[0, 2], [2, 3]],
        "intent_ranking": [
            {"name": "check_points", "confidence": 0.97},
            {"name": "points_history", "confidence": 0.03},
        ],
        "response_selector": {"all_retrieval_intents": [], "default": {}},
    }


class FakeRasa:
    """A Rasa look-alike: `mode` is "ok", "slow" (answers after the client timeout) or "error"."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                parts = urlsplit(self.path)
                fake.requests.append(
                    {"path": parts.path, "query": parse_qs(parts.query), "body": body}
                )
                if fake.mode == "slow":
                    time.sleep(TIMEOUT * 3)
                if fake.mode == "error":
                    self._send(500, {"version": "3.6.21", "status": "failure", "reason": "boom"})
                else:
                    self._send(200, rasa_answer(body["text"]))

            def _send(self, status: int, payload: dict) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the slow case)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeRasa:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class FallbackParser:
    """Stands in for the embedded engine and records what reached it."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.benefit_names = None

    def parse(self, text: str) -> dict:
        self.texts.append(text)
        return {
            "text": text,
            "intent": {"name": "from_fallback", "confidence": 1.0},
            "intent_ranking": [],
            "entities": [],
        }

    def complaint_category(self, text: str) -> dict | None:
        self.texts.append(text)
        return {"name": "product_quality", "confidence": 0.9}

    def set_benefit_names(self, names) -> None:
        self.benefit_names = names


@pytest.fixture
def rasa() -> Iterator[FakeRasa]:
    with FakeRasa() as server:
        yield server


@pytest.fixture
def fallback() -> FallbackParser:
    return FallbackParser()


@pytest.fixture
def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def warnings_from(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "nlu.rasa" and r.levelno == logging.WARNING]


def test_rasa_json_is_passed_through_unchanged(rasa, fallback):
    with RasaParser(rasa.url, None, TIMEOUT, fallback) as parser:
        result = parser.parse("我还有多少积分")

    assert result == rasa_answer("我还有多少积分")
    assert rasa.requests == [
        {"path": "/model/parse", "query": {}, "body": {"text": "我还有多少积分"}}
    ]
    assert fallback.texts == []


def test_token_is_sent_as_the_token_query_parameter(rasa, fallback):
    with RasaParser(rasa.url + "/", "s3cret", TIMEOUT, fallback) as parser:
        parser.parse("hello")

    assert rasa.requests[0]["path"] == "/model/parse"
    assert rasa.requests[0]["query"] == {"token": ["s3cret"]}


def test_a_down_server_falls_back_and_logs_one_warning(closed_port_url, fallback, caplog):
    caplog.set_level(logging.INFO, logger="nlu.rasa")
    with RasaParser(closed_port_url, "s3cret", TIMEOUT, fallback) as parser:
        first = parser.parse("我还有多少积分")
        second = parser.parse("how many points do I have")

    assert first["intent"]["name"] == "from_fallback"
    assert second["intent"]["name"] == "from_fallback"
    assert fallback.texts == ["我还有多少积分", "how many points do I have"]
    [warning] = warnings_from(caplog)
    assert warning.url == f"{closed_port_url}/model/parse"
    assert "cannot connect" in warning.reason
    assert closed_port_url in warning.getMessage()
    assert "s3cret" not in warning.getMessage()


def test_a_slow_server_falls_back_after_the_timeout(rasa, fallback, caplog):
    caplog.set_level(logging.INFO, logger="nlu.rasa")
    rasa.mode = "slow"
    with RasaParser(rasa.url, None, TIMEOUT, fallback) as parser:
        started = time.monotonic()
        result = parser.parse("查一下积分")
        elapsed = time.monotonic() - started
        parser.parse("查一下积分")

    assert result["intent"]["name"] == "from_fallback"
    assert elapsed < TIMEOUT * 2.5
    [warning] = warnings_from(caplog)
    assert warning.reason == f"no answer within {TIMEOUT:g}s"


def test_an_error_answer_falls_back_and_names_the_status(rasa, fallback, caplog):
    caplog.set_level(logging.INFO, logger="nlu.rasa")
    rasa.mode = "error"
    with RasaParser(rasa.url, None, TIMEOUT, fallback) as parser:
        result = parser.parse("hi")

    assert result["intent"]["name"] == "from_fallback"
    [warning] = warnings_from(caplog)
    assert warning.reason.startswith("HTTP 500")


def test_recovery_is_logged_and_a_new_failure_warns_again(rasa, fallback, caplog):
    caplog.set_level(logging.INFO, logger="nlu.rasa")
    with RasaParser(rasa.url, None, TIMEOUT, fallback) as parser:
        rasa.mode = "error"
        parser.parse("one")
        parser.parse("two")
        assert not parser.available
        rasa.mode = "ok"
        assert parser.parse("three")["intent"]["name"] == "check_points"
        assert parser.available
        parser.parse("four")
        rasa.mode = "error"
        parser.parse("five")

    events = [r.event for r in caplog.records if r.name == "nlu.rasa"]
    assert events == ["rasa_unavailable", "rasa_recovered", "rasa_unavailable"]
    assert fallback.texts == ["one", "two", "five"]


def test_benefit_names_are_forwarded_to_the_fallback(rasa, fallback):
    with RasaParser(rasa.url, None, TIMEOUT, fallback) as parser:
        parser.set_benefit_names({"coffee_voucher": ["咖啡券", "Coffee voucher"]})

    assert fallback.benefit_names == {"coffee_voucher": ["咖啡券", "Coffee voucher"]}


def test_the_category_of_a_text_inside_the_complaint_form_comes_from_the_fallback(rasa, fallback):
    """Rasa's pipeline has no category classifier to ask apart from the intent."""
    with RasaParser(rasa.url, None, TIMEOUT, fallback) as parser:
        category = parser.complaint_category("the fries were cold")

    assert category == {"name": "product_quality", "confidence": 0.9}
    assert fallback.texts == ["the fries were cold"]
