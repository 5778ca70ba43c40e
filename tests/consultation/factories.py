"""Factories for the consultation tests; each flushes, never commits."""
from __future__ import annotations

from app.consultation.models import Post
from app.extensions import db
from tests.factories import make_proposal, make_user


def make_post(proposal, author=None, *, thread="topic", stance="support", body="我同意这个方案。", parent=None):
    """A post put straight into the table (set-up only: the app posts through the services)."""
    author = author or make_user(["villager"], proposal.village)
    post = Post(proposal=proposal, thread=thread, stance=None if parent else stance, body=body, author=author,
                parent=parent)
    db.session.add(post)
    db.session.flush()
    return post


def committee_and_proposal(stage="topic_consultation", **kw):
    """A committee member and a proposal of their village in `stage`."""
    committee = make_user(["villager", "committee_member"])
    return committee, make_proposal(stage=stage, village=committee.village, author=committee, **kw)
