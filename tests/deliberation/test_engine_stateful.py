"""Random sequences of actions never break the process's invariants."""
from datetime import timedelta

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from app.accounts.models import utcnow
from app.deliberation import engine, hooks
from app.deliberation.engine import TRANSITIONS, InvalidTransition
from app.deliberation.hooks import PollOutcome
from app.deliberation.models import ALL_STAGES, STAGES, TERMINAL
from app.extensions import db
from tests.factories import make_proposal, make_user

ROLES = ["villager", "committee_member", "party_member", "overseer"]


def test_random_action_sequences_keep_the_invariants(app, db, monkeypatch):
    world = {"poll": None, "summary": False, "disagreements": 0, "pending": 0, "upheld": 0, "reports": (0, False)}
    monkeypatch.setattr(hooks, "poll_outcome", lambda p, s: world["poll"] or hooks.NO_POLL)
    monkeypatch.setattr(hooks, "topic_summary_written", lambda p: world["summary"])
    monkeypatch.setattr(hooks, "open_disagreement_count", lambda p: world["disagreements"])
    monkeypatch.setattr(hooks, "pending_objection_count", lambda p: world["pending"])
    monkeypatch.setattr(hooks, "upheld_objection_count", lambda p: world["upheld"])
    monkeypatch.setattr(hooks, "report_counts", lambda p: world["reports"])

    class Process(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.proposal = make_proposal(stage="draft")
            village = self.proposal.village
            self.people = {r: make_user([r], village) if r != "overseer" else make_user(["overseer"],
                           township=village.township) for r in ROLES}
            self.terminal_seen = None

        @rule(poll=st.sampled_from([None, "open", "passed", "failed", "no_quorum"]),
              summary=st.booleans(), disagreements=st.integers(0, 2), pending=st.integers(0, 1),
              upheld=st.integers(0, 1), reports=st.sampled_from([(0, False), (1, False), (1, True)]))
        def change_the_world(self, poll, summary, disagreements, pending, upheld, reports):
            world["poll"] = {None: None,
                             "open": PollOutcome(True, True, False, False, False),
                             "passed": PollOutcome(True, False, True, True, True, "passed"),
                             "failed": PollOutcome(True, False, True, True, False, "failed"),
                             "no_quorum": PollOutcome(True, False, True, False, False, "no quorum")}[poll]
            world.update(summary=summary, disagreements=disagreements, pending=pending, upheld=upheld,
                         reports=reports)

        @rule(days=st.integers(0, 12), closed=st.booleans())
        def time_passes(self, days, closed):
            self.proposal.stage_entered_at = utcnow() - timedelta(days=days)
            self.proposal.topic_consultation_closed_at = utcnow() if closed else None

        @rule(to=st.sampled_from(ALL_STAGES), role=st.sampled_from(ROLES), reason=st.sampled_from(["", "理由"]))
        def try_a_move(self, to, role, reason):
            before = self.proposal.stage
            allowed = engine.can_transition(self.people[role], self.proposal, to)
            try:
                engine.transition(self.proposal, to, self.people[role], reason)
            except InvalidTransition:
                assert self.proposal.stage == before
            else:
                assert f"{before}>{to}" in TRANSITIONS
                assert allowed or TRANSITIONS[f"{before}>{to}"].needs_reason

        @precondition(lambda self: self.proposal.stage in ("committee_deliberation", "member_review",
                                                            "villager_resolution"))
        @rule()
        def poll_closes(self):
            try:
                engine.apply_poll_result(self.proposal, self.proposal.stage)
            except InvalidTransition:
                pass

        @invariant()
        def stage_is_known_and_history_agrees(self):
            p = self.proposal
            assert p.stage in ALL_STAGES
            if p.history:
                assert p.history[-1].to_stage == p.stage
                for a, b in zip(p.history, p.history[1:]):
                    assert a.to_stage == b.from_stage
            for change in p.history:
                assert f"{change.from_stage}>{change.to_stage}" in TRANSITIONS
                if change.to_stage in STAGES and change.from_stage in STAGES and \
                        STAGES.index(change.to_stage) > STAGES.index(change.from_stage):
                    assert STAGES.index(change.to_stage) == STAGES.index(change.from_stage) + 1, "a stage was skipped"

        @invariant()
        def terminal_stays_terminal(self):
            if self.terminal_seen:
                assert self.proposal.stage == self.terminal_seen
            if self.proposal.stage in TERMINAL:
                self.terminal_seen = self.proposal.stage

    Process.TestCase.settings = settings(max_examples=40, stateful_step_count=30, deadline=None,
                                         suppress_health_check=list(HealthCheck))
    Process.TestCase().runTest()
    db.session.flush()
