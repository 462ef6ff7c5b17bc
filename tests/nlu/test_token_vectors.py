"""The pretrained token vectors: likeness that shared n-grams cannot show."""

from __future__ import annotations

import numpy as np
import pytest

from nlu.embeddings import WEIGHT, shipped


def _likeness(a: str, b: str) -> float:
    vectors = shipped()
    return float(vectors.vector(a) @ vectors.vector(b)) / WEIGHT**2


@pytest.mark.parametrize(
    ("text", "same_meaning", "unrelated"),
    [
        ("top up my card", "add money to my account", "what is the weather"),
        ("cancel my order", "i want a refund", "tell me a joke"),
        ("我的积分还有多少", "积分余额", "今天天气怎么样"),
    ],
)
def test_texts_that_mean_the_same_are_closer_than_unrelated_ones(text, same_meaning, unrelated):
    assert _likeness(text, same_meaning) > _likeness(text, unrelated)


def test_every_text_gets_a_vector_of_the_same_length_and_an_empty_one_is_zero():
    vectors = shipped().vectors(["", "hello", "积分", "🙂" * 50])

    assert vectors.shape == (4, shipped().dimensions)
    assert not vectors[0].any()
    assert np.allclose(np.linalg.norm(vectors[1:], axis=1), WEIGHT)
