"""The 三议两协商 process engine: the one table of allowed transitions, the one function
that performs a transition, and `blockers()` — what still stops the next step.

Views never change `Proposal.stage`; every move goes through `transition()`, which
checks the actor's permission and the guard, writes the stage history row and an audit
event in the caller's transaction, and refuses anything else with `InvalidTransition`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import clock
from app.accounts.models import utcnow
from app.accounts.permissions import has_village_role, is_overseer_of
from app.deliberation import hooks
from app.deliberation.matters import REPRESENTATIVES_ASSEMBLY, VILLAGERS_ASSEMBLY, matter
from app.deliberation.models import STAGES, TERMINAL, Proposal, StageChange
from app.deliberation.stages import STAGE_LABELS
from app.extensions import db
from app.records.audit import record_event
from app.errors import Refused
from app.notifications import api as notifications


class InvalidTransition(Refused):
    """A move the engine refuses; str() is a message a villager can read."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.problems = problems or []

    def __str__(self) -> str:
        if self.problems:
            return self.message + " " + " ".join(self.problems)
        return self.message


# Guards: each returns the list of problems (empty when the move may happen). -------------

def _text_complete(p: Proposal) -> list[str]:
    problems = []
    v = p.current_version
    if v is None or not v.title.strip() or not v.body.strip():
        problems.append(_("The proposal has no title or text yet."))
    if matter(p.matter_category) is None:
        problems.append(_("No matter category is chosen."))
    problems += body_problems(p)
    return problems


def body_problems(p: Proposal, day: datetime | None = None) -> list[str]:
    """A representatives' assembly may decide an art. 24 matter only when the villagers'
    assembly has authorised it for that matter (recorded authorisation)."""
    m = matter(p.matter_category)
    if m is None or not m.art24 or p.deciding_body != REPRESENTATIVES_ASSEMBLY:
        return []
    when = clock.local_date(day or utcnow())
    if p.authorisation is None or not p.authorisation.covers(m.code, when):
        return [_("This matter must be decided by the villagers' assembly, or by the representatives' "
                  "assembly only with a recorded authorisation of the villagers' assembly for it.")]
    return []


def _topic_consultation_done(p: Proposal) -> list[str]:
    problems = []
    ended = p.topic_consultation_closed_at is not None or (
        p.stage_deadline is not None and utcnow() >= p.stage_deadline)
    if not ended:
        problems.append(_("The topic consultation is still running: wait until it ends or close it early."))
    if not hooks.topic_summary_written(p):
        problems.append(_("The consultation summary has not been written."))
    return problems


def _poll_passed(stage: str) -> Callable[[Proposal], list[str]]:
    def guard(p: Proposal) -> list[str]:
        outcome = hooks.poll_outcome(p, stage)
        if not outcome.exists:
            return [_("The vote of this stage has not been held yet.")]
        if not outcome.closed:
            return [_("The vote is still open.")]
        if not outcome.quorum_met:
            return [_("Too few took part in the vote (no quorum).")]
        if not outcome.passed:
            return [_("The vote did not pass.")]
        return []
    return guard


def _poll_failed(stage: str) -> Callable[[Proposal], list[str]]:
    def guard(p: Proposal) -> list[str]:
        outcome = hooks.poll_outcome(p, stage)
        if not outcome.exists or not outcome.closed:
            return [_("This can only happen after the vote has closed.")]
        if outcome.quorum_met and outcome.passed:
            return [_("The vote passed, so the proposal goes on.")]
        return []
    return guard


def _no_open_disagreements(p: Proposal) -> list[str]:
    n = hooks.open_disagreement_count(p)
    if n:
        return [_("%(n)d point(s) of disagreement are still open: resolve each or carry it forward with a reason.",
                  n=n)]
    return []


def _notice_period_over(p: Proposal) -> list[str]:
    problems = []
    profile = p.village.rule_profile
    days = profile.publicity_days
    ends = clock.profile_period_end(profile, p.stage_entered_at, days)
    if utcnow() < ends:
        problems.append(_("The notice period of %(days)d days runs until %(end)s.", days=days,
                          end=clock.period_end_text(ends)))
    pending = hooks.pending_objection_count(p)
    if pending:
        problems.append(_("%(n)d objection(s) still wait for the supervision committee's answer.", n=pending))
    return problems


def _upheld_objection(p: Proposal) -> list[str]:
    if hooks.upheld_objection_count(p) == 0:
        return [_("Only an objection found valid by the supervision committee can send the proposal back.")]
    return []


def _reports_done(p: Proposal) -> list[str]:
    progress, final = hooks.report_counts(p)
    problems = []
    if progress < 1:
        problems.append(_("No progress report has been posted yet."))
    if not final:
        problems.append(_("The final result report has not been posted yet."))
    return problems


