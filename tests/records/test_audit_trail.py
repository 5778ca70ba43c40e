"""A proposal's audit trail for its overseer and committee, and the dashboard's stage
counts as links to the village's proposals in that stage."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text

from app import clock
from app.records.models import AuditEvent
from tests.conftest import ON_POSTGRES
from tests.factories import make_user, make_village


@pytest.fixture()
def moved(cast, proposal_in, db):
    from app.deliberation import engine

    p = proposal_in("draft")
    engine.transition(p, "topic_consultation", cast.committee)
    db.session.commit()
    return p


@pytest.mark.parametrize("who,status", [("overseer", 200), ("committee", 200), ("villager", 403),
                                        ("supervisor", 403)])
def test_the_trail_is_for_the_overseer_and_the_committee(moved, cast, login_as, who, status):
    assert login_as(getattr(cast, who)).get(f"/proposals/{moved.id}/audit").status_code == status


def test_the_trail_is_hidden_from_another_village_and_anonymous(moved, client, login_as):
    far = make_village()
    assert login_as(make_user(["committee_member"], far)).get(f"/proposals/{moved.id}/audit").status_code == 404
    assert login_as(make_user(["overseer"], township=far.township)).get(
        f"/proposals/{moved.id}/audit").status_code == 404
    client.delete_cookie("session")
    assert client.get(f"/proposals/{moved.id}/audit").status_code == 302


def test_the_trail_lists_each_event_in_words_with_who_and_beijing_time(moved, cast, db, login_as):
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "proposal.transition",
                                                        AuditEvent.object_id == moved.id)).one()
    page = login_as(cast.overseer).get(f"/proposals/{moved.id}/audit").get_data(as_text=True)
    item = page.split(f'id="event-{event.chain}-{event.seq}"', 1)[1].split("</li>", 1)[0]
    assert "移至其他阶段" in item and cast.committee.name in item and "✔" in item

    assert clock.format_time(event.at) in item  # Beijing time, to the minute
    assert "proposal.transition" not in page and not re.search(r"\d{2}:\d{2}:\d{2}Z<", page)


def test_an_event_changed_in_the_database_is_marked_on_the_trail(moved, cast, db, login_as):
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "proposal.transition",
                                                        AuditEvent.object_id == moved.id)).one()
    if ON_POSTGRES:
        db.session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
    db.session.execute(text("UPDATE audit_event SET actor_id = NULL WHERE id = :i"), {"i": event.id})
    if ON_POSTGRES:
        db.session.execute(text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only"))
    page = login_as(cast.committee).get(f"/proposals/{moved.id}/audit").get_data(as_text=True)
    item = page.split(f'id="event-{event.chain}-{event.seq}"', 1)[1].split("</li>", 1)[0]
    assert "✘" in item and 'role="alert"' in page


def test_the_proposal_page_links_to_its_trail_for_those_who_may_see_it(moved, cast, login_as):
    link = f'href="/proposals/{moved.id}/audit"'
    assert link in login_as(cast.overseer).get(f"/proposals/{moved.id}/publication").get_data(as_text=True)
    assert link not in login_as(cast.villager).get(f"/proposals/{moved.id}").get_data(as_text=True)


def test_the_dashboards_stage_counts_link_to_the_proposals_in_that_stage(moved, cast, proposal_in, db, login_as):
    proposal_in("publicized", title="公示中的议题")
    db.session.commit()
    b = login_as(cast.overseer)
    page = b.get(f"/oversight/villages/{cast.village.id}").get_data(as_text=True)
    href = f"/villages/{cast.village.id}/proposals?stage=publicized"
    assert f'href="{href}"' in page
    listing = b.get(href).get_data(as_text=True)
    assert "公示中的议题" in listing and moved.title not in listing
