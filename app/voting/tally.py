"""Quorum and threshold rules (法定人数与通过标准) as pure integer arithmetic.

"以上" (at least) includes the boundary: n * den >= base * num.
"过半数" / "超过" (more than) excludes it:   n * den >  base * num.
No floats anywhere, so 2/3 of 60 is exactly 40 and 40 counts as "at least two thirds".
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from app.deliberation.matters import REPRESENTATIVES_ASSEMBLY, matter


@dataclass(frozen=True)
class Share:
    """A share of a base, with whether the boundary itself is enough."""

    num: int
    den: int
    inclusive: bool  # True: 以上 (≥); False: 过半数 / 超过 (>)

    def reached(self, n: int, base: int) -> bool:
        if self.inclusive:
            return n * self.den >= base * self.num
        return n * self.den > base * self.num

    def words(self, lang: str, reached: bool = True) -> str:
        name = _fraction_name(self.num, self.den, lang)
        if not reached and lang != "zh":
            return f"less than {name}" if self.inclusive else f"not more than {name}"
        if lang == "zh":
            return f"{name}以上" if self.inclusive else f"超过{name}"
        return f"at least {name}" if self.inclusive else f"more than {name}"


def _fraction_name(num: int, den: int, lang: str) -> str:
    if lang == "zh":
        return {(1, 2): "半数", (2, 3): "三分之二"}.get((num, den), f"{den}分之{num}")
    return {(1, 2): "half", (2, 3): "two thirds", (1, 1): "all"}.get((num, den), f"{num}/{den}")


@dataclass(frozen=True)
class Rule:
    """The rule a poll applies: the quorum (share of the roster taking part) and the
    pass threshold (yes as a share of those taking part, or of the whole roster)."""

    body: str               # committees / party_members / adult_villagers / households / representatives
    quorum: Share
    passing: Share
    pass_base: str          # "took_part" or "roster"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Rule":
        return cls(body=d["body"], quorum=Share(**d["quorum"]), passing=Share(**d["passing"]),
                   pass_base=d["pass_base"])


HALF_STRICT = Share(1, 2, False)


def rule_for(electorate: str, profile, matter_category: str | None = None) -> Rule:
    """The rule of DESIGN.md §3 for this electorate under this rule profile; matters
    that need two thirds of all members (land contracting, 宅基地, compensation) replace
    the pass threshold of a villagers' decision with "yes at least 2/3 of the roster"."""
    if electorate == "committees":
        rule = Rule(electorate, HALF_STRICT, HALF_STRICT, "took_part")
    elif electorate == "party_members":
        rule = Rule(electorate, Share(profile.party_quorum_num, profile.party_quorum_den, True), HALF_STRICT,
                    "roster")
    elif electorate == "adult_villagers":
        rule = Rule(electorate, HALF_STRICT, HALF_STRICT, "took_part")
    elif electorate == "households":
        rule = Rule(electorate, Share(profile.household_quorum_num, profile.household_quorum_den, True),
                    HALF_STRICT, "took_part")
    elif electorate == "representatives":
        base = profile.rep_pass_base if profile.rep_pass_base in ("took_part", "roster") else "took_part"
        rule = Rule(electorate, Share(profile.rep_quorum_num, profile.rep_quorum_den, True), HALF_STRICT, base)
    else:
        raise ValueError(f"unknown electorate {electorate!r}")
    m = matter(matter_category)
    if m is not None and m.two_thirds_of_all and electorate in ("adult_villagers", "households", "representatives"):
        rule = Rule(rule.body, rule.quorum, Share(2, 3, True), "roster")
    return rule


def electorate_for(stage: str, deciding_body: str, household_mode: bool = False) -> str:
    """Which body votes in a deliberation stage."""
    if stage == "committee_deliberation":
        return "committees"
    if stage == "member_review":
        return "party_members"
    if deciding_body == REPRESENTATIVES_ASSEMBLY:
        return "representatives"
    return "households" if household_mode else "adult_villagers"


