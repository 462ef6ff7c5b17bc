"""The Rasa NLU backend: parse through a Rasa 3.6 server's `POST /model/parse`.

Selected with `nlu.backend: rasa` (see `nlu/rasa_project/README.md`). When the
server is down, slow or answers an error, the message is parsed by the
fallback parser (the embedded engine) instead, so the bot keeps answering.
One warning is logged when Rasa becomes unavailable and one info line when it
is back; nothing in between, however many messages fall back.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

import httpx

logger = logging.getLogger("nlu.rasa")


class Parser(Protocol):
    def parse(self, text: str) -> dict: ...

    def complaint_category(self, text: str) -> dict | None: ...

    def set_benefit_names(self, names: Any) -> None: ...


class RasaUnavailable(Exception):
    """The Rasa server could not give a usable answer; the message is the reason."""


class RasaParser:
    """Parses with a Rasa server, falling back to `fallback` when it cannot."""

    def __init__(
        self,
        url: str,
        token: str | None,
        timeout: float,
        fallback: Parser,
    ) -> None:
        self.url = url.rstrip("/")
        self.endpoint = f"{self.url}/model/parse"
        self.timeout = timeout
        self.fallback = fallback
        self._params = {"token": token} if token else {}
        self._client = httpx.Client(timeout=timeout)
        self._lock = threading.Lock()
        self._down = False

    def parse(self, text: str) -> dict:
        """Rasa's JSON for `text`, or the fallback parser's when Rasa cannot answer."""
        try:
            result = self._ask_rasa(text)
        except RasaUnavailable as exc:
            self._note_failure(str(exc))
            return self.fallback.parse(text)
        self._note_success()
        return result

    def complaint_category(self, text: str) -> dict | None:
        """Rasa's pipeline has no category classifier to ask apart from the intent (its
        categories are lookup words): the embedded engine's is asked."""
        return self.fallback.complaint_category(text)

    def set_benefit_names(self, names: Any) -> None:
        """Rasa learns benefit names from its training data; the fallback takes them live
        (the embedded engine's form: benefit code -> surface names)."""
        self.fallback.set_benefit_names(names)

    @property
    def available(self) -> bool:
        """False after a failed request, until a request succeeds again."""
        return not self._down

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> RasaParser:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _ask_rasa(self, text: str) -> dict:
        try:
            response = self._client.post(self.endpoint, params=self._params, json={"text": text})
        except httpx.TimeoutException:
            raise RasaUnavailable(f"no answer within {self.timeout:g}s") from None
        except httpx.ConnectError as exc:
            raise RasaUnavailable(f"cannot connect ({exc or 'connection refused'})") from None
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"{type(exc).__name__}: {exc}") from None
        if response.status_code != 200:
            raise RasaUnavailable(f"HTTP {response.status_code}: {_short(response.text)}")
        try:
            result: Any = response.json()
        except ValueError:
            raise RasaUnavailable(f"answer is not JSON: {_short(response.text)}") from None
        if not isinstance(result, dict) or not isinstance(result.get("intent"), dict):
            raise RasaUnavailable(f"answer has no intent: {_short(response.text)}")
        return result

    def _note_failure(self, reason: str) -> None:
        with self._lock:
            if self._down:
                return
            self._down = True
        logger.warning(
            "rasa nlu unavailable, using the embedded parser until it answers again: "
            "url=%s reason=%s",
            self.endpoint,
            reason,
            extra={"event": "rasa_unavailable", "url": self.endpoint, "reason": reason},
        )

    def _note_success(self) -> None:
        with self._lock:
            if not self._down:
                return
            self._down = False
        logger.info(
            "rasa nlu answering again: url=%s",
            self.endpoint,
            extra={"event": "rasa_recovered", "url": self.endpoint},
        )


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
