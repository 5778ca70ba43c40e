"""The quorum/threshold table of DESIGN.md §3 at and around every boundary, as pure
integer arithmetic (以上 includes the boundary, 过半数 excludes it)."""
from types import SimpleNamespace

import pytest

from app.voting.tally import Share, evaluate, rule_for


def profile(**over):
    base = dict(party_quorum_num=1, party_quorum_den=2, rep_quorum_num=2, rep_quorum_den=3,
                rep_pass_base="took_part", household_quorum_num=2, household_quorum_den=3)
    base.update(over)
    return SimpleNamespace(**base)


def outcome(electorate, roster, yes, no=0, abstain=0, matter=None, **prof):
    t = evaluate(rule_for(electorate, profile(**prof), matter), roster, yes, no, abstain)
    return t.quorum_met, t.passed


# (electorate, roster, yes, no, abstain, profile overrides, matter) → (quorum met, passed)
TABLE = [
    # 两委初议: more than half take part; yes more than half of those taking part.
    ("committees", 9, 4, 0, 0, {}, None, (False, False)),
    ("committees", 9, 5, 0, 0, {}, None, (True, True)),
    ("committees", 10, 5, 0, 0, {}, None, (False, False)),   # exactly half is not more than half
    ("committees", 10, 3, 3, 0, {}, None, (True, False)),    # 3 of 6 is not more than half
    ("committees", 10, 4, 2, 0, {}, None, (True, True)),
    # 党员审议: at least half take part (boundary included); yes more than half of the roster.
    ("party_members", 10, 4, 0, 0, {}, None, (False, False)),
    ("party_members", 10, 5, 0, 0, {}, None, (True, False)),  # quorum at exactly half, but 5 is not > 10/2
    ("party_members", 10, 6, 0, 0, {}, None, (True, True)),
    ("party_members", 10, 5, 0, 1, {}, None, (True, False)),
    ("party_members", 9, 5, 0, 0, dict(party_quorum_num=2, party_quorum_den=3), None, (False, False)),
    ("party_members", 9, 5, 1, 0, dict(party_quorum_num=2, party_quorum_den=3), None, (True, True)),
    # 村民会议 by people: more than half of adults; yes more than half of those taking part.
    ("adult_villagers", 60, 20, 5, 5, {}, None, (False, False)),
    ("adult_villagers", 60, 16, 10, 5, {}, None, (True, True)),
    ("adult_villagers", 60, 17, 13, 4, {}, None, (True, False)),  # 17 of 34 is not more than half
    ("adult_villagers", 60, 18, 12, 4, {}, None, (True, True)),
    # 村民会议 by households: at least two thirds of households.
    ("households", 9, 5, 0, 0, {}, None, (False, False)),
    ("households", 9, 6, 0, 0, {}, None, (True, True)),
    ("households", 10, 6, 0, 0, {}, None, (False, False)),    # 18 < 20
    ("households", 10, 4, 3, 0, {}, None, (True, True)),      # 7 ≥ 6⅔
    # 村民代表会议: at least two thirds of representatives.
    ("representatives", 30, 19, 0, 0, {}, None, (False, False)),
    ("representatives", 30, 10, 10, 0, {}, None, (True, False)),
    ("representatives", 30, 11, 9, 0, {}, None, (True, True)),
    ("representatives", 30, 15, 5, 0, dict(rep_pass_base="roster"), None, (True, False)),  # 15 is not > 30/2
    ("representatives", 30, 16, 4, 0, dict(rep_pass_base="roster"), None, (True, True)),
    # Land contracting: yes at least two thirds of ALL members.
    ("adult_villagers", 60, 39, 21, 0, {}, "land_contracting", (True, False)),
    ("adult_villagers", 60, 40, 20, 0, {}, "land_contracting", (True, True)),  # 40 = 2/3 of 60 exactly
    ("representatives", 30, 19, 0, 1, {}, "homestead", (True, False)),
    ("representatives", 30, 20, 0, 0, {}, "land_compensation", (True, True)),
    ("households", 9, 6, 0, 0, {}, "homestead", (True, True)),
    ("households", 9, 5, 1, 0, {}, "homestead", (True, False)),
]


@pytest.mark.parametrize("electorate, roster, yes, no, abstain, prof, matter, expected", TABLE)
def test_quorum_and_threshold_table_at_each_boundary(electorate, roster, yes, no, abstain, prof, matter, expected):
    assert outcome(electorate, roster, yes, no, abstain, matter, **prof) == expected


def test_an_abstention_counts_as_taking_part_but_not_as_yes():
    assert outcome("adult_villagers", 10, 0, 0, 6) == (True, False)


def test_an_empty_roster_never_has_a_quorum():
    assert outcome("committees", 0, 0) == (False, False)


def test_more_ballots_than_the_roster_is_an_error():
    with pytest.raises(ValueError):
        evaluate(rule_for("committees", profile()), 3, 4, 0, 0)


def test_two_thirds_of_all_does_not_change_the_committees_rule():
    rule = rule_for("committees", profile(), "land_contracting")
    assert rule.passing == Share(1, 2, False) and rule.pass_base == "took_part"


@pytest.mark.parametrize("n, base, inclusive, expected", [
    (40, 60, True, True), (39, 60, True, False), (30, 60, False, False), (31, 60, False, True),
])
def test_shares_use_integer_arithmetic_with_the_right_boundary(n, base, inclusive, expected):
    share = Share(2, 3, True) if inclusive else Share(1, 2, False)
    assert share.reached(n, base) is expected


def test_the_arithmetic_is_written_out_in_both_languages():
    t = evaluate(rule_for("adult_villagers", profile()), 60, 25, 5, 4)
    assert t.words_en.startswith("34 of 60 took part, more than half; 25 yes, more than half of 34: passed")
    assert t.words_zh.startswith("应到60人，实到34人，超过半数；同意25票，超过实到34人的半数：通过")


def test_a_vote_without_quorum_says_so_in_words():
    t = evaluate(rule_for("adult_villagers", profile()), 60, 20, 5, 5)
    assert "not more than half: no quorum" in t.words_en
    assert "不足法定人数" in t.words_zh


def test_the_snapshot_survives_a_round_trip_through_json():
    from app.voting.tally import Rule, Tally

    rule = rule_for("representatives", profile(rep_pass_base="roster"), "homestead")
    assert Rule.from_dict(rule.to_dict()) == rule
    t = evaluate(rule, 30, 20, 0, 0)
    assert Tally.from_dict(t.to_dict()) == t
