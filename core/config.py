"""The configuration schema: every business rule of DOMAIN.md, validated on load."""

from __future__ import annotations

import calendar
import os
import re
from datetime import date, time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

# The defaults ship inside the package; config.yml at the repository root is the documented
# copy (a test keeps the two identical).
DEFAULTS = Path(__file__).with_name("defaults.yml")
# Letters and digits with dashes (A20261101, SO-2026-88123), ten-digit ERP numbers
# (4500123456) and 12-20 digit marketplace numbers; never a phone or a date.
DEFAULT_ORDER_ID_PATTERN = (
    r"(?<![A-Za-z0-9])(?:[A-Za-z]{1,4}-?\d{4,}(?:-\d{2,})*|\d{10}|\d{12,20})(?![A-Za-z0-9])"
)


class ConfigError(Exception):
    """A configuration that cannot be used; the message says what to fix."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    zh: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


class Tier(Strict):
    name: str
    threshold: int = Field(ge=0)
    multiplier: float = Field(gt=0)
    vip: bool = False
    label: Text


class TierEvaluation(Strict):
    """The yearly evaluation's day (member local time; 29 February falls on 28 February
    in other years) and whether members who keep a tier above the lowest hear about it."""

    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)
    notify_kept: bool = False

    @model_validator(mode="after")
    def _real_day(self) -> TierEvaluation:
        try:
            date(2000, self.month, self.day)  # a leap year: 29 February is allowed
        except ValueError:
            raise ValueError(f"{self.month}-{self.day} is not a day of the year") from None
        return self

    def day_in(self, year: int) -> date:
        """The evaluation day of `year`."""
        if (self.month, self.day) == (2, 29) and not calendar.isleap(year):
            return date(year, 2, 28)
        return date(year, self.month, self.day)


class Points(Strict):
    per_yuan: float = Field(gt=0)
    expiry_months: int | None = Field(default=12, ge=1)
    welcome_bonus: int = Field(ge=0)
    birthday_gift: int = Field(ge=0)
    referral_multiplier: float = Field(ge=0)
    # Far below what the ledger's 64-bit sums hold; a configuration without it keeps a bound.
    max_adjustment: int = Field(default=100_000, ge=1, le=1_000_000_000)


class Membership(Strict):
    term_months: int = Field(ge=1)
    renewal: Literal["from_expiry", "from_purchase", "none"] = "from_expiry"


class Benefits(Strict):
    voucher_validity_days: int = Field(ge=1)
    per_member_limit: int = Field(ge=1)


class Reminders(Strict):
    send_time: time
    membership_expiry_days: list[int]
    points_expiry_window_days: int = Field(ge=1)
    voucher_expiry_days: int = Field(ge=1)
    new_member_followup_days: int = Field(ge=1)
    dormant_days: int = Field(ge=1)


class QuietHours(Strict):
    start: time
    end: time


class Campaigns(Strict):
    skip_public_holidays: bool
    holiday_country: str = "CN"


class Complaints(Strict):
    categories: list[str]
    urgent_keywords: list[str]
    # A shop's own order-number format, matched inside a message when the NLU found none.
    order_id_pattern: str = DEFAULT_ORDER_ID_PATTERN

    @field_validator("order_id_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"is not a regular expression: {exc}") from None
        return value


class FirstResponse(Strict):
    urgent: float = Field(gt=0)
    vip: float = Field(gt=0)
    normal: float = Field(gt=0)


class ServiceLevels(Strict):
    first_response: FirstResponse
    resolution: float = Field(gt=0)
    warn_before_minutes: int = Field(ge=0)


class CompensationRule(Strict):
    basis: Literal["order_amount", "fixed"]
    min_percent: float | None = Field(default=None, ge=0, le=100)
    max_percent: float | None = Field(default=None, ge=0, le=100)
    min_points: int | None = Field(default=None, ge=0)
    max_points: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _bounds_fit_basis(self) -> CompensationRule:
        lo, hi = (
            (self.min_percent, self.max_percent)
            if self.basis == "order_amount"
            else (self.min_points, self.max_points)
        )
        unit = "percent" if self.basis == "order_amount" else "points"
        if lo is None or hi is None:
            raise ValueError(f"basis {self.basis} needs min_{unit} and max_{unit}")
        if lo > hi:
            raise ValueError(f"min_{unit} ({lo}) is above max_{unit} ({hi})")
        return self


class Compensation(Strict):
    rules: dict[str, CompensationRule]


class Outbound(Strict):
    max_attempts: int = Field(ge=1)
    backoff_seconds: list[int]


class Dialogue(Strict):
    max_reasks: int = Field(ge=0)
    fallback_misses: int = Field(ge=1)
    binding_max_attempts: int = Field(ge=1)  # per chat identity
    binding_lock_minutes: int = Field(ge=1)
    # Per membership, whichever chats the guesses come from, and over all memberships.
    binding_number_max_failures: int = Field(default=5, ge=1)
    binding_number_lock_minutes: int = Field(default=60, ge=1)
    binding_window_minutes: int = Field(default=60, ge=1)
    binding_global_max_failures: int = Field(default=200, ge=1)
    language_guess_messages: int = Field(ge=1)
    confirmation_minutes: int = Field(default=30, ge=1)


class Rasa(Strict):
    url: str
    token: str | None = None
    timeout_seconds: float = Field(gt=0)


class Nlu(Strict):
    backend: Literal["embedded", "rasa"]
    data_path: Path
    model_path: Path | None = None  # None: the user's cache directory
    fallback_threshold: float = Field(ge=0, le=1)
    ambiguity_margin: float = Field(ge=0, le=1)
    # How confident another request must be to take a member out of an open form.
    digression_threshold: float = Field(ge=0, le=1)
    rasa: Rasa

    @model_validator(mode="before")
    @classmethod
    def _digression_defaults_to_fallback(cls, raw):
        # A configuration written before the key existed keeps its old behaviour.
        if isinstance(raw, dict) and "digression_threshold" not in raw:
            return {**raw, "digression_threshold": raw.get("fallback_threshold")}
        return raw

    @model_validator(mode="after")
    def _digression_not_below_fallback(self) -> Nlu:
        # Below the fallback threshold the intent is already nlu_fallback: a lower value
        # would say something the engine cannot do.
        if self.digression_threshold < self.fallback_threshold:
            raise ValueError(
                f"digression_threshold ({self.digression_threshold}) is below "
                f"fallback_threshold ({self.fallback_threshold})"
            )
        return self


class Telegram(Strict):
    rate_per_second: float = Field(gt=0)
    per_chat_interval_seconds: float = Field(ge=0)
    staff_chat_id: int | None = None


class WeChat(Strict):
    customer_service_window_hours: int = Field(ge=1)
    # Sends through WeChat's API a second, over every process of the bot.
    rate_per_second: float = Field(default=50, gt=0)
    passive_reply_seconds: float = Field(gt=0, lt=5)
    templates: dict[str, str | None]
    # A signed callback whose timestamp is further than this from now is refused.
    signature_max_age_seconds: int = Field(default=300, ge=30, le=3600)
    # With WECHAT_AES_KEY set, plaintext messages are refused unless this is true (兼容模式).
    compatible_mode: bool = False


class Channels(Strict):
    telegram: Telegram
    wechat: WeChat


class SignIn(Strict):
    """Staff passwords and API keys: failures per account and per client address."""

    max_failures: int = Field(default=5, ge=1)
    window_minutes: int = Field(default=15, ge=1)
    lock_seconds: int = Field(default=60, ge=1)  # doubles with each failure past the limit
    trusted_proxies: list[str] = Field(default_factory=list)  # whose X-Forwarded-For to believe


class Database(Strict):
    url: str


class Logging(Strict):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"]
    json_lines: bool = Field(alias="json")


class Config(Strict):
    brand: dict[str, Text]
    timezone: str
    default_language: Literal["zh", "en"]
    database: Database
    tiers: list[Tier] = Field(min_length=1)
    tier_evaluation: TierEvaluation
    points: Points
    membership: Membership
    benefits: Benefits
    reminders: Reminders
    quiet_hours: QuietHours
    campaigns: Campaigns
    complaints: Complaints
    service_levels: ServiceLevels
    compensation: Compensation
    outbound: Outbound
    dialogue: Dialogue
    nlu: Nlu
    channels: Channels
    sign_in: SignIn = Field(default_factory=SignIn)
    logging: Logging

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as Asia/Shanghai") from None
        return value

    @field_validator("tiers")
    @classmethod
    def _tiers_ascend(cls, tiers: list[Tier]) -> list[Tier]:
        if tiers[0].threshold != 0:
            raise ValueError("the lowest tier must have threshold 0")
        for lower, higher in zip(tiers, tiers[1:], strict=False):
            if higher.threshold <= lower.threshold:
                raise ValueError(
                    f"thresholds must rise: {higher.name} ({higher.threshold}) "
                    f"is not above {lower.name} ({lower.threshold})"
                )
        return tiers

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def tier(self, name: str) -> Tier:
        for tier in self.tiers:
            if tier.name == name:
                return tier
        raise KeyError(name)

    def database_url(self) -> str:
        return os.environ.get("DATABASE_URL") or self.database.url


def _describe(error: ErrorDetails) -> str:
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    value = error.get("input")
    shown = "missing" if error["type"] == "missing" else repr(value)
    if isinstance(value, dict | list):
        shown = type(value).__name__
    return f"{key} = {shown}: {error['msg']}"


def load_config(path: str | os.PathLike | None = None) -> Config:
    """Load and validate the configuration (the given file, else MEMBERBOT_CONFIG, else the
    packaged defaults); ConfigError names the key, value and rule."""
    chosen = Path(path or os.environ.get("MEMBERBOT_CONFIG") or DEFAULTS)
    try:
        raw = yaml.safe_load(chosen.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"configuration file {chosen} not found") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "cannot be parsed"
        raise ConfigError(f"{chosen} is not valid YAML{where}: {problem}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{chosen} must hold a mapping of settings")
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(_describe(e) for e in exc.errors())
        raise ConfigError(f"{chosen}: {problems}") from None
