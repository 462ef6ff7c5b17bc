"""Structured logs for every long-running command, with members' personal data masked.

Every library logs through the standard library; structlog renders the records as key=value
lines for a person, or as JSON lines (`logging.json: true`) for a log collector. Personal
data is masked wherever it appears: phone numbers, WeChat openids, e-mail addresses,
member numbers, dates (birthdays), Telegram ids (runs of 7 to 12 digits); and
credentials are scrubbed (URL query secrets, the bot token). The access log of `serve`
goes through the same masking; uvicorn's colour codes are dropped."""

from __future__ import annotations

import logging
import re

import structlog
from structlog.typing import EventDict, Processor

from core.config import Logging
from core.scrub import scrub

PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
OPENID = re.compile(r"\b(o[\w-]{3})[\w-]{20,}\b")
EMAIL = re.compile(r"\b([\w.+-])[\w.+-]*@([\w-]+\.[\w.-]+)\b")
MEMBER_NO = re.compile(r"\b([Mm])\d{4}(\d{2})\b")
DATE = re.compile(r"(?<!\d)(1[89]|20)\d\d[-/.年]\d{1,2}[-/.月]\d{1,2}日?(?![\d:T])")
LONG_NUMBER = re.compile(r"(?<![\d.])(\d{2})\d{3,8}(\d{2})(?![\d.])")  # 7 to 12 digits
NOISY = ("httpx", "httpcore", "telegram", "apscheduler")
UNMASKED = ("timestamp", "level", "logger")  # the record's own fields


def mask(text: str) -> str:
    """13800000001 -> 138****0001; an openid keeps its first four characters; M000003 ->
    M****03; 1995-02-14 -> 19**-**-**; 424242424 -> 42***24; secrets -> ***."""
    text = scrub(text)
    text = PHONE.sub(r"\1****\2", text)
    text = OPENID.sub(r"\1****", text)
    text = MEMBER_NO.sub(r"\1****\2", text)
    text = DATE.sub(r"\1**-**-**", text)
    text = LONG_NUMBER.sub(r"\1***\2", text)
    return EMAIL.sub(r"\1***@\2", text)


def _mask_values(_logger: object, _name: str, event: EventDict) -> EventDict:
    event.pop("color_message", None)  # uvicorn's copy of the message with colour codes
    return {
        key: mask(value) if isinstance(value, str) and key not in UNMASKED else value
        for key, value in event.items()
    }


def configure(settings: Logging) -> None:
    """Route all logging through structlog's formatter; call once per process."""
    shared: list[Processor] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
    ]
    renderer = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if settings.json_lines
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _mask_values,
            renderer,
        ],
    )
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    level = getattr(logging, settings.level)
    root.setLevel(level)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
