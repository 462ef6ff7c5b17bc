"""Structured logs for every long-running command, with members' personal data masked.

Every library logs through the standard library; structlog renders the records as key=value
lines for a person, or as JSON lines (`logging.json: true`) for a log collector. Phone
numbers, WeChat openids and e-mail addresses are masked wherever they appear."""

from __future__ import annotations

import logging
import re

import structlog
from structlog.typing import EventDict, Processor

from core.config import Logging

PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
OPENID = re.compile(r"\b(o[\w-]{3})[\w-]{20,}\b")
EMAIL = re.compile(r"\b([\w.+-])[\w.+-]*@([\w-]+\.[\w.-]+)\b")
NOISY = ("httpx", "httpcore", "telegram", "apscheduler", "uvicorn.access")


def mask(text: str) -> str:
    """13800000001 -> 138****0001; an openid keeps its first four characters."""
    text = PHONE.sub(r"\1****\2", text)
    text = OPENID.sub(r"\1****", text)
    return EMAIL.sub(r"\1***@\2", text)


def _mask_values(_logger: object, _name: str, event: EventDict) -> EventDict:
    return {key: mask(value) if isinstance(value, str) else value for key, value in event.items()}


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
