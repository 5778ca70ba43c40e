"""Demo data for the after-the-decision half of the process, called from
app/demo_process.py with proposals the engine has already moved to the right stage. Every
text is the proposal's own (its story's objections, reports and figures, within its
budget), given by the caller. Every function goes through the records services (so every
step is in the audit chain) and flushes, never commits."""
from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageDraw

from app.records import services


@dataclass(frozen=True)
class Objection:
    """异议 of the story: its text and, when answered, the supervision committee's answer."""

    body: str
    answer: str | None = None
    upheld: bool = False


@dataclass(frozen=True)
class Reports:
    """实施情况 of the story: a progress report (with a photo of the scene) and its
    opinion, and the final result report."""

    progress: str
    opinion: str
    final: str | None = None
    scene: str = "road"


def demo_photo(scene: str) -> bytes:
    """A drawn 800×600 photo of the work (a road, a collection point, a pond), made
    here so the demo ships no picture of real people or places."""
    im = Image.new("RGB", (800, 600), (170, 205, 235))  # sky
    d = ImageDraw.Draw(im)
    d.rectangle((0, 300, 800, 600), fill=(110, 160, 80))  # fields
    if scene == "road":
        d.polygon([(330, 300), (470, 300), (760, 600), (40, 600)], fill=(150, 150, 150))
        for y in range(320, 600, 60):
            d.rectangle((396, y, 404, y + 30), fill=(250, 250, 250))
    elif scene == "collection_point":
        d.rectangle((250, 260, 550, 460), fill=(200, 200, 190), outline=(90, 90, 90), width=4)
        d.polygon([(230, 260), (570, 260), (400, 190)], fill=(60, 120, 60))
        for x in (290, 370, 450):
            d.rectangle((x, 380, x + 60, 455), fill=(30, 110, 60))
    else:  # pond
        d.ellipse((120, 330, 680, 540), fill=(70, 120, 170))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=80)
    return out.getvalue()


def seed_objections(proposal, supervisor, filed: list[tuple[object, Objection]]):
    """On a `publicized` proposal: each villager's objection, answered when the story
    says so (else waiting for the supervision committee)."""
    out = []
    for villager, item in filed:
        objection = services.file_objection(proposal, villager, item.body)
        if item.answer:
            services.answer_objection(objection, supervisor, item.answer, upheld=item.upheld)
        out.append(objection)
    return out


def seed_reports(proposal, committee, supervisor, reports: Reports, *, final: bool = True):
    """On an `implementing` proposal: the progress report with its photo, the supervision
    committee's opinion, and (when `final` and the story has one) the final result report."""
    progress = services.post_report(proposal, committee, reports.progress, photos=[demo_photo(reports.scene)])
    services.give_opinion(progress, supervisor, reports.opinion)
    result = None
    if final and reports.final:
        result = services.post_report(proposal, committee, reports.final, final=True)
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
