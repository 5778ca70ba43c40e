"""The demo helpers the seed command uses."""
from app.voting import demo
from tests.factories import make_user
from tests.voting.factories import make_voters, ready_proposal


def test_run_poll_casts_online_and_in_the_hall_then_closes_and_moves_the_proposal(db):
    proposal = ready_proposal("committee_deliberation")
    members = make_voters(proposal.village, 4, "committee_member")
    clerk = make_user(["clerk"], proposal.village)
    votes = {m.phone: "yes" for m in members[:2]}
    in_hall = {members[2].phone: "yes", members[3].phone: "no"}
    poll = demo.run_poll(proposal, proposal.created_by, votes, in_hall=in_hall, clerk=clerk)
    assert poll.is_closed and poll.tally.took_part == 4 and poll.tally.yes == 3
    assert poll.meeting.minutes
    assert proposal.stage == "member_review"


def test_run_poll_without_quorum_returns_the_proposal_to_draft(db):
    proposal = ready_proposal("committee_deliberation")
    make_voters(proposal.village, 4, "committee_member")
    votes = demo.everyone(proposal, "committee_deliberation", skip=3)
    poll = demo.run_poll(proposal, proposal.created_by, votes)
    assert not poll.quorum_met and proposal.stage == "draft"


def test_the_demo_households_belong_to_a_villagers_group(app, db):
    """The meeting roster tells two people of one name apart by household, group and age:
    every demo household has its 村民小组."""
    from sqlalchemy import select

    from app.accounts.models import Household
    from app.demo import seed_accounts

    seed_accounts()
    households = db.session.scalars(select(Household)).all()
    assert households and all(h.group_name for h in households)
    assert len({h.group_name for h in households}) > 1
