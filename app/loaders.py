"""The one loader for ids that a form or an address carries.

Every id a person can type or edit is resolved here, scoped to the village (or
township) the action belongs to: an id that is not a number in the database's range,
that names nothing, or that belongs to another village is the same "not found". A view
never calls `db.session.get()` with an id from a request.
"""
from __future__ import annotations

from flask import abort

from app.extensions import db
from app.inputs import parse_id


def village_id_of(obj) -> int | None:
    """The village an object belongs to (directly, or through its proposal or poll)."""
    for attr in ("village_id",):
        if hasattr(obj, attr):
            return getattr(obj, attr)
    for parent in ("proposal", "poll", "meeting"):
        owner = getattr(obj, parent, None)
        if owner is not None:
            return village_id_of(owner)
    return None


def township_id_of(obj) -> int | None:
    if hasattr(obj, "township_id"):
        return obj.township_id
    village = getattr(obj, "village", None)
    return getattr(village, "township_id", None)


def in_village(model, raw_id, village_id: int | None):
    """The `model` row with this id if it belongs to `village_id`, else None."""
    ident = parse_id(raw_id)
    if ident is None or village_id is None:
        return None
    obj = db.session.get(model, ident)
    if obj is None or village_id_of(obj) != village_id:
        return None
    return obj


def in_village_or_404(model, raw_id, village_id: int | None):
    obj = in_village(model, raw_id, village_id)
    if obj is None:
        abort(404)
    return obj


def in_township(model, raw_id, township_id: int | None):
    ident = parse_id(raw_id)
    if ident is None or township_id is None:
        return None
    obj = db.session.get(model, ident)
    if obj is None or township_id_of(obj) != township_id:
        return None
    return obj


def in_proposal(model, raw_id, proposal_id: int):
    """The `model` row with this id if it belongs to this very proposal, else None."""
    ident = parse_id(raw_id)
    if ident is None:
        return None
    obj = db.session.get(model, ident)
    if obj is None or getattr(obj, "proposal_id", None) != proposal_id:
        return None
    return obj
