"""The home page's list of things a person can do. Each area registers a function
that returns the links it offers this person (already filtered by its permissions)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import url_for

from app.accounts.permissions import can_edit_rule_profile, can_manage_people
from app.extensions import db


@dataclass
class Link:
    label: str
    url: str


PROVIDERS: list[Callable] = []


def menu_provider(fn: Callable) -> Callable:
    PROVIDERS.append(fn)
    return fn


def home_links(user) -> list[Link]:
    links: list[Link] = []
    for provider in PROVIDERS:
        links.extend(provider(user))
    return links


@menu_provider
def _people_links(user):
    from flask_babel import gettext as _

    village = user.village
    links = []
    if village is not None and can_manage_people(user, village):
        links.append(Link(_("People of the village"), url_for("accounts.people", village_id=village.id)))
    if village is not None and can_edit_rule_profile(user, village):
        links.append(Link(_("Rules of the village"), url_for("accounts.rule_profile", village_id=village.id)))
    return links
