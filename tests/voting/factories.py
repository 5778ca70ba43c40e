"""Factories for voting tests: a village with a voting body, a proposal ready to be
voted on (notice given, text frozen), and an opened poll. Each flushes, never commits."""
from __future__ import annotations

from datetime import timedelta

from app.accounts.models import utcnow
from app.extensions import db
from app.voting import services
from tests.factories import make_proposal, make_user, make_village

STAGE_ROLE = {"committee_deliberation": "committee_member", "member_review": "party_member",
              "villager_resolution": "villager"}


def ready_proposal(stage: str = "villager_resolution", village=None, *, author=None, **kw):
    """A proposal in `stage` whose notice rules are met and whose text is frozen."""
    village = village or make_village()
    author = author or make_user(["committee_member", "villager"], village)
    proposal = make_proposal(stage=stage, village=village, author=author, **kw)
    long_ago = utcnow() - timedelta(days=30)
    proposal.assembly_announced_at = long_ago
    proposal.party_plan_sent_at = long_ago
    proposal.frozen_version = proposal.current_version
    db.session.flush()
    return proposal


def make_voters(village, n: int, role: str = "villager", **kw) -> list:
    return [make_user([role], village, **kw) for _ in range(n)]


def make_poll(stage: str = "villager_resolution", *, voters: int = 3, secret: bool | None = None,
              household_mode: bool = False, proposal=None, hours: int = 24, **kw):
    """An open poll of a fresh proposal with `voters` extra people of the voting body.
    Returns (poll, voters, committee member who opened it)."""
    proposal = proposal or ready_proposal(stage, **kw)
    village = proposal.village
    opener = proposal.created_by
    people = make_voters(village, voters, STAGE_ROLE[stage])
    poll = services.open_poll(proposal, opener, closes_at=utcnow() + timedelta(hours=hours), secret=secret,
                              household_mode=household_mode)
    return poll, people, opener
