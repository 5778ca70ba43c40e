"""Demo data for the after-the-decision half of the process, called from app/demo.py
with proposals the engine has already moved to the right stage. Every function goes
through the records services (so every step is in the audit chain) and flushes, never
commits."""
from __future__ import annotations

import base64

from app.records import services

# A 1×1 PNG, so the demo's report shows how a photo looks without shipping a picture.
DEMO_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def seed_objections(proposal, villager, supervisor, *, second_villager=None):
    """On a `publicized` proposal: one objection answered (not upheld) and, when a
    second villager is given, one still waiting for the supervision committee's answer."""
    answered = services.file_objection(proposal, villager, "广场北侧原是晒谷场，秋收时大家去哪里晒粮？")
    services.answer_objection(answered, supervisor,
                              "经核实，村委会已在村东空地另设晒谷场，面积不少于原场地，异议不成立。", upheld=False)
    pending = None
    if second_villager is not None:
        pending = services.file_objection(proposal, second_villager, "施工期间请保证老人小孩出行安全。")
    return answered, pending


def seed_reports(proposal, committee, supervisor, *, final: bool = True):
    """On an `implementing` proposal: a progress report with a photo, the supervision
    committee's opinion, and (by default) the final result report."""
    progress = services.post_report(proposal, committee, "路基平整已完成，完成工程量约百分之四十。", photos=[DEMO_PNG])
    services.give_opinion(progress, supervisor, "监委会已到现场查看，进度与报告相符。")
    result = None
    if final:
        result = services.post_report(proposal, committee,
                                      "工程全部完工，经村民代表和监委会共同验收合格。实际支出 18.6 万元，明细已另行公开。",
                                      final=True)
    return progress, result


def file_demo_record(proposal, overseer):
    """On a `completed` proposal: the township files (备案) it, which archives it."""
    return services.file_record(proposal, overseer, "程序完整，资料齐全，同意备案。")


def seed_irregular_proposal(village, committee):
    """An art. 24 matter put before the representatives' assembly without the villagers'
    assembly's authorisation: the township dashboard flags it."""
    from app.deliberation.services import create_proposal

    return create_proposal(village, committee, title="集体收入分红方案（由代表会议决定）",
                           body="将今年集体经营收入的百分之三十按户分红，由村民代表会议决定。",
                           matter_category="collective_income_use", deciding_body="representatives_assembly")
