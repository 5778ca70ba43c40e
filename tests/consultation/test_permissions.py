"""Who may do what, for every stage × role. The expected table names every stage, so a new
stage fails here until someone decides what consultation it allows."""
import pytest

from app.consultation import permissions as perm
from app.deliberation.models import ALL_STAGES
from tests.consultation.factories import make_post
from tests.factories import make_proposal, make_user, make_village

# What each stage opens, written out by hand (not read from STAGE_FEATURES).
EXPECTED = {
    "draft": set(),
    "topic_consultation": {"post_topic", "stakeholders", "summary"},
    "committee_deliberation": set(),
    "member_review": set(),
    "consensus_consultation": {"post_consensus", "stakeholders", "disagree", "amend", "sense"},
    "villager_resolution": set(),
    "publicized": set(),
    "implementing": set(),
    "completed": set(),
    "archived": set(),
    "rejected": set(),
    "withdrawn": set(),
}
VILLAGE_ROLES = ["villager", "representative", "party_member", "committee_member", "supervisor", "clerk"]
ROLES = VILLAGE_ROLES + ["overseer", "other_village_committee", "admin_elsewhere"]


def test_the_expected_table_names_every_stage():
    assert set(EXPECTED) == set(ALL_STAGES)


def _setup(stage, role):
    village = make_village()
    proposal = make_proposal(stage=stage, village=village)
    if role in VILLAGE_ROLES:
        user = make_user([role], village)
    elif role == "overseer":
        user = make_user(["overseer"], township=village.township)
    elif role == "other_village_committee":
        user = make_user(["villager", "committee_member"], make_village(village.township))
    else:
        user = make_user(["villager", "committee_member"])
    return proposal, user


@pytest.mark.parametrize("stage", ALL_STAGES)
@pytest.mark.parametrize("role", ROLES)
def test_posting_is_open_to_the_village_only_in_the_threads_own_stage(db, stage, role):
    proposal, user = _setup(stage, role)
    in_village = role in VILLAGE_ROLES
    for kind in ("topic", "consensus"):
        expected = in_village and f"post_{kind}" in EXPECTED[stage]
        assert perm.can_post(user, proposal, kind) is expected, (kind, stage, role)
        assert perm.can_post_for_others(user, proposal, kind) is (expected and role == "clerk")
        post = make_post(proposal, thread=kind)
        assert perm.can_reply(user, post) is expected


@pytest.mark.parametrize("stage", ALL_STAGES)
@pytest.mark.parametrize("role", ROLES)
def test_committee_actions_follow_the_stage(db, stage, role):
    proposal, user = _setup(stage, role)
    committee = role == "committee_member"
    features = EXPECTED[stage]
    assert perm.can_list_stakeholders(user, proposal) is (committee and "stakeholders" in features)
    assert perm.can_write_summary(user, proposal) is (committee and "summary" in features)
    post = make_post(proposal, thread="consensus")
    assert perm.can_register_disagreement(user, post) is (committee and "disagree" in features)
    assert perm.can_propose_amendment(user, proposal) is (role in VILLAGE_ROLES and "amend" in features)
    assert perm.can_sense_check(user, proposal) is (role in VILLAGE_ROLES and "sense" in features)


@pytest.mark.parametrize("stage", ALL_STAGES)
@pytest.mark.parametrize("role", ROLES)
def test_reading_follows_the_proposal_and_moderating_does_not_depend_on_the_stage(db, stage, role):
    proposal, user = _setup(stage, role)
    post = make_post(proposal)
    # A draft's threads are the committees' (and the township's), as the draft itself is.
    readers = ("committee_member", "overseer") if stage == "draft" else (*VILLAGE_ROLES, "overseer")
    assert perm.can_view_consultation(user, proposal) is (role in readers)
    assert perm.can_moderate(user, post) is (role in ("committee_member", "supervisor"))
    assert perm.can_see_unheard(user, proposal) is (role in ("committee_member", "clerk"))


def test_a_hidden_post_cannot_be_replied_to_or_hidden_again(db):
    proposal = make_proposal(stage="topic_consultation")
    villager = make_user(["villager"], proposal.village)
    post = make_post(proposal)
    from app.accounts.models import utcnow

    post.hidden_at = utcnow()
    assert not perm.can_reply(villager, post)
    assert not perm.can_moderate(make_user(["committee_member"], proposal.village), post)


def test_a_reply_cannot_be_replied_to(db):
    proposal = make_proposal(stage="topic_consultation")
    reply = make_post(proposal, parent=make_post(proposal))
    assert not perm.can_reply(make_user(["villager"], proposal.village), reply)


def test_only_author_moderators_and_township_see_why_a_post_was_hidden(db):
    proposal = make_proposal(stage="topic_consultation")
    village = proposal.village
    author = make_user(["villager"], village)
    post = make_post(proposal, author)
    assert perm.can_see_hidden(author, post)
    assert perm.can_see_hidden(make_user(["overseer"], township=village.township), post)
    assert perm.can_see_hidden(make_user(["supervisor"], village), post)
    assert not perm.can_see_hidden(make_user(["villager"], village), post)
    assert not perm.can_see_hidden(make_user(["overseer"]), post)
