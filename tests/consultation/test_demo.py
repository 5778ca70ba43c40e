"""The demo threads load through the services and leave each consultation ready to end."""
import pytest

from app.consultation import api, demo
from app.consultation.models import Post
from app.demo import seed_accounts
from app.extensions import db
from tests.factories import make_proposal


@pytest.fixture()
def village(db):
    return seed_accounts()["villages"][0]


@pytest.mark.parametrize("name", sorted(demo.SCRIPTS))
def test_a_demo_script_seeds_both_consultations(db, village, name):
    script = demo.SCRIPTS[name]
    from app.accounts.services import find_person_by_phone

    author = find_person_by_phone(demo.WANG_JIANGUO)
    proposal = make_proposal(stage="topic_consultation", village=village, author=author,
                             title=script["proposal"]["title"], body=script["proposal"]["body"],
                             matter_category=script["proposal"]["matter_category"])
    demo.seed_threads(proposal, script)
    assert api.topic_summary_written(proposal)
    cov = api.coverage(proposal)
    assert cov.total == len(script["stakeholders"]) and 0 < cov.households_heard + cov.people_heard
    assert api.post_count(proposal, "topic") >= len(script["topic"])

    proposal.stage = "consensus_consultation"
    demo.seed_threads(proposal, script)
    items = api.disagreements_of(proposal)
    assert items and api.open_disagreement_count(proposal) == 0
    accepted = [a for a in api.amendments_of(proposal) if a.status == "accepted"]
    assert len(proposal.versions) == 1 + len(accepted) >= 2
    for a in accepted:
        assert a.version.body != a.base_version.body
    assert sum(api.sense_counts(proposal).values()) > 0

    demo.seed_threads(proposal, script)  # a second run adds nothing
    assert len(proposal.versions) == 1 + len(accepted)


def test_the_demo_has_a_carried_item_an_in_person_opinion_and_a_hidden_post(db, village):
    from app.accounts.services import find_person_by_phone

    author = find_person_by_phone(demo.WANG_JIANGUO)
    statuses, in_person, hidden = set(), 0, 0
    for script in demo.SCRIPTS.values():
        proposal = make_proposal(stage="topic_consultation", village=village, author=author,
                                 body=script["proposal"]["body"])
        demo.seed_threads(proposal, script)
        proposal.stage = "consensus_consultation"
        demo.seed_threads(proposal, script)
        statuses |= {i.status for i in api.disagreements_of(proposal)}
        posts = db.session.query(Post).filter_by(proposal_id=proposal.id).all()
        in_person += sum(p.in_person for p in posts)
        hidden += sum(p.is_hidden for p in posts)
    assert statuses == {"resolved", "carried"} and in_person >= 1 and hidden >= 1