def _poll_not_closed(stage: str) -> Callable[[Proposal], list[str]]:
    def guard(p: Proposal) -> list[str]:
        if p.stage == stage and hooks.poll_outcome(p, stage).closed:
            return [_("The villagers' vote has closed; the proposal can no longer be withdrawn.")]
        return []
    return guard


# Who may make a move ------------------------------------------------------------------

def _committee(actor, p: Proposal) -> bool:
    return actor is not None and has_village_role(actor, p.village, "committee_member")


def _overseer(actor, p: Proposal) -> bool:
    return actor is not None and is_overseer_of(actor, p.village)


@dataclass(frozen=True)
class Transition:
    frm: str
    to: str
    kind: str  # advance / return / reject / withdraw / send_back / file
    who: Callable = _committee
    guards: tuple = ()
    needs_reason: bool = False
    by_poll: bool = False  # may be made by the system when a poll closes
    label: object = None


_RETURNABLE = ("committee_deliberation", "member_review")
_WITHDRAWABLE = ("draft", "topic_consultation", "committee_deliberation", "member_review",
                 "consensus_consultation", "villager_resolution")

TRANSITIONS: dict[tuple[str, str], Transition] = {t.frm + ">" + t.to: t for t in (
    Transition("draft", "topic_consultation", "advance", guards=(_text_complete,),
               label=_l("Open the topic consultation")),
    Transition("topic_consultation", "committee_deliberation", "advance", guards=(_topic_consultation_done,),
               label=_l("Move on to the committees' deliberation")),
    Transition("committee_deliberation", "member_review", "advance",
               guards=(_poll_passed("committee_deliberation"),), by_poll=True,
               label=_l("Move on to the Party members' review")),
    Transition("committee_deliberation", "draft", "return", guards=(_poll_failed("committee_deliberation"),),
               needs_reason=True, by_poll=True, label=_l("Return to draft")),
    Transition("committee_deliberation", "rejected", "reject", guards=(_poll_failed("committee_deliberation"),),
               needs_reason=True, label=_l("Reject")),
    Transition("member_review", "consensus_consultation", "advance", guards=(_poll_passed("member_review"),),
               by_poll=True, label=_l("Move on to the consensus consultation")),
    Transition("member_review", "draft", "return", guards=(_poll_failed("member_review"),), needs_reason=True,
               by_poll=True, label=_l("Return to draft")),
    Transition("member_review", "rejected", "reject", guards=(_poll_failed("member_review"),), needs_reason=True,
               label=_l("Reject")),
    Transition("consensus_consultation", "villager_resolution", "advance",
               guards=(_no_open_disagreements, body_problems), label=_l("Freeze the text and move on to the villagers' vote")),
    Transition("villager_resolution", "publicized", "advance", guards=(_poll_passed("villager_resolution"),),
               by_poll=True, label=_l("Post the resolution")),
    Transition("villager_resolution", "rejected", "reject", guards=(_poll_failed("villager_resolution"),),
               by_poll=True, label=_l("Record that it did not pass")),
    Transition("publicized", "implementing", "advance", guards=(_notice_period_over,),
               label=_l("Start carrying it out")),
    Transition("publicized", "consensus_consultation", "send_back", guards=(_upheld_objection,), needs_reason=True,
               label=_l("Send back to the consensus consultation")),
    Transition("implementing", "completed", "advance", guards=(_reports_done,), label=_l("Publish the result")),
    Transition("completed", "archived", "file", who=_overseer, needs_reason=True,
               label=_l("File the record (备案)")),
) } | {f"{s}>withdrawn": Transition(s, "withdrawn", "withdraw", needs_reason=True,
                                     guards=(_poll_not_closed("villager_resolution"),), label=_l("Withdraw"))
       for s in _WITHDRAWABLE}


def allowed_targets(stage: str) -> list[str]:
    return [t.to for t in TRANSITIONS.values() if t.frm == stage]


def get_transition(frm: str, to: str) -> Transition | None:
    return TRANSITIONS.get(f"{frm}>{to}")


def guard_problems(proposal: Proposal, to_stage: str) -> list[str]:
    t = get_transition(proposal.stage, to_stage)
    if t is None:
        return [_("This step is not possible from here.")]
    problems: list[str] = []
    for guard in t.guards:
        problems += guard(proposal)
    return problems


def can_transition(actor, proposal: Proposal, to_stage: str) -> bool:
    """Whether this person may make this move now (permission and guard)."""
    t = get_transition(proposal.stage, to_stage)
    return t is not None and t.who(actor, proposal) and not guard_problems(proposal, to_stage)


