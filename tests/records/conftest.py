"""Set-up for the records tests: a village with its committee, supervisor, villager
and the township's overseer, and proposals in the after-the-decision stages."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.factories import make_proposal, make_user, make_village


@dataclass
class Cast:
    village: object
    committee: object
    supervisor: object
    villager: object
    overseer: object


@pytest.fixture()
def cast(db):
    village = make_village()
    return Cast(village=village,
                committee=make_user(["committee_member", "villager"], village, name="王主任"),
                supervisor=make_user(["supervisor", "villager"], village, name="李监委"),
                villager=make_user(["villager"], village, name="张大爷"),
                overseer=make_user(["overseer"], township=village.township, name="赵乡干"))


@pytest.fixture()
def proposal_in(cast):
    def _make(stage: str, **kw):
        return make_proposal(stage, cast.village, cast.committee, **kw)
    return _make


@pytest.fixture()
def no_other_areas(monkeypatch):
    """Polls and threads as the other areas would export them (tests only)."""
    from app.records import record

    monkeypatch.setattr(record, "export_polls", lambda p: [])
    monkeypatch.setattr(record, "export_threads", lambda p: [])
    monkeypatch.setattr(record, "export_disagreements", lambda p: [])
