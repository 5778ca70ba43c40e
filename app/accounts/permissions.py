"""Who may see and do what with people and villages."""
from __future__ import annotations

from app.accounts.models import Person, Village
from app.permissions import permission


def _signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


@permission
def is_member_of(user, village: Village) -> bool:
    """Anyone registered in the village (any village role)."""
    return _signed_in(user) and user.village_id == village.id and bool(user.roles_in(village.id))


@permission
def is_overseer_of(user, village: Village) -> bool:
    return _signed_in(user) and (user.is_admin or village.township_id in user.overseen_township_ids)


@permission
def can_view_village(user, village: Village) -> bool:
    """The village's internal pages: its own people, its township's overseers, admins."""
    return is_member_of(user, village) or is_overseer_of(user, village)


@permission
def has_village_role(user, village: Village, role: str) -> bool:
    return _signed_in(user) and user.village_id == village.id and user.has_role(role, village_id=village.id)


@permission
def can_manage_people(user, village: Village) -> bool:
    """Committee members register villagers and import them from CSV; so does the clerk."""
    return has_village_role(user, village, "committee_member") or has_village_role(user, village, "clerk")


@permission
def can_edit_rule_profile(user, village: Village) -> bool:
    return has_village_role(user, village, "committee_member") or (_signed_in(user) and user.is_admin)


@permission
def can_approve_rule_profile(user, village: Village) -> bool:
    """The township approves the village's rule profile."""
    return is_overseer_of(user, village)


@permission
def can_view_rule_profile(user, village: Village) -> bool:
    return can_edit_rule_profile(user, village) or is_overseer_of(user, village)


@permission
def can_view_person(user, person: Person) -> bool:
    return person.village is not None and (can_manage_people(user, person.village) or is_overseer_of(user, person.village))
