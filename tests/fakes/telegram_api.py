"""A fake Telegram Bot API on 127.0.0.1: python-telegram-bot's Bot talks to it through
`base_url`. It records calls, queues updates for getUpdates, and can answer 429 with a
retry_after or 403 for a user who blocked the bot."""

from __future__ import annotations

import json
import threading
import time
from itertools import count

from tests.fakes.platform import FakeServer

TOKEN = "123456:TEST-TOKEN"


class FakeTelegram(FakeServer):
    def __init__(self, token: str = TOKEN, latency: float = 0.0, port: int = 0):
        super().__init__(latency, port)
        self.token = token
        self.blocked: set[str] = set()
        self._throttle: list[int] = []  # retry_after of the next sendMessage answers
        self._updates: list[dict] = []
        self._has_updates = threading.Condition(self.lock)
        self._message_ids = count(1)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    # -- scripting -----------------------------------------------------------------------

    def throttle_next(self, retry_after: int, times: int = 1) -> None:
        with self.lock:
            self._throttle.extend([retry_after] * times)

    def block(self, chat_id) -> None:
        with self.lock:
            self.blocked.add(str(chat_id))

    def push_update(self, update: dict) -> None:
        with self._has_updates:
            self._updates.append(update)
            self._has_updates.notify_all()

    def sent(self, chat_id=None) -> list[dict]:
        """sendMessage calls that succeeded (optionally to one chat), oldest first."""
        return [
            c.params
            for c in self.called("sendMessage")
            if c.params.get("_ok") and (chat_id is None or str(c.params["chat_id"]) == str(chat_id))
        ]

    # -- the API -------------------------------------------------------------------------

    def dispatch(self, path: str, params: dict, query: dict) -> tuple[int, dict]:
        prefix = f"/bot{self.token}/"
        if not path.startswith(prefix):
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        method = path[len(prefix) :]
        if method == "getUpdates":
            return 200, {"ok": True, "result": self._get_updates(params)}
        self.record(method, params, query)
        if method == "getMe":
            user = {"id": 1, "is_bot": True, "first_name": "Fake", "username": "fake_bot"}
            return 200, {"ok": True, "result": user}
        if method == "sendMessage":
            return self._send_message(params)
        if method in ("answerCallbackQuery", "setWebhook", "deleteWebhook"):
            return 200, {"ok": True, "result": True}
        return 400, {"ok": False, "error_code": 400, "description": f"unknown method {method}"}

    def _send_message(self, params: dict) -> tuple[int, dict]:
        chat = str(params.get("chat_id"))
        with self.lock:
            throttled = self._throttle.pop(0) if self._throttle else None
        if throttled is not None:
            return 429, {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {throttled}",
                "parameters": {"retry_after": throttled},
            }
        if chat in self.blocked:
            return 403, {
                "ok": False,
                "error_code": 403,
                "description": "Forbidden: bot was blocked by the user",
            }
        params["_ok"] = True
        if isinstance(params.get("reply_markup"), str):
            params["reply_markup"] = json.loads(params["reply_markup"])
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": int(chat), "type": "private"},
            "text": params.get("text", ""),
        }
        return 200, {"ok": True, "result": message}

    def _get_updates(self, params: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        wait = min(float(params.get("timeout") or 0), 1.0)
        with self._has_updates:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            if not self._updates and wait:
                self._has_updates.wait(wait)
            return list(self._updates)


_update_ids = count(1000)


def text_update(user_id: int, text: str, update_id: int | None = None) -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": "Member"}
    return {
        "update_id": update_id or next(_update_ids),
        "message": {
            "message_id": next(_update_ids),
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "Member"},
            "from": user,
            "text": text,
            **(
                {"entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]}
                if text.startswith("/")
                else {}
            ),
        },
    }


def button_update(user_id: int, payload: str, update_id: int | None = None) -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": "Member"}
    return {
        "update_id": update_id or next(_update_ids),
        "callback_query": {
            "id": str(next(_update_ids)),
            "from": user,
            "chat_instance": "1",
            "data": payload,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": user_id, "type": "private"},
                "from": {"id": 1, "is_bot": True, "first_name": "Fake"},
                "text": "…",
            },
        },
    }


def membership_update(user_id: int, status: str, update_id: int | None = None) -> dict:
    """The member blocked ("kicked") or unblocked ("member") the bot."""
    user = {"id": user_id, "is_bot": False, "first_name": "Member"}
    bot = {"id": 1, "is_bot": True, "first_name": "Fake"}
    old = "member" if status == "kicked" else "kicked"

    def member(state):
        return {"user": bot, "status": state, **({"until_date": 0} if state == "kicked" else {})}

    return {
        "update_id": update_id or next(_update_ids),
        "my_chat_member": {
            "chat": {"id": user_id, "type": "private", "first_name": "Member"},
            "from": user,
            "date": int(time.time()),
            "old_chat_member": member(old),
            "new_chat_member": member(status),
        },
    }
