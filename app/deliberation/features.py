"""The stage decides the features: what may be done with a proposal in each stage.
Permission functions of every area consult this one table (as adhocracy4's phases do)."""
from __future__ import annotations

STAGE_FEATURES: dict[str, frozenset[str]] = {
    "draft": frozenset({"edit", "withdraw"}),
    "topic_consultation": frozenset({"comment_topic", "list_stakeholders", "write_summary", "withdraw"}),
    "committee_deliberation": frozenset({"vote", "withdraw"}),
    "member_review": frozenset({"vote", "withdraw"}),
    "consensus_consultation": frozenset({"comment_consensus", "list_stakeholders", "disagree", "amend",
                                         "sense_check", "withdraw"}),
    "villager_resolution": frozenset({"vote", "withdraw"}),
    "publicized": frozenset({"object"}),
    "implementing": frozenset({"report"}),
    "completed": frozenset({"file"}),
    "archived": frozenset(),
    "rejected": frozenset(),
    "withdrawn": frozenset(),
}


def stage_allows(proposal, feature: str) -> bool:
    return feature in STAGE_FEATURES.get(proposal.stage, frozenset())
