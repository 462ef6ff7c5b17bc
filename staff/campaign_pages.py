"""The workbench's campaign pages, for supervisors and admins: the list and the create
form, a campaign's preview and "run now", and its report. A thin edge over
schedules/campaigns.py and schedules/campaign_report.py: one use case call per page."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from core.clock import now
from handlers.desk.staff_accounts import at_least
from schedules import campaigns
from schedules.campaign_report import OUTCOMES, report
from schedules.segments import Segment, SegmentError
from staff import charts, i18n
from staff.auth import Staff
from staff.web import Refused, back, desk, guarded, language, render, signed_in

router = APIRouter()
FIELDS = (
    "name",
    "tier",
    "dormant_days",
    "birthday_month",
    "rfm",
    "consent",
    "text_zh",
    "text_en",
    "at",
)
# Which form field a use case's refusal is about, by the words its message starts with; the
# field's own words in the staff member's language say what to fix.
REFUSALS = {
    "unknown tier": ("tier", "err.tier"),
    "birthday month": ("birthday_month", "err.birthday_month"),
    "dormant days": ("dormant_days", "err.dormant_days"),
    "RFM": ("rfm", "err.rfm"),
    "consent": ("consent", "err.consent"),
    "a campaign named": ("name", "err.name_taken"),
    "unknown benefit": ("benefit", "err.refused"),
    "--text-zh": ("text_zh", "err.refused"),
    "--text-en": ("text_en", "err.refused"),
}


def _supervisor(staff: Staff) -> Staff:
    if not at_least(staff.role, "supervisor"):
        raise Refused()
    return staff


def _mask(name: str | None) -> str:
    name = (name or "").strip()
    return name[:1] + "*" * max(1, len(name) - 1) if name else "-"


def _segment(config, lang: str):
    """describe(segment): who a campaign goes to, in the staff member's language."""
    t = i18n.words(lang)

    def describe(segment: Segment) -> str:
        parts = []
        if segment.tiers:
            labels = [config.tier(name).label.get(lang) or name for name in segment.tiers]
            parts.append(t("camp.seg.tiers", tiers=i18n.names(labels, lang)))
        if segment.dormant_days:
            parts.append(t("camp.seg.dormant", count=segment.dormant_days))
        if segment.birthday_month:
            parts.append(t("camp.seg.birthday", month=segment.birthday_month))
        if segment.rfm:
            parts.append("RFM " + " ".join(f"{k.upper()}≥{v}" for k, v in segment.rfm.items()))
        parts.append(t(f"camp.seg.consent.{segment.consent}"))
        return t("camp.seg.sep").join(parts)

    return describe


def _page(request: Request, staff: Staff, form=None, errors=None, status_code: int = 200):
    return render(
        request,
        "campaigns.html",
        staff,
        status_code=status_code,
        listed=campaigns.listing(desk(request).db),
        describe=_segment(desk(request).config, language(request, staff)),
        tiers=desk(request).config.tiers,
        benefits=campaigns.promotable(desk(request).db, language(request, staff)),
        form=form or {"consent": "yes"},
        chosen=form.getlist("tier") if form is not None else [],
        promoted=form.getlist("benefit") if form is not None else [],
        errors=errors or {},
        link=lambda name: quote(name, safe=""),
    )


@router.get("/campaigns")
def campaigns_page(request: Request) -> Response:
    return _page(request, _supervisor(signed_in(request)))


def _number(form, key: str, errors: dict, least: int, most: int) -> int | None:
    value = str(form.get(key, "")).strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 12) or not (
        least <= int(value) <= most
    ):
        errors[key] = ("err.range", {"least": least, "most": most})
        return None
    return int(value)


def _read(form, config, at: datetime) -> tuple[dict, Segment, dict, datetime | None]:
    """The form as the use case's arguments; what is wrong, by field."""
    errors: dict[str, tuple[str, dict]] = {}
    name = str(form.get("name", "")).strip()
    if not name or "/" in name or len(name) > 80:
        errors["name"] = ("err.name", {})
    texts = {lang: str(form.get(f"text_{lang}", "")).strip() for lang in ("zh", "en")}
    for lang, body in texts.items():
        if not body:
            errors[f"text_{lang}"] = ("err.required", {})
    when = None
    try:
        when = datetime.fromisoformat(str(form.get("at", "")).strip()).replace(tzinfo=config.zone)
    except ValueError:
        errors["at"] = ("err.time", {})
    if when is not None and when <= at:
        errors["at"] = ("err.past", {})
    rfm = {k: _number(form, f"rfm_{k}", errors, 1, 5) for k in "rfm"}
    for k in "rfm":
        if f"rfm_{k}" in errors:
            errors["rfm"] = errors.pop(f"rfm_{k}")
    segment = Segment(
        tiers=[str(t) for t in form.getlist("tier")],
        dormant_days=_number(form, "dormant_days", errors, 1, 3650),
        birthday_month=_number(form, "birthday_month", errors, 1, 12),
        rfm={k: v for k, v in rfm.items() if v is not None},
        consent=str(form.get("consent", "yes")),
    )
    benefits = [str(code) for code in form.getlist("benefit")]
    return {"name": name, "texts": texts, "benefits": benefits}, segment, errors, when


