"""The other areas' services tell people through the notifications API."""
from __future__ import annotations

from app.extensions import db
from app.notifications.models import Notification
from tests.factories import make_proposal, make_user


def _kinds(person):
    return [n.kind for n in db.session.query(Notification).filter_by(person_id=person.id)]


def test_a_reply_tells_the_author_of_the_opinion(app, db):
    from app.consultation import services as consultation
    from tests.consultation.factories import committee_and_proposal, make_post

    with app.test_request_context():
        committee, proposal = committee_and_proposal("topic_consultation")
        opinion = make_post(proposal)
        consultation.add_reply(opinion, committee, body="谢谢，会考虑。")
        assert _kinds(opinion.author) == ["reply"]
        assert _kinds(committee) == []


def test_an_answered_objection_tells_who_filed_it(app, db):
    from app.records import services as records

    with app.test_request_context():
        proposal = make_proposal("publicized")
        villager = make_user(["villager"], proposal.village)
        supervisor = make_user(["supervisor", "villager"], proposal.village)
        objection = records.file_objection(proposal, villager, "补偿标准不清楚")
        records.answer_objection(objection, supervisor, "已核实，标准见附件。", upheld=False)
        assert "objection_answered" in _kinds(villager)


def test_posting_the_resolution_tells_the_village(app, db):
    from app.deliberation import engine

    with app.test_request_context():
        proposal = make_proposal("villager_resolution")
        villager = make_user(["villager"], proposal.village)
        engine._on_enter(proposal, "publicized")
        assert _kinds(villager) == ["resolution_posted"]
