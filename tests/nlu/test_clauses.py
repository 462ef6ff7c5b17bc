from nlu.clauses import clauses


def test_requests_joined_by_punctuation_or_a_joining_word_are_clauses_of_their_own():
    assert clauses("帮我查下积分，顺便看看我的券") == ["帮我查下积分", "看看我的券"]
    assert clauses("积分多少，还有我是什么等级") == ["积分多少", "我是什么等级"]
    assert clauses("how many points do I have and what vouchers do I have") == [
        "how many points do I have",
        "what vouchers do I have",
    ]
    assert clauses("points pls. also any vouchers?") == ["points pls", "any vouchers"]


def test_a_word_that_joins_only_after_punctuation_does_not_split_a_question():
    assert clauses("我还有多少积分") == ["我还有多少积分"]
    assert clauses("能再换一张吗") == ["能再换一张吗"]


def test_a_decimal_point_does_not_end_a_clause():
    assert clauses("I spent 1.5k yuan") == ["I spent 1.5k yuan"]