@router.post("/campaigns")
async def campaign_create(request: Request) -> Response:
    staff, actor, form = await guarded(request)
    _supervisor(staff)
    the, at = desk(request), now()
    asked, segment, errors, when = _read(form, the.config, at)
    if not errors and when is not None:  # a time that does not read is an error
        try:
            await run_in_threadpool(
                campaigns.create,
                the.db,
                the.config,
                asked["name"],
                segment,
                asked["texts"],
                when,
                actor.username,
                at,
                asked["benefits"],
            )
        except (SegmentError, campaigns.CampaignError) as exc:
            field, key = next(
                (found for w, found in REFUSALS.items() if str(exc).startswith(w)),
                ("name", "err.refused"),
            )
            errors[field] = (key, {"detail": str(exc)})
    if errors:
        t = i18n.words(language(request, staff))
        shown = {field: t(f"camp.{key}", **fields) for field, (key, fields) in errors.items()}
        return await run_in_threadpool(_page, request, staff, form, shown, 422)
    return back(request, f"/campaigns/{quote(asked['name'], safe='')}", done="created")


def _found(work):
    try:
        return work()
    except campaigns.CampaignError:
        return None


@router.get("/campaigns/{name}")
def campaign_page(request: Request, name: str) -> Response:
    staff = _supervisor(signed_in(request))
    the = desk(request)
    seen = _found(lambda: campaigns.preview(the.db, the.config, name, now(), 10))
    if seen is None:
        return render(request, "error.html", staff, status_code=404, problem="camp.not_found")
    q = request.query_params
    lang = language(request, staff)
    return render(
        request,
        "campaign.html",
        staff,
        campaign=name,
        link=quote(name, safe=""),
        p=seen,
        describe=_segment(the.config, lang),
        sample=[
            (no, _mask(who), the.config.tier(tier).label.get(lang) or tier)
            for no, who, tier, _ in seen.sample
        ],
        done=q.get("done"),
        queued=int(q["queued"]) if q.get("queued", "").isdigit() else 0,
    )


@router.post("/campaigns/{name}/run")
async def campaign_run(request: Request, name: str) -> Response:
    staff, _, _ = await guarded(request)
    _supervisor(staff)
    the = desk(request)
    try:
        queued = await run_in_threadpool(campaigns.run, the.db, the.config, name, now())
    except campaigns.CampaignError:
        return back(request, "/campaigns")
    return back(request, f"/campaigns/{quote(name, safe='')}", done="run", queued=str(queued))


@router.get("/campaigns/{name}/report")
def campaign_report(request: Request, name: str) -> Response:
    staff = _supervisor(signed_in(request))
    the = desk(request)
    found = _found(lambda: report(the.db, name, the.config.zone, now()))
    if found is None:
        return render(request, "error.html", staff, status_code=404, problem="camp.not_found")
    lang = language(request, staff)
    t = i18n.words(lang)
    outcomes = [t(f"camp.outcome.{o.replace(' ', '_')}") for o in OUTCOMES]
    days = [i18n.month_day(d.day, lang) for d in found.days]
    return render(
        request,
        "campaign_report.html",
        staff,
        r=found,
        link=quote(name, safe=""),
        outcomes=list(zip(OUTCOMES, outcomes, strict=True)),
        promoted=[
            name for code, name in campaigns.promotable(the.db, lang) if code in found.benefits
        ],
        chart=charts.bars(
            outcomes, [(t("camp.messages"), [found.counts[o] for o in OUTCOMES])], t("camp.chart")
        ),
        over_time=charts.bars(
            days,
            [
                (t("camp.outcome.delivered"), [d.delivered for d in found.days]),
                (t("camp.redemptions"), [d.redeemed for d in found.days]),
                (t("camp.purchases"), [d.purchases for d in found.days]),
            ],
            t("camp.over_time"),
        ),
        spent=charts.line(days, [float(d.amount) for d in found.days], t("camp.amount_chart")),
    )
