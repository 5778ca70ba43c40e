"""The one loader for ids that a form or an address carries.

Every id a person can type or edit is resolved here by one helper, `in_scope`, scoped
to the village (or township, county or proposal) the action belongs to: an id that is
not a number in the database's range, that names nothing, or that belongs to another
village is the same "not found". A view never calls `db.session.get()` with an id from
a request.
"""
from __future__ import annotations

from flask import abort

from app.extensions import db
from app.inputs import parse_id


def village_id_of(obj) -> int | None:
    """The village an object belongs to (directly, or through its proposal or poll)."""
    if hasattr(obj, "village_id"):
        return obj.village_id
    for parent in ("proposal", "poll", "meeting"):
        owner = getattr(obj, parent, None)
        if owner is not None:
            return village_id_of(owner)
    return None


def _village_of(obj):
    if hasattr(obj, "township_id") or hasattr(obj, "county_id"):
        return None
    village = getattr(obj, "village", None)
    if village is None:
        for parent in ("proposal", "poll", "meeting"):
            owner = getattr(obj, parent, None)
            if owner is not None:
                return _village_of(owner)
    return village


def township_id_of(obj) -> int | None:
    """The township an object belongs to (a township's own rows, or through its village)."""
    if hasattr(obj, "township_id"):
        return obj.township_id
    return getattr(_village_of(obj), "township_id", None)


def county_id_of(obj) -> int | None:
    """The county an object belongs to (a township, or through its township)."""
    if hasattr(obj, "county_id"):
        return obj.county_id
    township = getattr(obj, "township", None) or getattr(_village_of(obj), "township", None)
    return getattr(township, "county_id", None)


# Which id of its owners an object is checked against, per scope.
SCOPES = {
    "village": village_id_of,
    "township": township_id_of,
    "county": county_id_of,
    "proposal": lambda obj: getattr(obj, "proposal_id", None),
}


def in_scope(model, raw_id, scope: str, scope_id: int | None):
    """The `model` row with this id if it belongs to that village, township, county or
    proposal (`scope` names which), else None: a malformed id, a missing row and another
    scope's row are the same "not found"."""
    owner_of = SCOPES[scope]
    ident = parse_id(raw_id)
    if ident is None or scope_id is None:
        return None
    obj = db.session.get(model, ident)
    if obj is None or owner_of(obj) != scope_id:
        return None
    return obj


def in_village(model, raw_id, village_id: int | None):
    """The `model` row with this id if it belongs to `village_id`, else None."""
    return in_scope(model, raw_id, "village", village_id)


def in_village_or_404(model, raw_id, village_id: int | None):
    obj = in_village(model, raw_id, village_id)
    if obj is None:
        abort(404)
    return obj


def in_proposal(model, raw_id, proposal_id: int):
    """The `model` row with this id if it belongs to this very proposal, else None."""
    return in_scope(model, raw_id, "proposal", proposal_id)
