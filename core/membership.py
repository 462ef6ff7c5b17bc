"""Membership rules, free of I/O: how a purchase renews the annual membership, and the
promise the bot makes about it, rendered from the same rule (config `membership.renewal`).

`membership_expires` is the last day the membership is valid (core/validity.py): it
expires at the end of that day in the member's time zone."""

from __future__ import annotations

from datetime import date

from dateutil.relativedelta import relativedelta

from core.catalogue import text
from core.config import Config


def renewed(expires: date, purchase_day: date, config: Config) -> date:
    """The membership's last day after a purchase on `purchase_day`; never earlier than now.

    from_expiry (DOMAIN.md): the later of the current expiry and the purchase day, plus the
    term (a lapsed member is renewed from the purchase day). from_purchase: the term from
    the purchase day. none: purchases do not renew."""
    rule, term = config.membership.renewal, relativedelta(months=config.membership.term_months)
    if rule == "from_expiry":
        return max(expires, purchase_day) + term
    if rule == "from_purchase":
        return max(expires, purchase_day + term)
    return expires


def is_active(expires: date, today: date) -> bool:
    return today <= expires


def renewal_promise(config: Config, lang: str) -> str:
    """What the bot says about renewal: the configured rule in words."""
    return text(
        lang, f"membership.renewal.{config.membership.renewal}", term=config.membership.term_months
    )
