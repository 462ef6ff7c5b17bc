"""The one message catalogue: plurals by Babel's rules, staff words beside the members'."""

from core import catalogue
from staff import i18n


def test_english_counts_one_voucher_and_two_vouchers():
    assert catalogue.text("en", "vouchers.list", count=1, lines="-").startswith(
        "You have 1 voucher:"
    )
    assert catalogue.text("en", "vouchers.list", count=2, lines="-").startswith(
        "You have 2 vouchers:"
    )
    assert catalogue.text("zh", "vouchers.list", count=1, lines="-").startswith("您有 1 张")


def test_staff_see_the_complaint_categories_the_members_see():
    for lang in catalogue.LANGUAGES:
        t = i18n.words(lang)
        assert t("complaint.category.delivery_delay") == catalogue.text(
            lang, "complaint.category.delivery_delay"
        )
    assert i18n.words("zh")("complaint.category.delivery_delay") == "配送延误"


def test_staff_numbers_are_grouped_and_counted_in_the_staff_language():
    assert i18n.words("en")("comp.granted", count=1) == "1 point granted"
    assert i18n.words("en")("comp.granted", count=1200) == "1,200 points granted"
    assert i18n.words("zh")("comp.granted", count=1200) == "已发放 1,200 积分"
