"""Who may see and do what with people and villages."""
from __future__ import annotations

from app.accounts.models import County, Person, Township, Village
from app.permissions import permission


def _signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


@permission
def is_member_of(user, village: Village) -> bool:
    """Anyone registered in the village (any village role)."""
    return _signed_in(user) and user.village_id == village.id and bool(user.roles_in(village.id))


@permission
def is_overseer_of(user, village: Village) -> bool:
    """The village's township overseer (or an admin): reads everything of the village and
    acts as the township (files records, approves rule profiles). A county overseer is
    not one: see `reads_as_overseer`."""
    return _signed_in(user) and (user.is_admin or village.township_id in user.overseen_township_ids)


def county_oversees_township(user, township: Township | None) -> bool:
    """The township lies in a county this person oversees (read-only)."""
    return (_signed_in(user) and township is not None and township.county_id is not None
            and township.county_id in user.overseen_county_ids)


@permission
def reads_as_overseer(user, village: Village) -> bool:
    """Everything an overseer may read of the village: its township's overseers, the
    county overseer of its county (who never acts), admins. Never a right to change anything."""
    if is_overseer_of(user, village):
        return True
    # Only a county overseer needs the village's township: nobody else loads it (the vote
    # cast checks this permission on what it has already read, without a statement).
    return bool(_signed_in(user) and user.overseen_county_ids) and county_oversees_township(user, village.township)


@permission
def can_read_township(user, township: Township) -> bool:
    """The township's dashboard and its villages' pages: its overseers, its county's overseer, admins."""
    return _signed_in(user) and (user.is_admin or township.id in user.overseen_township_ids
                                 or county_oversees_township(user, township))


@permission
def can_read_county(user, county: County) -> bool:
    return _signed_in(user) and (user.is_admin or county.id in user.overseen_county_ids)


@permission
def can_view_village(user, village: Village) -> bool:
    """The village's internal pages: its own people, its township's and county's overseers, admins."""
    return is_member_of(user, village) or reads_as_overseer(user, village)


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
    return can_edit_rule_profile(user, village) or reads_as_overseer(user, village)


@permission
def can_view_person(user, person: Person) -> bool:
    return person.village is not None and (can_manage_people(user, person.village)
                                           or reads_as_overseer(user, person.village))
