"""Who may do what in the consultations. Each function asks the stage first (through
STAGE_FEATURES: the stage decides the features), then the person's village role."""
from __future__ import annotations

from app.accounts.permissions import has_village_role, is_member_of, reads_as_overseer
from app.deliberation.features import stage_allows
from app.deliberation.permissions import can_view_proposal
from app.permissions import permission

from app.consultation.models import THREADS


def _committee(user, proposal) -> bool:
    return has_village_role(user, proposal.village, "committee_member")


@permission
def can_view_consultation(user, proposal) -> bool:
    """Exactly who may read the proposal (a draft is the committees' working paper)."""
    return can_view_proposal(user, proposal)


@permission
def thread_is_open(proposal, kind: str) -> bool:
    """A thread takes new posts only in its own stage."""
    return kind in THREADS and stage_allows(proposal, f"comment_{kind}")


@permission
def can_post(user, proposal, kind: str) -> bool:
    """Anyone of the proposal's village (any village role) posts while the thread is open."""
    return thread_is_open(proposal, kind) and is_member_of(user, proposal.village)


@permission
def can_reply(user, post) -> bool:
    """One level of replies, never to a hidden post."""
    return post.parent_id is None and not post.is_hidden and can_post(user, post.proposal, post.thread)


@permission
def can_post_for_others(user, proposal, kind: str) -> bool:
    """A clerk writes down the opinion of a villager heard in person."""
    return can_post(user, proposal, kind) and has_village_role(user, proposal.village, "clerk")


@permission
def can_moderate(user, post) -> bool:
    """Committee and supervision-committee members hide posts (with a reason), in any stage."""
    village = post.proposal.village
    return not post.is_hidden and (has_village_role(user, village, "committee_member")
                                   or has_village_role(user, village, "supervisor"))


@permission
def can_see_hidden(user, post) -> bool:
    """The author (and the clerk who entered it), the township and the moderators see a
    hidden post and why it was hidden; everyone else sees only that a post was hidden."""
    village = post.proposal.village
    return (getattr(user, "is_authenticated", False)
            and (user.id in (post.author_id, post.entered_by_id)
                 or reads_as_overseer(user, village)
                 or has_village_role(user, village, "committee_member")
                 or has_village_role(user, village, "supervisor")))


@permission
def can_list_stakeholders(user, proposal) -> bool:
    return stage_allows(proposal, "list_stakeholders") and _committee(user, proposal)


@permission
def can_see_unheard(user, proposal) -> bool:
    """Who has not been heard yet, with phone numbers: the committee and the clerk, to visit them."""
    return _committee(user, proposal) or has_village_role(user, proposal.village, "clerk")


@permission
def can_write_summary(user, proposal) -> bool:
    return stage_allows(proposal, "write_summary") and _committee(user, proposal)


@permission
def can_register_disagreement(user, post) -> bool:
    return (stage_allows(post.proposal, "disagree") and _committee(user, post.proposal)
            and not post.is_hidden and post.disagreement is None)


@permission
def can_close_disagreement(user, item) -> bool:
    return item.status == "open" and stage_allows(item.proposal, "disagree") and _committee(user, item.proposal)


@permission
def can_propose_amendment(user, proposal) -> bool:
    """Anyone of the village may propose a change of the text during the consensus consultation."""
    return stage_allows(proposal, "amend") and is_member_of(user, proposal.village)


@permission
def can_decide_amendment(user, amendment) -> bool:
    return (amendment.status == "proposed" and stage_allows(amendment.proposal, "amend")
            and _committee(user, amendment.proposal))


@permission
def can_sense_check(user, proposal) -> bool:
    return stage_allows(proposal, "sense_check") and is_member_of(user, proposal.village)