@dataclass(frozen=True)
class Tally:
    """The closing snapshot: counts, turnout, quorum, result and the arithmetic in words."""

    roster: int
    took_part: int
    yes: int
    no: int
    abstain: int
    quorum_met: bool
    passed: bool
    rule: dict
    words_en: str
    words_zh: str
    # Ballots that took part but count for no choice: spoilt paper ballots (废票) and
    # phone ballots whose sealing key the key store lost (docs/voting-security.md).
    spoilt: int = 0
    lost: int = 0
    # A secret poll with a meeting: how attendance was counted and the scrutineers'
    # totals of the paper ballots ({"signed_in", "phone_only", "issued", "returned",
    # "yes", "no", "abstain", "spoilt", "scrutineers", "counter"}); None otherwise.
    hall: dict | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Tally":
        return cls(**d)

    def words(self, lang: str) -> str:
        return self.words_zh if lang.startswith("zh") else self.words_en


def evaluate(rule: Rule, roster: int, yes: int, no: int, abstain: int, *, took_part: int | None = None,
             spoilt: int = 0, lost: int = 0, hall: dict | None = None) -> Tally:
    """Apply the rule to the counts (an abstention counts as taking part).

    `took_part` defaults to the ballots counted; a poll with a hall meeting passes the
    attendance (signed in at the meeting, plus phone voters), which may be larger:
    a spoilt or unreturned paper ballot still took part."""
    counted = yes + no + abstain + spoilt + lost
    took_part = counted if took_part is None else took_part
    if took_part < counted:
        raise ValueError("more ballots than people taking part")
    if took_part > roster:
        raise ValueError("more ballots than voters on the roster")
    quorum_met = roster > 0 and rule.quorum.reached(took_part, roster)
    base = roster if rule.pass_base == "roster" else took_part
    passed = quorum_met and rule.passing.reached(yes, base)
    extra = (spoilt, lost)
    return Tally(roster=roster, took_part=took_part, yes=yes, no=no, abstain=abstain, quorum_met=quorum_met,
                 passed=passed, rule=rule.to_dict(),
                 words_en=_words_en(rule, roster, took_part, yes, no, abstain, quorum_met, passed, extra),
                 words_zh=_words_zh(rule, roster, took_part, yes, no, abstain, quorum_met, passed, extra),
                 spoilt=spoilt, lost=lost, hall=hall)


def _share_zh(share: Share, reached: bool, of: str = "") -> str:
    name = _fraction_name(share.num, share.den, "zh")
    if share.inclusive:
        return f"达到{of}{name}以上" if reached else f"未达到{of}{name}"
    return f"超过{of}{name}" if reached else f"未超过{of}{name}"


def _words_en(rule, roster, took_part, yes, no, abstain, quorum_met, passed, extra=(0, 0)) -> str:
    unit = " households" if rule.body == "households" else ""
    first = f"{took_part} of {roster}{unit} took part, {rule.quorum.words('en', quorum_met)}"
    counts = f"{yes} yes, {no} no, {abstain} abstain"
    spoilt, lost = extra
    if spoilt:
        counts += f", {spoilt} spoilt"
    if lost:
        counts += f", {lost} lost"
    if not quorum_met:
        return f"{first}: no quorum, the vote is not valid ({counts})"
    of = f"of {took_part}" if rule.pass_base == "took_part" else f"of all {roster}"
    verdict = "passed" if passed else "not passed"
    return f"{first}; {yes} yes, {rule.passing.words('en', passed)} {of}: {verdict} ({counts})"


def _words_zh(rule, roster, took_part, yes, no, abstain, quorum_met, passed, extra=(0, 0)) -> str:
    unit = "户" if rule.body == "households" else "人"
    first = f"应到{roster}{unit}，实到{took_part}{unit}，{_share_zh(rule.quorum, quorum_met)}"
    counts = f"同意{yes}，反对{no}，弃权{abstain}"
    spoilt, lost = extra
    if spoilt:
        counts += f"，废票{spoilt}"
    if lost:
        counts += f"，丢失{lost}"
    if not quorum_met:
        return f"{first}：不足法定人数，表决无效（{counts}）"
    of = f"实到{took_part}{unit}的" if rule.pass_base == "took_part" else f"应到{roster}{unit}的"
    verdict = "通过" if passed else "未通过"
    return f"{first}；同意{yes}票，{_share_zh(rule.passing, passed, of)}：{verdict}（{counts}）"
