"""WeChat's outbound sender: a customer-service message inside the window since the
member's last message (48 hours by default), a pre-approved template message outside it.

Sends keep to `channels.wechat.rate_per_second` through the limiter every process shares
(app/channels/rate_limit.py). The access token lives in the database (wechatpy session
storage), so the server's workers and the scheduler share one; a lock across processes
(Database.exclusive) makes concurrent sends refresh it once. Platform errors are
classified, never raised: unreachable (43004, and 45015/45047 when no template can stand
in), retry later (-1, 45009, network), or failed with what to fix."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage

from app import metrics
from app.channels import records
from app.channels.rate_limit import RateLimiter
from core.clock import now
from core.config import WeChat
from handlers.ports import Delivery, Outcome, Outgoing
from storage.db import Database
from storage.models.channels import ChannelToken
from storage.send_limits import LimitsUnavailable

log = logging.getLogger(__name__)

CHANNEL = "wechat"
DEFAULT_BASE_URL = "https://api.weixin.qq.com/cgi-bin/"
TOKEN_ERRORS = {40001, 40014, 42001}  # invalid or expired access token: refresh, retry
OUTSIDE_WINDOW = {45015, 45047}  # window closed / too many messages without a reply
UNSUBSCRIBED = 43004
BUSY = {-1, 45009, 45011}  # system busy, API rate limits
CONFIG_ERRORS = {
    40003: "the openid does not follow this official account: check WECHAT_APP_ID",
    40013: "WECHAT_APP_ID is not a valid AppID",
    40125: "WECHAT_APP_SECRET is wrong: copy the AppSecret from the WeChat console",
    40164: "this server's IP is not on the official account's IP whitelist",
    61004: "this server's IP is not on the official account's IP whitelist",
    40037: "the template id is not valid: fix channels.wechat.templates in config.yml",
    41028: "the template message was refused (41028): check the template in the console",
    47003: "the template data does not fit the template: check its fields",
    48001: "the account may not call this API: a verified service account is needed",
}
TOKEN_MARGIN = timedelta(seconds=120)  # refresh this long before the token expires
TOKEN_LOCK = "wechat-access-token"
MENU_LINK = '<a href="weixin://bizmsgmenu?msgmenucontent={content}&msgmenuid={number}">{title}</a>'


def menu_text(text: str, buttons: list[tuple[str, str]]) -> str:
    """WeChat text has no buttons: each becomes a link that, tapped, sends its title back
    with its number (bizmsgmenuid), which the callback turns into the payload."""
    if not buttons:
        return text
    links = []
    for number, (title, _payload) in enumerate(buttons, 1):
        clean = title.replace("<", "").replace(">", "").replace('"', "")
        content = clean.replace("&", "＆")
        links.append(MENU_LINK.format(content=content, number=number, title=clean))
    return text + "\n\n" + "\n".join(links)


class DatabaseTokenStorage(SessionStorage):
    """wechatpy session storage in the database, with a short in-memory cache."""

    def __init__(self, database: Database):
        self._db = database
        self._cache: dict[str, tuple[str, datetime | None]] = {}

    def get(self, key, default=None):
        cached = self._cache.get(key)
        if cached is None:
            with self._db.unit_of_work(write=False) as session:
                row = session.get(ChannelToken, key)
                if row is None:
                    return default
                cached = self._cache[key] = (row.value, row.expires_at)
        value, expires_at = cached
        if expires_at is not None and expires_at - TOKEN_MARGIN <= datetime.now(UTC):
            return default
        return value

    def set(self, key, value, ttl=None):
        if value is None:
            return
        expires = datetime.now(UTC) + timedelta(seconds=ttl) if ttl else None
        with self._db.unit_of_work() as session:
            row = session.get(ChannelToken, key) or ChannelToken(key=key)
            row.value, row.expires_at = value, expires
            session.add(row)
            session.commit()
        self._cache[key] = (value, expires)

    def delete(self, key):
        with self._db.unit_of_work() as session:
            row = session.get(ChannelToken, key)
            if row is not None:
                session.delete(row)
                session.commit()
        self._cache.pop(key, None)

    def forget(self, key) -> None:
        """Drop the cached copy: the next get reads what another process may have stored."""
        self._cache.pop(key, None)


class Client(WeChatClient):
    """wechatpy's client with its base URL from configuration and one token refresher
    (one across processes when `exclusive` is a lock every process shares)."""

    def __init__(
        self,
        appid: str,
        secret: str,
        base_url: str,
        session: SessionStorage,
        exclusive: Callable[[], AbstractContextManager] = nullcontext,
    ):
        super().__init__(appid, secret, session=session, timeout=5, auto_retry=False)
        self.API_BASE_URL = base_url
        self._refresh_lock = threading.Lock()
        self._exclusive = exclusive

    def fetch_access_token(self):
        return self._fetch_access_token(
            url=self.API_BASE_URL + "token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )

    @property
    def access_token(self):
        return self.session.get(self.access_token_key) or self.refresh(stale=None)

    def refresh(self, stale: str | None) -> str:
        """A fresh token, fetched once however many senders found `stale` refused."""
        with self._refresh_lock, self._exclusive():
            if isinstance(self.session, DatabaseTokenStorage):
                self.session.forget(self.access_token_key)
            current = self.session.get(self.access_token_key)
            if current and current != stale:
                return current
            self.fetch_access_token()
            return self.session.get(self.access_token_key)


@dataclass(frozen=True)
class Sent:
    delivery: Delivery
    platform_id: str | None = None
    errcode: int | None = None


class WeChatSender:
    channel = CHANNEL

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        settings: WeChat,
        database: Database,
        base_url: str | None = None,
        clock: Callable[[], datetime] = now,
        storage: SessionStorage | None = None,
        attempts: int = 3,
        backoff: float = 0.3,
        limiter: RateLimiter | None = None,
    ):
        self.client = Client(
            app_id,
            app_secret,
            base_url or DEFAULT_BASE_URL,
            storage or DatabaseTokenStorage(database),
            exclusive=lambda: database.exclusive(TOKEN_LOCK),
        )
        self.limiter = limiter or RateLimiter(settings.rate_per_second, 0.0)
        self._settings = settings
        self._db = database
        self._clock = clock
        self._attempts = attempts
        self._backoff = backoff

    def send(self, message: Outgoing) -> Delivery:
        at = self._clock()
        known = records.last_inbound_at(self._db, CHANNEL, message.external_id)
        last = max((t for t in (message.last_inbound_at, known) if t), default=None)
        window = timedelta(hours=self._settings.customer_service_window_hours)
        if last is not None and at - last < window:
            sent = self._customer_service(message, at)
            if sent.errcode in OUTSIDE_WINDOW:
                # The platform's window closed before ours did: a template may stand in.
                fallback = self._template(message)
                if fallback.delivery.outcome is not Outcome.FAILED:
                    sent = fallback
        else:
            sent = self._template(message)
        self._record(message, sent, at)
        return sent.delivery

    # -- the two ways -------------------------------------------------------------------

    def _customer_service(self, message: Outgoing, at: datetime) -> Sent:
        if message.buttons:
            records.remember_menu(self._db, CHANNEL, message.external_id, message.buttons, at)
        text = menu_text(message.text, message.buttons)
        return self._call(
            message.external_id,
            lambda: self.client.message.send_text(message.external_id, text),
            "customer_service",
        )

    def _template(self, message: Outgoing) -> Sent:
        templates = self._settings.templates
        template_id = templates.get(message.kind) or templates.get("service_notice")
        if not template_id:
            detail = (
                f"no template for {message.kind!r} outside the customer-service window: set "
                f"channels.wechat.templates.{message.kind} or .service_notice in config.yml"
            )
            return Sent(Delivery(Outcome.FAILED, detail, via="template"))
        fields = message.template_data or {"content": message.text}
        data = {key: {"value": value} for key, value in fields.items()}
        return self._call(
            message.external_id,
            lambda: self.client.message.send_template(message.external_id, template_id, data),
            "template",
        )

    def _call(self, openid: str, request: Callable[[], dict], via: str) -> Sent:
        """The request with a valid token within the send limits, classified; bounded
        retries for a refused token, a busy platform or the network."""
        refreshed, token = False, None
        for attempt in range(1, self._attempts + 1):
            try:
                token = self.client.access_token
                self.limiter.acquire(openid)
                result = request()
                msgid = result.get("msgid") if isinstance(result, dict) else None
                return Sent(Delivery(Outcome.SENT, via=via), f"tpl:{msgid}" if msgid else None)
            except WeChatClientException as exc:
                code, text = exc.errcode, f"{exc.errcode}: {exc.errmsg}"
                if code in TOKEN_ERRORS and not refreshed:
                    refreshed = True
                    self._refresh(token)
                    continue
                if code in TOKEN_ERRORS:
                    hint = "the access token is refused even fresh: check WECHAT_APP_SECRET"
                    return Sent(Delivery(Outcome.FAILED, f"{text}: {hint}", via=via), errcode=code)
                if code == UNSUBSCRIBED or code in OUTSIDE_WINDOW:
                    return Sent(Delivery(Outcome.UNREACHABLE, text, via=via), errcode=code)
                if code in CONFIG_ERRORS:
                    detail = f"{text}: {CONFIG_ERRORS[code]}"
                    return Sent(Delivery(Outcome.FAILED, detail, via=via), errcode=code)
                if code in BUSY or code is None:  # None: an HTTP error from the platform
                    if code in BUSY:
                        metrics.RATE_LIMITED.labels(CHANNEL).inc()
                    if attempt == self._attempts:
                        return Sent(Delivery(Outcome.RETRY, text, via=via), errcode=code)
                    time.sleep(self._backoff * attempt)
                    continue
                return Sent(Delivery(Outcome.FAILED, text, via=via), errcode=code)
            except requests.RequestException as exc:
                if attempt == self._attempts:
                    return Sent(Delivery(Outcome.RETRY, f"network: {exc}"[:200], via=via))
                time.sleep(self._backoff * attempt)
            except LimitsUnavailable as exc:  # no store of the limits answers: later
                return Sent(Delivery(Outcome.RETRY, f"send limits: {exc}"[:200], via=via))
            except Exception as exc:  # never let one send take the caller down
                log.exception("wechat: unexpected error in a %s send", via)
                return Sent(Delivery(Outcome.FAILED, f"unexpected: {exc!r}"[:200], via=via))
        return Sent(Delivery(Outcome.RETRY, "attempts exhausted", via=via))

    def _refresh(self, stale: str | None) -> None:
        try:
            self.client.refresh(stale)
        except (WeChatClientException, requests.RequestException) as exc:
            log.warning("wechat: access token refresh failed: %s", exc)

    def _record(self, message: Outgoing, sent: Sent, at: datetime) -> None:
        metrics.SENDS.labels(CHANNEL, sent.delivery.outcome.value).inc()
        try:
            if sent.errcode == UNSUBSCRIBED:
                reason = f"wechat {sent.delivery.detail}"
                records.mark_unreachable(self._db, CHANNEL, message.external_id, reason, at)
            records.record_send(
                self._db,
                CHANNEL,
                message.external_id,
                message.text,
                sent.delivery,
                at,
                sent.platform_id,
            )
        except Exception:
            log.exception("wechat: could not record a send to %s", message.external_id)
