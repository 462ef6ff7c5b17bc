"""Channel wiring from the environment: which channels can run, with which secrets.

A channel whose secrets are missing is left out with one clear line saying what to set;
the others run. The senders are also what the scheduled dispatcher and staff replies
use (`senders`)."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from wechatpy.crypto import WeChatCrypto

from app.channels import rate_limit
from app.channels.dialogue import Dialogue, EngineDialogue
from app.channels.telegram import TelegramChannel
from app.channels.telegram_sender import TelegramSender
from app.channels.wechat import WeChatCallback
from app.channels.wechat_sender import WeChatSender
from handlers.ports import Sender

log = logging.getLogger(__name__)


@dataclass
class Channels:
    telegram: TelegramChannel | None = None
    wechat: WeChatCallback | None = None
    senders: dict[str, Sender] = field(default_factory=dict)
    problems: dict[str, list[str]] = field(default_factory=dict)
    dialogue: Dialogue | None = None

    def warm(self) -> None:
        """Build the engine (and its NLU model) now rather than on the first message,
        which would otherwise miss WeChat's deadline."""
        warm = getattr(self.dialogue, "warm", None)
        if warm is not None and (self.telegram or self.wechat):
            warm()

    def report(self) -> None:
        for name in ("telegram", "wechat"):
            for problem in self.problems.get(name, []):
                log.warning("%s: %s", name, problem)

    def status(self) -> dict[str, str]:
        return {
            "telegram": "ready" if self.telegram else "off",
            "wechat": "ready" if self.wechat else "off",
        }

    def adopt_running_loop(self) -> None:
        """Under serve: the Telegram Bot sends on the server's loop (see TelegramSender)."""
        sender = self.senders.get("telegram")
        if isinstance(sender, TelegramSender):
            sender.adopt_running_loop()

    def close(self) -> None:
        sender = self.senders.get("telegram")
        if isinstance(sender, TelegramSender):
            sender.close()


def telegram_sender(app, env: Mapping[str, str]) -> TelegramSender | None:
    token = env.get("TELEGRAM_BOT_TOKEN")
    if not token:
        return None
    settings = app.config.channels.telegram
    return TelegramSender(
        token,
        settings,
        app.database,
        base_url=env.get("TELEGRAM_API_BASE_URL") or None,
        limiter=rate_limit.for_channel(
            rate_limit.shared_limits(app.database, env),
            "telegram",
            settings.rate_per_second,
            settings.per_chat_interval_seconds,
        ),
    )


def wechat_sender(app, env: Mapping[str, str]) -> WeChatSender | None:
    app_id, secret = env.get("WECHAT_APP_ID"), env.get("WECHAT_APP_SECRET")
    if not (app_id and secret):
        return None
    settings = app.config.channels.wechat
    return WeChatSender(
        app_id,
        secret,
        settings,
        app.database,
        base_url=env.get("WECHAT_API_BASE_URL") or None,
        limiter=rate_limit.for_channel(
            rate_limit.shared_limits(app.database, env), "wechat", settings.rate_per_second
        ),
    )


def senders(app, env: Mapping[str, str] | None = None) -> dict[str, Sender]:
    """The outbound sender of each channel whose secrets are set."""
    env = os.environ if env is None else env
    return _present(telegram_sender(app, env), wechat_sender(app, env))


def _present(telegram: TelegramSender | None, wechat: WeChatSender | None) -> dict[str, Sender]:
    found: dict[str, Sender | None] = {"telegram": telegram, "wechat": wechat}
    return {name: sender for name, sender in found.items() if sender is not None}


def build(app, dialogue: Dialogue | None = None, env: Mapping[str, str] | None = None) -> Channels:
    env = os.environ if env is None else env
    dialogue = dialogue or EngineDialogue(app)
    telegram, wechat = telegram_sender(app, env), wechat_sender(app, env)
    channels = Channels(senders=_present(telegram, wechat), dialogue=dialogue)
    _telegram(app, env, dialogue, channels, telegram)
    _wechat(app, env, dialogue, channels, wechat)
    return channels


def _telegram(
    app, env, dialogue: Dialogue, channels: Channels, sender: TelegramSender | None
) -> None:
    problems = channels.problems.setdefault("telegram", [])
    if sender is None:
        problems.append(
            "TELEGRAM_BOT_TOKEN is not set: the webhook answers 503 and nothing is sent"
        )
        return
    secret = env.get("TELEGRAM_WEBHOOK_SECRET")
    if not secret:
        problems.append(
            "TELEGRAM_WEBHOOK_SECRET is not set: the webhook answers 503 "
            "(sending and `memberbot telegram poll` still work)"
        )
    channels.telegram = TelegramChannel(dialogue, sender, app.database, webhook_secret=secret)


def _wechat(app, env, dialogue: Dialogue, channels: Channels, sender: WeChatSender | None) -> None:
    problems = channels.problems.setdefault("wechat", [])
    if sender is None:
        problems.append(
            "WECHAT_APP_ID and WECHAT_APP_SECRET are not both set: late replies and "
            "notices cannot be sent"
        )
    token = env.get("WECHAT_TOKEN")
    if not token:
        problems.append("WECHAT_TOKEN is not set: /wechat answers 503")
        return
    crypto = None
    aes_key = env.get("WECHAT_AES_KEY")
    if aes_key:
        app_id = env.get("WECHAT_APP_ID")
        try:
            if not app_id:
                raise ValueError("safe mode needs WECHAT_APP_ID")
            crypto = WeChatCrypto(token, aes_key, app_id)
        except Exception as exc:
            why = str(exc) or "it must be the 43-character EncodingAESKey"
            problems.append(f"WECHAT_AES_KEY cannot be used ({why}): /wechat answers 503")
            return
    channels.wechat = WeChatCallback(
        token, dialogue, app.database, app.config.channels.wechat, sender=sender, crypto=crypto
    )