def transition(proposal: Proposal, to_stage: str, actor, reason: str | None = None, *,
               system: bool = False) -> StageChange:
    """Move the proposal to `to_stage`, or refuse.

    :raises InvalidTransition: the move is not in the table, the actor may not make it,
        a reason is missing, or a guard fails (its problems are listed).
    """
    frm = proposal.stage
    t = get_transition(frm, to_stage)
    to_label = STAGE_LABELS.get(to_stage, to_stage)
    if t is None:
        raise InvalidTransition(_("A proposal cannot go from “%(frm)s” to “%(to)s”: no stage may be skipped.",
                                  frm=STAGE_LABELS.get(frm, frm), to=to_label))
    if system:
        if not t.by_poll:
            raise InvalidTransition(_("Only a person can make this step."))
    elif not t.who(actor, proposal):
        raise InvalidTransition(_("You may not make this step."))
    reason = (reason or "").strip() or None
    if t.needs_reason and not reason:
        raise InvalidTransition(_("Please give the reason for this step."))
    problems = guard_problems(proposal, to_stage)
    if problems:
        raise InvalidTransition(_("Not yet possible:"), problems)

    now = utcnow()
    _on_leave(proposal, frm, to_stage)
    proposal.stage = to_stage
    proposal.stage_entered_at = now
    proposal.stage_deadline = _default_deadline(proposal, to_stage, now)
    _on_enter(proposal, to_stage)
    event = record_event(
        "proposal.transition", actor=actor, village_id=proposal.village_id, obj=proposal,
        payload={"from": frm, "to": to_stage, "kind": t.kind, "reason": reason, "system": system},
    )
    change = StageChange(proposal=proposal, from_stage=frm, to_stage=to_stage, actor=actor, at=now,
                         reason=reason, audit_event_id=event.id)
    db.session.add(change)
    db.session.flush()
    return change


def _default_deadline(p: Proposal, stage: str, now: datetime) -> datetime | None:
    profile = p.village.rule_profile
    if stage == "topic_consultation":
        return clock.profile_period_end(profile, now, profile.topic_consultation_days)
    if stage == "publicized":
        return clock.profile_period_end(profile, now, profile.publicity_days)
    return None


def _on_leave(p: Proposal, frm: str, to: str) -> None:
    if frm == "consensus_consultation" and to == "villager_resolution":
        p.frozen_version = p.current_version  # the exact text the villagers vote on


def _on_enter(p: Proposal, stage: str) -> None:
    if stage == "publicized":
        notifications.resolution_posted(p)  # 决议公示: every villager may read it and object
    if stage == "topic_consultation":
        p.topic_consultation_closed_at = None
    if stage in ("draft", "consensus_consultation"):
        p.frozen_version = None
    if stage == "draft":
        p.assembly_announced_at = None
        p.party_plan_sent_at = None


def apply_poll_result(proposal: Proposal, stage: str, actor=None) -> StageChange | None:
    """Called when the poll of a deliberation stage closes: a passed vote moves the
    proposal on; a failed one (or one without quorum) returns it to draft — or, for the
    villagers' vote, records that it did not pass. The poll's arithmetic is the reason."""
    if proposal.stage != stage:
        return None
    outcome = hooks.poll_outcome(proposal, stage)
    if not outcome.closed:
        return None
    forward = {"committee_deliberation": "member_review", "member_review": "consensus_consultation",
               "villager_resolution": "publicized"}[stage]
    if outcome.quorum_met and outcome.passed:
        target = forward
    else:
        target = "rejected" if stage == "villager_resolution" else "draft"
    return transition(proposal, target, actor, reason=outcome.summary or None, system=True)


def notice_problems(proposal: Proposal, stage: str, opens_at: datetime) -> list[str]:
    """Why a poll of this stage may not open at `opens_at` (notice rules of the profile)."""
    profile = proposal.village.rule_profile
    problems = []
    if stage == "member_review":
        days = profile.party_plan_notice_days
        if proposal.party_plan_sent_at is None:
            problems.append(_("The plan has not been sent to the Party members yet."))
        else:
            earliest = clock.notice_earliest(profile, proposal.party_plan_sent_at, days)
            if opens_at < earliest:
                problems.append(_("Party members must get the plan at least %(days)d days before their review: "
                                  "the review can open from %(date)s.", days=days, date=clock.format_time(earliest)))
    if stage == "villager_resolution":
        if proposal.assembly_announced_at is None:
            problems.append(_("The villagers' vote has not been announced yet."))
        elif proposal.deciding_body == VILLAGERS_ASSEMBLY:
            days = profile.villager_assembly_notice_days
            earliest = clock.notice_earliest(profile, proposal.assembly_announced_at, days)
            if opens_at < earliest:
                problems.append(_("The villagers' assembly must be announced at least %(days)d days before the vote: "
                                  "the vote can open from %(date)s.", days=days, date=clock.format_time(earliest)))
        problems += body_problems(proposal, opens_at)
    return problems


