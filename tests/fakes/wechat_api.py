"""A fake WeChat API on 127.0.0.1 (wechatpy's `API_BASE_URL` points at it): the access
token, customer-service and template messages, with errcodes on demand; and a fake
WeChat server side that builds, signs and (in safe mode) encrypts callback requests with
wechatpy's own crypto."""

from __future__ import annotations

import hashlib
import time
from itertools import count
from urllib.parse import urlencode

import xmltodict
from wechatpy.crypto import WeChatCrypto

from tests.fakes.platform import FakeServer

APP_ID = "wx0123456789abcdef"
APP_SECRET = "fake-app-secret"
TOKEN = "fake-callback-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat gives


class FakeWeChatAPI(FakeServer):
    def __init__(
        self, app_id: str = APP_ID, secret: str = APP_SECRET, latency: float = 0.0, port: int = 0
    ):
        super().__init__(latency, port)
        self.app_id, self.secret = app_id, secret
        self._tokens = count(1)
        self.valid_token: str | None = None
        self._errors: dict[str, list[int]] = {}

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/cgi-bin/"

    def fail_next(self, path: str, errcode: int, times: int = 1) -> None:
        """The next `times` calls to `path` (message/custom/send ...) answer `errcode`."""
        with self.lock:
            self._errors.setdefault(path, []).extend([errcode] * times)

    def expire_token(self) -> None:
        """The platform drops the current token: the next call gets 42001."""
        with self.lock:
            self.valid_token = None

    def sent(self, path: str) -> list[dict]:
        return [c.params for c in self.called(path) if c.params.get("_ok")]

    def dispatch(self, path: str, params: dict, query: dict) -> tuple[int, dict]:
        if not path.startswith("/cgi-bin/"):
            return 404, {"errcode": 404, "errmsg": "not found"}
        name = path[len("/cgi-bin/") :]
        self.record(name, params, query)
        if name == "token":
            if query.get("appid") != self.app_id or query.get("secret") != self.secret:
                return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
            with self.lock:
                self.valid_token = f"TOKEN-{next(self._tokens)}"
            return 200, {"access_token": self.valid_token, "expires_in": 7200}
        with self.lock:
            queued = self._errors.get(name)
            errcode = queued.pop(0) if queued else None
            token_ok = query.get("access_token") == self.valid_token
        if not token_ok:
            return 200, {"errcode": 42001, "errmsg": "access_token expired"}
        if errcode is not None:
            return 200, {"errcode": errcode, "errmsg": f"fake error {errcode}"}
        params["_ok"] = True
        if name == "message/custom/send":
            return 200, {"errcode": 0, "errmsg": "ok"}
        if name == "message/template/send":
            return 200, {"errcode": 0, "errmsg": "ok", "msgid": 200000 + len(self.calls)}
        return 200, {"errcode": 48001, "errmsg": "api unauthorized"}


_msg_ids = count(int(time.time()) * 1000)


def signature(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()


class FakeWeChatServer:
    """Posts what WeChat's servers would post to our callback: signed, and encrypted in
    safe mode."""

    def __init__(self, token: str = TOKEN, aes_key: str | None = None, app_id: str = APP_ID):
        self.token = token
        self.crypto = WeChatCrypto(token, aes_key, app_id) if aes_key else None
        self.account = "gh_fakeaccount"

    def text(self, openid: str, content: str, msg_id: int | None = None, **extra) -> str:
        more = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in extra.items())
        return (
            f"<xml><ToUserName><![CDATA[{self.account}]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id or next(_msg_ids)}</MsgId>"
            f"{more}</xml>"
        )

    def event(self, openid: str, event: str, key: str | None = None) -> str:
        event_key = f"<EventKey><![CDATA[{key}]]></EventKey>" if key is not None else ""
        return (
            f"<xml><ToUserName><![CDATA[{self.account}]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{next(_msg_ids)}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[{event}]]></Event>{event_key}</xml>"
        )

    def image(self, openid: str) -> str:
        return (
            f"<xml><ToUserName><![CDATA[{self.account}]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[image]]></MsgType>"
            f"<PicUrl><![CDATA[http://example.invalid/p.jpg]]></PicUrl>"
            f"<MediaId><![CDATA[media]]></MediaId><MsgId>{next(_msg_ids)}</MsgId></xml>"
        )

    def request(
        self, xml: str, forged: bool = False, timestamp: int | None = None
    ) -> tuple[str, bytes]:
        """(query string, body) of the POST WeChat would make for `xml` (at `timestamp`,
        default now)."""
        timestamp, nonce = str(int(timestamp or time.time())), str(next(_msg_ids))
        sig = signature(self.token, timestamp, nonce)
        if forged:
            sig = signature("not-the-token", timestamp, nonce)
        query = {"signature": sig, "timestamp": timestamp, "nonce": nonce, "openid": "x"}
        body = xml.encode()
        if self.crypto is not None:
            encrypted = self.crypto.encrypt_message(xml, nonce, timestamp)
            # the envelope's MsgSignature is what safe mode checks
            envelope = xmltodict.parse(encrypted)["xml"]
            query.update(encrypt_type="aes", msg_signature=envelope["MsgSignature"])
            body = (
                f"<xml><ToUserName><![CDATA[{self.account}]]></ToUserName>"
                f"<Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
            ).encode()
        return urlencode(query), body

    def reply_text(self, response_body: bytes) -> str | None:
        """The text of a passive reply (decrypted in safe mode), None for "success"."""
        if response_body in (b"success", b""):
            return None
        xml = response_body.decode()
        if self.crypto is not None:
            envelope = xmltodict.parse(xml)["xml"]
            xml = self.crypto.decrypt_message(
                xml, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"]
            )
        return xmltodict.parse(xml)["xml"]["Content"]
