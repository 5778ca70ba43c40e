"""A hypothesis state machine: cast, change, close, cast after close — the tally always
equals the distinct voters and their last choices."""
from collections import Counter

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import func, select

from app.extensions import db
from app.voting import services
from app.voting.models import Ballot, Participation
from tests.voting.factories import make_poll

VOTERS = 5


def test_the_tally_equals_the_distinct_voters_and_their_last_choices(db):
    class PollMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.poll, self.people, self.opener = make_poll(voters=VOTERS - 1)
            self.people.append(self.opener)
            self.last: dict[int, str] = {}
            self.tally = None

        @precondition(lambda self: self.tally is None)
        @rule(who=st.integers(0, VOTERS - 1), choice=st.sampled_from(["yes", "no", "abstain"]))
        def cast(self, who, choice):
            services.cast_ballot(self.poll, self.people[who], choice)
            self.last[who] = choice

        @precondition(lambda self: self.tally is None)
        @rule()
        def close(self):
            self.tally = services.close_poll(self.poll, self.opener)

        @precondition(lambda self: self.tally is not None)
        @rule(who=st.integers(0, VOTERS - 1), choice=st.sampled_from(["yes", "no", "abstain"]))
        def cast_after_close_is_refused(self, who, choice):
            try:
                services.cast_ballot(self.poll, self.people[who], choice)
            except services.PollNotOpen:
                return
            raise AssertionError("a ballot was accepted after close")

        @invariant()
        def one_ballot_per_distinct_voter(self):
            # Open: one sealed ballot on one participation row per voter; closed: one counted ballot each.
            parts = db.session.scalar(select(func.count()).select_from(Participation)
                                      .where(Participation.poll_id == self.poll.id))
            assert parts == len(self.last)
            if self.tally is not None:
                n = db.session.scalar(select(func.count()).select_from(Ballot).where(Ballot.poll_id == self.poll.id))
                assert n == len(self.last)

        @invariant()
        def the_tally_matches_the_last_choices(self):
            if self.tally is None:
                return
            expected = Counter(self.last.values())
            assert self.tally.took_part == len(self.last)
            assert (self.tally.yes, self.tally.no, self.tally.abstain) == (
                expected["yes"], expected["no"], expected["abstain"])
            assert self.tally.roster == VOTERS

    run_state_machine_as_test(PollMachine, settings=settings(
        max_examples=25, stateful_step_count=12, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))
