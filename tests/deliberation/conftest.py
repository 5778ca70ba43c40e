import pytest

from app.deliberation import hooks
from app.deliberation.hooks import PollOutcome


class FakeAreas:
    """Test double for the areas behind app/deliberation/hooks.py (tests only)."""

    def __init__(self):
        self.polls: dict[str, PollOutcome] = {}
        self.summary = True
        self.open_disagreements = 0
        self.pending_objections = 0
        self.upheld_objections = 0
        self.reports = (1, True)

    def set_poll(self, stage, *, closed=True, quorum_met=True, passed=True, summary="10 of 12 took part"):
        self.polls[stage] = PollOutcome(True, not closed, closed, quorum_met, passed, summary)


@pytest.fixture()
def areas(monkeypatch):
    fake = FakeAreas()
    monkeypatch.setattr(hooks, "poll_outcome", lambda p, stage: fake.polls.get(stage, hooks.NO_POLL))
    monkeypatch.setattr(hooks, "topic_summary_written", lambda p: fake.summary)
    monkeypatch.setattr(hooks, "open_disagreement_count", lambda p: fake.open_disagreements)
    monkeypatch.setattr(hooks, "pending_objection_count", lambda p: fake.pending_objections)
    monkeypatch.setattr(hooks, "upheld_objection_count", lambda p: fake.upheld_objections)
    monkeypatch.setattr(hooks, "report_counts", lambda p: fake.reports)
    return fake
