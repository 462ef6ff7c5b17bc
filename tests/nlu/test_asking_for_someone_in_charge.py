"""Asking for a manager, someone in charge, or a number to call is asking for a person;
a complaint that names a manager says what they did. `找店长` was a complaint, so the
member got the complaint form instead of a person. The texts here are not in the
training data."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "text",
    [
        "把店长喊来",
        "你们门店经理电话给我",
        "我想和你们负责人谈谈",
        "有没有管理层能出来说句话",
        "你们主管在哪",
        "请经理给我回电",
        "人工电话多少啊",
        "我能打电话找你们吗",
        "我要找你們店長",
        "客服專線多少",
        "fetch your manager please",
        "i'd like to escalate to someone higher up",
        "who can i call about this",
        "is there a number for customer support",
        "let me speak with the store manager",
        "could a supervisor give me a ring",
    ],
)
def test_asking_for_someone_in_charge_or_a_number_is_asking_for_a_person(nlu_parser, text):
    assert nlu_parser.parse(text)["intent"]["name"] == "human_handoff"


@pytest.mark.parametrize(
    "text",
    [
        "店长对我大吼大叫",
        "经理当众羞辱我",
        "主管说不能退，态度很差",
        "打了好多次电话都没人接",
        "the manager refused to give me a refund",
        "your supervisor was very rude",
        "the hotline kept me on hold for an hour",
        "the store manager ignored my complaint",
    ],
)
def test_what_a_manager_did_is_still_a_complaint(nlu_parser, text):
    assert nlu_parser.parse(text)["intent"]["name"] == "file_complaint"
