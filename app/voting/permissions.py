"""Who may see and do what with polls."""
from __future__ import annotations

from app.accounts.permissions import can_view_village, has_village_role
from app.deliberation.features import stage_allows
from app.deliberation.permissions import can_view_proposal
from app.permissions import permission
from app.voting.models import VOTING_STAGES


def _signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


@permission
def can_view_poll(user, poll) -> bool:
    """Whoever may read the proposal sees its polls (a poll's page shows its text)."""
    return _signed_in(user) and can_view_village(user, poll.village) and can_view_proposal(user, poll.proposal)


@permission
def is_on_roster(user, poll) -> bool:
    return _signed_in(user) and poll.roster_entry_for(user) is not None


@permission
def can_vote(user, poll) -> bool:
    """On the frozen roster, the poll open and inside its window."""
    return (is_on_roster(user, poll) and user.village_id == poll.village_id
            and poll.accepting_ballots())


@permission
def can_open_poll(user, proposal) -> bool:
    """Committee members open the poll of a deliberation stage."""
    return (has_village_role(user, proposal.village, "committee_member")
            and proposal.stage in VOTING_STAGES and stage_allows(proposal, "vote"))


@permission
def can_close_poll(user, poll) -> bool:
    """A committee member closes a poll early only when every unit has voted; otherwise
    it closes by itself at its closing time."""
    from app.voting.services import roster_size
    from app.voting.models import Participation
    from app.extensions import db
    from sqlalchemy import func, select

    if poll.is_closed or not has_village_role(user, poll.village, "committee_member"):
        return False
    if poll.is_due():
        return True
    voted = db.session.scalar(select(func.count()).select_from(Participation)
                              .where(Participation.poll_id == poll.id))
    return voted >= roster_size(poll.id)


@permission
def can_run_meeting(user, poll) -> bool:
    """The clerk (or a committee member) signs people in and enters in-hall ballots."""
    return (not poll.is_closed and (has_village_role(user, poll.village, "clerk")
                                    or has_village_role(user, poll.village, "committee_member")))


@permission
def can_enter_hall_count(user, poll) -> bool:
    """The clerk or a committee member enters the scrutineers' totals once, for a secret
    poll whose meeting handed out paper ballots, before it closes."""
    return (poll.secret and poll.meeting is not None and poll.hall_count is None
            and can_run_meeting(user, poll))


@permission
def can_see_choices(user, poll) -> bool:
    """Names with choices: only for an open (non-secret) poll, and only after it closed."""
    return can_view_poll(user, poll) and not poll.secret and poll.is_closed
