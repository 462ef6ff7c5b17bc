"""Another company's or person's failure is out of scope; the same failure told of us is a
complaint. `淘宝买的卫衣到现在还没发货` read as a complaint because the model had seen few
texts naming 淘宝: the names of the data's `other_party` table now give one feature together.
The texts here are not in the training data."""

from __future__ import annotations

import pytest

from nlu.features import OTHER_PARTY_MARK, WORD_MARK, analyse
from nlu.model import NluModel
from nlu.normalise import normalise
from nlu.other_parties import OtherParties
from nlu.training_data import load_training_data
from tests.nlu.conftest import DATA

PARTIES = OtherParties.of(["顺丰", "携程", "ryanair", "virgin media", "booking.com", "星巴克"])


def marked(text: str, parties: OtherParties = PARTIES) -> bool:
    return WORD_MARK + OTHER_PARTY_MARK in analyse(normalise(text).text, parties)


@pytest.mark.parametrize(
    "text",
    [
        "中通快递把我的包裹压扁了",
        "携程退票手续费收了我两百",
        "國泰航空的飛機又延誤了",
        "饿了么骑手送错地址了还不接电话",
        "ryanair lost my suitcase on the way to malaga",
        "my virgin media broadband keeps dropping every evening",
        "booking.com cancelled my hotel the night before",
    ],
)
def test_another_companys_failure_is_out_of_scope(nlu_parser, text):
    assert nlu_parser.parse(text)["intent"]["name"] == "out_of_scope"


@pytest.mark.parametrize(
    "text",
    [
        "你们用顺丰寄的蛋糕压坏了",
        "你们天猫旗舰店发的口红是断的",
        "the dpd driver delivering your order threw it over the fence",
    ],
)
def test_a_failure_told_to_us_is_a_complaint_whoever_else_it_names(nlu_parser, text):
    assert nlu_parser.parse(text)["intent"]["name"] == "file_complaint"


@pytest.mark.parametrize(
    "text",
    [
        "京东订单 290123456789 的面霜过期了",
        "天貓訂單2145678901234567890，收到的杯子是碎的",
        "拼多多订单231105-123456789012345到现在还没发货",
        "中通单号 78123456789012 一周没动了",
        "my Shopee order 231105ABCD1234 arrived damaged",
        "Amazon order 302-1234567-7654321 still hasn't shown up",
    ],
)
def test_an_order_number_quoted_beside_a_marketplace_or_courier_is_the_brands_order(
    nlu_parser, text
):
    assert nlu_parser.parse(text)["intent"]["name"] == "file_complaint"
    assert not marked(text)


@pytest.mark.parametrize(
    "text", ["积分能换腾讯视频会员吗", "can i use points for a starbucks gift card"]
)
def test_a_partner_brand_after_the_points_is_a_reward_not_another_party(nlu_parser, text):
    assert nlu_parser.parse(text)["intent"]["name"] != "out_of_scope"


def test_a_name_is_marked_in_either_script_and_as_whole_words_only():
    assert marked("順豐把包裹弄丟了")  # Traditional, normalised to the table's Simplified
    assert marked("Ryanair lost my bag")
    assert marked("booked it on booking.com.")
    assert not marked("the ryanairport shuttle")  # not a word of its own


def test_a_message_addressing_the_brand_or_redeeming_points_is_not_marked():
    assert not marked("你们发的顺丰到现在没到")
    assert not marked("your courier, virgin media or not, never came")
    assert not marked("我想用积分兑换星巴克咖啡券")
    assert marked("星巴克的星星又过期了")  # their own programme, named before any points


@pytest.mark.parametrize(
    "text",
    [
        "the ryanair voucher you sold me is worthless",
        "you've shipped it with virgin media's courier?",
        "你寄的顺丰件到现在还没动",
        "您给我发的携程券用不了",
    ],
)
def test_you_who_sent_sold_or_charged_is_the_brand_too(text):
    assert not marked(text)


@pytest.mark.parametrize(
    "text",
    [
        "天猫旗舰店买的面霜过期了，订单号 TM-20261101-8823",
        "京東旗艦店買的毛衣洗一次就起球",
        "the flagship store on tmall sent me an expired face cream",
        "bought it from the official shop on shopee and the zip broke on day one",
    ],
)
def test_the_brands_own_shop_on_a_marketplace_is_the_brand(nlu_parser, text):
    assert not marked(text)
    assert nlu_parser.parse(text)["intent"]["name"] == "file_complaint"


def test_you_in_passing_does_not_address_the_brand():
    assert marked("ryanair lost my bag, you know how they are")
    assert marked("顺丰又把件丢了，你说气不气")


def test_no_table_marks_nothing():
    assert not marked("顺丰把包裹弄丢了", OtherParties())


def test_the_projects_table_is_a_feature_not_an_entity(nlu_parser):
    table = load_training_data(DATA).lookups["other_party"]
    assert len(table) > 1000
    entities = nlu_parser.parse("携程退票手续费收了我两百")["entities"]
    assert all(entity["entity"] != "other_party" for entity in entities)


def test_a_saved_model_keeps_its_other_parties(nlu_model, tmp_path):
    nlu_model.save(tmp_path / "model.npz")
    loaded = NluModel.load(tmp_path / "model.npz")
    assert loaded.parties == nlu_model.parties
    assert loaded.parties.named_in("携程退票手续费收了我两百")
