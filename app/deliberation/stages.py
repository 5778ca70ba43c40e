"""How each stage is named and explained to people: a word, an icon, a colour and one
plain sentence of what it means for a villager."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

STAGE_LABELS = {
    "draft": _l("Draft"),
    "topic_consultation": _l("Topic consultation"),
    "committee_deliberation": _l("Committees' deliberation"),
    "member_review": _l("Party members' review"),
    "consensus_consultation": _l("Consensus consultation"),
    "villager_resolution": _l("Villagers' resolution"),
    "publicized": _l("Resolution posted"),
    "implementing": _l("Being carried out"),
    "completed": _l("Result published"),
    "archived": _l("Filed and archived"),
    "rejected": _l("Not passed"),
    "withdrawn": _l("Withdrawn"),
}

# One plain sentence per stage: what it means for the villager reading it.
STAGE_EXPLANATIONS = {
    "draft": _l("The village committees are writing the proposal."),
    "topic_consultation": _l("Everyone can say what they think of this topic now, above all those it affects."),
    "committee_deliberation": _l("The two village committees discuss the draft and vote on it."),
    "member_review": _l("The village's Party members review the draft and vote on it."),
    "consensus_consultation": _l("Points of disagreement are talked through and the text is improved before the vote."),
    "villager_resolution": _l("Now the villagers decide by vote."),
    "publicized": _l("The decision is posted. If you think something is wrong, you can object now."),
    "implementing": _l("The decision is being carried out; progress is reported here."),
    "completed": _l("The result is public; the township checks and files the record."),
    "archived": _l("Finished. The township has filed the record."),
    "rejected": _l("This proposal did not pass."),
    "withdrawn": _l("The committee withdrew this proposal."),
}

# Icons are characters every phone has; the colour class comes from app.css.
STAGE_ICONS = {
    "draft": "✎", "topic_consultation": "💬", "committee_deliberation": "👥", "member_review": "★",
    "consensus_consultation": "🤝", "villager_resolution": "🗳", "publicized": "📢", "implementing": "🔨",
    "completed": "✔", "archived": "🗄", "rejected": "✖", "withdrawn": "↩",
}