def earliest_opening(proposal: Proposal, stage: str) -> datetime | None:
    """The first moment the notice rules let the poll of `stage` open, when that is later
    than now; None when it may open now (or the notice has not been given yet)."""
    profile = proposal.village.rule_profile
    earliest = None
    if stage == "member_review" and proposal.party_plan_sent_at is not None:
        earliest = clock.notice_earliest(profile, proposal.party_plan_sent_at, profile.party_plan_notice_days)
    if (stage == "villager_resolution" and proposal.assembly_announced_at is not None
            and proposal.deciding_body == VILLAGERS_ASSEMBLY):
        earliest = clock.notice_earliest(profile, proposal.assembly_announced_at,
                                         profile.villager_assembly_notice_days)
    return earliest if earliest is not None and earliest > utcnow() else None


@dataclass
class NextStep:
    to: str
    label: str
    problems: list[str] = field(default_factory=list)


def next_step(proposal: Proposal) -> NextStep | None:
    """The ordinary forward step from the current stage."""
    for t in TRANSITIONS.values():
        if t.frm == proposal.stage and t.kind in ("advance", "file"):
            return NextStep(t.to, str(t.label), guard_problems(proposal, t.to))
    return None


@dataclass(frozen=True)
class NoticeRule:
    """A vote that must be announced some days ahead (DESIGN.md §3): asked for from the
    stages before the vote until the vote opens, in the words of `unsent` or `sent`."""
    stages: tuple[str, ...]
    vote: str  # the stage whose poll needs the notice
    given_at: str  # the proposal's field recording when the notice went out
    days: str  # the rule profile's field: how many days ahead
    unsent: object  # %(days)d, %(date)s
    sent: object  # %(announced)s or %(sent)s (the day it went out), %(date)s
    applies: Callable[[Proposal], bool] = lambda p: True


NOTICE_RULES = (
    NoticeRule(("consensus_consultation", "villager_resolution"), "villager_resolution", "assembly_announced_at",
               "villager_assembly_notice_days",
               _l("The villagers' assembly must be announced %(days)d days ahead: announced today, "
                  "the vote can be held from %(date)s at the earliest."),
               _l("The villagers' assembly was announced on %(announced)s: the vote can be held from "
                  "%(date)s at the earliest."),
               applies=lambda p: p.deciding_body == VILLAGERS_ASSEMBLY),
    NoticeRule(("committee_deliberation", "member_review"), "member_review", "party_plan_sent_at",
               "party_plan_notice_days",
               _l("The Party members must get the plan %(days)d days before their review: sent today, "
                  "the review can be held from %(date)s at the earliest."),
               _l("The plan was sent to the Party members on %(sent)s: their review can be held from "
                  "%(date)s at the earliest.")),
)


def next_stage_needs(proposal: Proposal) -> list[str]:
    """What the stage after this one will need that must be done now: said before the
    text is frozen (or the committee votes), not discovered when the vote will not open."""
    profile = proposal.village.rule_profile
    needs = []
    for rule in NOTICE_RULES:
        if proposal.stage not in rule.stages or not rule.applies(proposal) or _poll_started(proposal, rule.vote):
            continue
        days, given = getattr(profile, rule.days), getattr(proposal, rule.given_at)
        earliest = clock.format_day(clock.notice_earliest(profile, given or utcnow(), days))
        if given is None:
            needs.append(str(rule.unsent) % {"days": days, "date": earliest})
        else:
            day = clock.format_day(given)
            needs.append(str(rule.sent) % {"announced": day, "sent": day, "date": earliest})
    return needs


def _poll_started(proposal: Proposal, stage: str) -> bool:
    return hooks.poll_outcome(proposal, stage).exists if proposal.stage == stage else False


def blockers(proposal: Proposal) -> list[str]:
    """In plain words, what still stops the proposal's next ordinary step."""
    if proposal.stage in TERMINAL:
        return []
    step = next_step(proposal)
    return step.problems if step else []


def available_moves(actor, proposal: Proposal) -> list[Transition]:
    """The moves this person may try now (shown as buttons; the guard may still refuse)."""
    return [t for t in TRANSITIONS.values() if t.frm == proposal.stage and t.who(actor, proposal)]


def stage_index(stage: str) -> int:
    return STAGES.index(stage) if stage in STAGES else -1
