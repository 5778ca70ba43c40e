"""Who may see and do what with objections, reports, filings, exports and the
township dashboard. Plain functions, registered for views (require) and templates."""
from __future__ import annotations

from datetime import datetime

from app import clock

from app.accounts.models import utcnow
from app.accounts.permissions import (can_read_township, can_view_village, has_village_role, is_member_of,
                                      is_overseer_of, reads_as_overseer)
from app.deliberation.features import stage_allows
from app.deliberation.permissions import can_view_proposal
from app.permissions import permission

# A proposal's record is open to the village's own people from the posting on.
PUBLIC_STAGES = ("publicized", "implementing", "completed", "archived")
# What the notice board (公示栏) shows without sign-in.
BOARD_STAGES = ("publicized", "implementing", "completed", "archived")


def notice_period_ends(proposal) -> datetime | None:
    """End of the notice period (公示期) now running, or None when not publicized."""
    if proposal.stage != "publicized" or proposal.stage_entered_at is None:
        return None
    profile = proposal.village.rule_profile
    return clock.profile_period_end(profile, proposal.stage_entered_at, profile.publicity_days)


def in_notice_period(proposal, now: datetime | None = None) -> bool:
    ends = notice_period_ends(proposal)
    return ends is not None and (now or utcnow()) < ends


@permission
def can_view_record(user, proposal) -> bool:
    """The whole record (JSON, PDF, forms): the township's overseer and the village's
    committee at every stage, the village's other people once the resolution is posted;
    the county overseer reads it as the township does."""
    village = proposal.village
    return (reads_as_overseer(user, village) or has_village_role(user, village, "committee_member")
            or (is_member_of(user, village) and proposal.stage in PUBLIC_STAGES and can_view_proposal(user, proposal)))


@permission
def can_list_records(user, village) -> bool:
    return can_view_village(user, village)


@permission
def can_object(user, proposal) -> bool:
    """Anyone registered in the village, while the notice period runs."""
    return (stage_allows(proposal, "object") and is_member_of(user, proposal.village)
            and in_notice_period(proposal))


@permission
def can_answer_objection(user, objection) -> bool:
    proposal = objection.proposal
    return (objection.answered_at is None and proposal.stage == "publicized"
            and has_village_role(user, proposal.village, "supervisor"))


@permission
def can_offer_send_back(user, proposal) -> bool:
    """Show the send-back button; the engine still decides (its guard and its rule on who)."""
    from app.records.api import upheld_objection_count

    village = proposal.village
    return (proposal.stage == "publicized"
            and (has_village_role(user, village, "committee_member") or has_village_role(user, village, "supervisor"))
            and upheld_objection_count(proposal) > 0)


@permission
def can_post_report(user, proposal) -> bool:
    return stage_allows(proposal, "report") and has_village_role(user, proposal.village, "committee_member")


@permission
def can_post_final_report(user, proposal) -> bool:
    from app.records.api import report_counts

    return can_post_report(user, proposal) and not report_counts(proposal)[1]


@permission
def can_give_opinion(user, report) -> bool:
    proposal = report.proposal
    return (report.opinion_at is None and proposal.stage in ("implementing", "completed")
            and has_village_role(user, proposal.village, "supervisor"))


@permission
def can_view_photo(user, photo) -> bool:
    return can_view_village(user, photo.report.proposal.village) and can_view_proposal(user, photo.report.proposal)


@permission
def can_file_record(user, proposal) -> bool:
    """Filing (备案) is the township's act: its own overseer, never the county overseer."""
    return stage_allows(proposal, "file") and is_overseer_of(user, proposal.village)


@permission
def can_oversee_township(user, township) -> bool:
    """Read the township's dashboard, flags and village pages (the county overseer too)."""
    return can_read_township(user, township)


@permission
def can_check_chain(user) -> bool:
    """The installation-wide chain check: any overseer (township or county) or admin."""
    return bool(getattr(user, "is_authenticated", False)) and (
        user.is_admin or bool(user.overseen_township_ids) or bool(user.overseen_county_ids))


@permission
def can_view_audit_trail(user, proposal) -> bool:
    """A proposal's audit trail: its township's and county's overseers (and admins) and the village's committee."""
    return reads_as_overseer(user, proposal.village) or has_village_role(user, proposal.village, "committee_member")
