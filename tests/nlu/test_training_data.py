"""Reading Rasa nlu.yml and JSON lines, and saying exactly where a file is wrong."""

from __future__ import annotations

import pytest

from nlu.training_data import TrainingDataError, load_training_data

RASA_YAML = """\
version: "3.1"
nlu:
- intent: redeem_benefit
  examples: |
    - 我要兑换[两张]{"entity": "quantity", "value": "2"}[咖啡券]{"entity": "benefit", "value": "coffee_voucher"}
    - redeem a [coffee voucher](benefit)
- synonym: coffee_voucher
  examples: |
    - 咖啡券
- regex: ticket_id
  examples: |
    - T\\d{6}
- lookup: benefit
  examples: |
    - 咖啡券
    - 生日蛋糕
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_intents_entities_synonyms_regexes_and_lookups_from_rasa_yaml(tmp_path):
    data = load_training_data(write(tmp_path, "nlu.yml", RASA_YAML))

    first, second = data.examples
    assert first.text == "我要兑换两张咖啡券"
    assert first.intent == "redeem_benefit"
    assert [(e.entity, e.value, first.text[e.start : e.end]) for e in first.entities] == [
        ("quantity", "2", "两张"),
        ("benefit", "coffee_voucher", "咖啡券"),
    ]
    assert second.text == "redeem a coffee voucher"
    assert second.entities[0].value == "coffee voucher"
    assert data.synonyms == {"咖啡券": "coffee_voucher"}
    assert data.regexes == {"ticket_id": ["T\\d{6}"]}
    assert data.lookups == {"benefit": ["咖啡券", "生日蛋糕"]}


def test_reads_json_lines_with_intent_or_label(tmp_path):
    path = write(
        tmp_path,
        "test.jsonl",
        '{"text": "pts?", "intent": "check_points"}\n\n{"text": "bye", "label": "goodbye"}\n',
    )

    data = load_training_data(path)

    assert [(e.text, e.intent) for e in data.examples] == [
        ("pts?", "check_points"),
        ("bye", "goodbye"),
    ]


def test_a_directory_is_read_file_by_file(tmp_path):
    write(tmp_path, "a.yml", RASA_YAML)
    write(tmp_path, "b.jsonl", '{"text": "hi", "intent": "greet"}\n')
    write(tmp_path, "notes.txt", "not training data")

    data = load_training_data(tmp_path)

    assert data.intents == ["greet", "redeem_benefit"]
    assert len(data.files) == 2


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (
            RASA_YAML.replace("redeem a [coffee voucher](benefit)", "redeem [coffee]("),
            6,
            "annotation",
        ),
        (RASA_YAML.replace('"value": "2"}', '"value": }'), 5, "not JSON"),
        (RASA_YAML.replace("    - 生日蛋糕", "    生日蛋糕"), 16, "must start with '- '"),
        (RASA_YAML.replace("- regex: ticket_id", "- regexp: ticket_id"), 10, "exactly one of"),
        (RASA_YAML.replace("    - T\\d{6}", "    - (T\\d{6}"), 12, "bad regular expression"),
        (RASA_YAML.replace("synonym: coffee_voucher", "synonym: coffee_voucher: x"), 7, "YAML"),
    ],
)
def test_a_malformed_yaml_file_names_the_file_and_the_line(tmp_path, text, line, words):
    path = write(tmp_path, "broken.yml", text)

    with pytest.raises(TrainingDataError) as caught:
        load_training_data(path)

    message = str(caught.value)
    assert str(path) in message
    assert f"line {line}" in message
    assert words in message


def test_a_bad_json_line_names_the_line(tmp_path):
    path = write(tmp_path, "test.jsonl", '{"text": "hi", "intent": "greet"}\n{"text": "oops"\n')

    with pytest.raises(TrainingDataError, match=r"test\.jsonl, line 2: not valid JSON"):
        load_training_data(path)


def test_a_json_line_without_an_intent_names_the_line(tmp_path):
    path = write(tmp_path, "test.jsonl", '{"text": "hi"}\n')

    with pytest.raises(TrainingDataError, match=r"line 1: needs a string \"text\""):
        load_training_data(path)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(TrainingDataError, match="no such file"):
        load_training_data(tmp_path / "absent.yml")


CATEGORIES_YAML = """\
version: "3.1"
complaint_categories:
- category: delivery_delay
  language: zh-Hans
  examples: |
    - 快递一直没到
    - 物流三天没更新
- category: product_quality
  language: en
  examples: |
    - the mug arrived broken
"""


def test_complaint_category_texts_are_read_beside_the_intents(tmp_path):
    data = load_training_data(write(tmp_path, "complaints.yml", CATEGORIES_YAML))

    assert data.examples == []
    assert [(e.text, e.intent) for e in data.categories] == [
        ("快递一直没到", "delivery_delay"),
        ("物流三天没更新", "delivery_delay"),
        ("the mug arrived broken", "product_quality"),
    ]


def test_a_complaint_category_without_a_name_names_the_file_and_line(tmp_path):
    text = 'version: "3.1"\ncomplaint_categories:\n- language: en\n  examples: |\n    - late\n'
    path = write(tmp_path, "complaints.yml", text)

    with pytest.raises(TrainingDataError) as caught:
        load_training_data(path)

    assert caught.value.path == path
    assert caught.value.line == 3
