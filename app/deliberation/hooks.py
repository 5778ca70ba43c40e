"""The small interfaces through which the stage engine asks other areas what its guards
need to know: polls (voting), threads and disagreements (consultation), objections and
reports (records). Each area implements the function in its own `api.py`; the engine
imports only this module."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PollOutcome:
    """What the engine needs to know of a stage's poll."""

    exists: bool
    is_open: bool
    closed: bool
    quorum_met: bool
    passed: bool
    summary: str = ""  # the arithmetic in words, for the stage history


NO_POLL = PollOutcome(exists=False, is_open=False, closed=False, quorum_met=False, passed=False)


def poll_outcome(proposal, stage: str) -> PollOutcome:
    """The latest poll of this proposal for this deliberation stage."""
    from app.voting import api

    return api.poll_outcome(proposal, stage)


def topic_summary_written(proposal) -> bool:
    from app.consultation import api

    return api.topic_summary_written(proposal)


def topic_summaries_written(proposal_ids) -> set[int]:
    """The ids among these proposals whose topic consultation summary exists."""
    from app.consultation import api

    return api.topic_summaries_written(proposal_ids)


def open_disagreement_count(proposal) -> int:
    from app.consultation import api

    return api.open_disagreement_count(proposal)


def pending_objection_count(proposal) -> int:
    """Objections filed during the notice period not yet answered by the supervision committee."""
    from app.records import api

    return api.pending_objection_count(proposal)


def upheld_objection_count(proposal) -> int:
    """Objections the supervision committee found valid (they can send the proposal back)."""
    from app.records import api

    return api.upheld_objection_count(proposal)


def report_counts(proposal) -> tuple[int, bool]:
    """(number of progress reports, whether the final result report exists)."""
    from app.records import api

    return api.report_counts(proposal)


def close_poll_if_due(proposal) -> bool:
    """Close the current stage's poll if its closing time has passed (first access after
    the time closes it, even when no cron job ran); True if it closed one."""
    from app.voting import api, services

    poll = api.latest_poll(proposal, proposal.stage)
    return poll is not None and services.close_if_due(poll)


def unheard_stakeholders(proposal) -> list[str]:
    """The directly affected households or people with no opinion in the topic consultation, by name."""
    from app.consultation import api

    return api.unheard_in_topic(proposal)


def poll_words_in_reader_language(proposal, stage: str, words: str) -> str:
    """The arithmetic of a closed poll, stored in the words of whoever closed it, in the reader's language."""
    from app.voting import api

    return api.poll_words_in_reader_language(proposal, stage, words)
