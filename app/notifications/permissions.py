"""Who may see and change an inbox: only its owner (not a clerk, not an admin)."""
from __future__ import annotations

from app.permissions import permission


@permission
def can_open_notification(user, note) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and note.person_id == user.id
