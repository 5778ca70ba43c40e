"""Who may see and do what with proposals and suggestions."""
from __future__ import annotations

from app.accounts.models import Village
from app.accounts.permissions import has_village_role, is_member_of, reads_as_overseer
from app.deliberation.features import stage_allows
from app.deliberation.models import Proposal, Suggestion
from app.permissions import permission


def _committee(user, village: Village) -> bool:
    return has_village_role(user, village, "committee_member")


@permission
def can_view_proposals(user, village: Village) -> bool:
    return is_member_of(user, village) or reads_as_overseer(user, village)


@permission
def can_view_drafts(user, village: Village) -> bool:
    """Drafts are the committees' working papers; overseers (township and county) see everything they oversee."""
    return reads_as_overseer(user, village) or _committee(user, village)


@permission
def can_view_proposal(user, proposal: Proposal) -> bool:
    """From the topic consultation on, the whole village sees the proposal; drafts only
    those who may see drafts."""
    village = proposal.village
    if can_view_drafts(user, village):
        return True
    return is_member_of(user, village) and proposal.stage != "draft"


@permission
def can_create_proposal(user, village: Village) -> bool:
    return _committee(user, village)


@permission
def can_edit_proposal(user, proposal: Proposal) -> bool:
    return _committee(user, proposal.village) and stage_allows(proposal, "edit")


@permission
def can_move_proposal(user, proposal: Proposal) -> bool:
    """May see the step buttons (each step still checks its own rule in the engine)."""
    from app.deliberation.engine import available_moves

    return bool(available_moves(user, proposal))


@permission
def can_manage_proposal(user, proposal: Proposal) -> bool:
    """Deadlines, announcements, closing the topic consultation early."""
    return _committee(user, proposal.village) and not proposal.is_terminal


@permission
def can_record_authorisation(user, village: Village) -> bool:
    return _committee(user, village)


@permission
def can_view_suggestions(user, village: Village) -> bool:
    return is_member_of(user, village) or reads_as_overseer(user, village)


SUGGESTING_ROLES = ("villager", "representative", "supervisor")


@permission
def can_suggest(user, village: Village) -> bool:
    """Villagers, representatives and the supervision committee may suggest topics."""
    return any(has_village_role(user, village, r) for r in SUGGESTING_ROLES)


@permission
def can_cosign(user, suggestion: Suggestion) -> bool:
    return (suggestion.status == "open" and can_suggest(user, suggestion.village)
            and all(s.person_id != user.id for s in suggestion.signatures))


@permission
def can_answer_suggestion(user, suggestion: Suggestion) -> bool:
    return suggestion.status == "open" and _committee(user, suggestion.village)
