"""Matter categories (事项类别): which body may decide and what threshold applies.

Article 24 of the Organic Law of Villagers' Committees lists the matters that only the
villagers' assembly may decide — or a representatives' assembly it has authorised for
that matter. Land contracting, 宅基地 use and the distribution of land compensation need
at least two thirds of all members (not of those taking part).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

VILLAGERS_ASSEMBLY = "villagers_assembly"          # 村民会议
REPRESENTATIVES_ASSEMBLY = "representatives_assembly"  # 村民代表会议
BODIES = (VILLAGERS_ASSEMBLY, REPRESENTATIVES_ASSEMBLY)
BODY_LABELS = {VILLAGERS_ASSEMBLY: _l("Villagers' assembly"), REPRESENTATIVES_ASSEMBLY: _l("Villager representatives' assembly")}


@dataclass(frozen=True)
class Matter:
    code: str
    label: object
    art24: bool                 # needs the villagers' assembly or an authorised representatives' assembly
    two_thirds_of_all: bool     # passes only with yes ≥ 2/3 of the whole roster
    township_approval: bool     # must be approved by the township afterwards


MATTERS: dict[str, Matter] = {m.code: m for m in (
    Matter("general", _l("Other village affairs"), False, False, False),
    Matter("lost_work_subsidy", _l("People paid for lost work time and their rates (误工补贴)"), True, False, False),
    Matter("collective_income_use", _l("Use of the village's collective income"), True, False, False),
    Matter("public_welfare", _l("Public-welfare projects, their funding and labour (筹资筹劳)"), True, False, False),
    Matter("land_contracting", _l("Land contracting plan"), True, True, True),
    Matter("collective_project", _l("Collective economic projects and their contracting"), True, False, False),
    Matter("homestead", _l("Homestead (宅基地) use plan"), True, True, True),
    Matter("land_compensation", _l("Use and distribution of land compensation"), True, True, False),
    Matter("collective_property", _l("Lending, leasing or other disposal of collective property"), True, False, False),
)}


def matter(code: str | None) -> Matter | None:
    return MATTERS.get(code or "")


def matter_label(code: str | None) -> str:
    m = matter(code)
    return str(m.label) if m else str(_l("Not chosen yet"))
