"""The demo's proposals, replayed through the real engine and services day by day.

Each proposal's history is a generator that yields the day (counted from the start of
the demo's history) of its next step; `replay()` runs all of them in date order with the
app clock set to that day, so every record — versions, stage history, polls, posts,
audit events — carries the date on which it would have happened, in order.
Nothing here writes a stage column: only the engine does.
"""
from __future__ import annotations

import heapq
from datetime import datetime, time, timedelta
from typing import Callable, Iterator

from sqlalchemy import select

from app import clock
from app.accounts.models import Person, Village
from app.accounts.services import find_person_by_phone
from app.clock import travel_to, utcnow
from app.consultation import demo as consultation_demo
from app.consultation import services as consultation
from app.deliberation import engine, services
from app.deliberation.models import Proposal
from app.extensions import db
from app.records import demo as records_demo
from app.voting import demo as voting_demo
from app.voting.demo import everyone

HISTORY_DAYS = 66  # the demo's history starts this many days before today

CHAIR, COMMITTEE2, PARTY, REP, SUPERVISOR, CLERK, VILLAGER = (
    "13900000001", "13900000002", "13900000003", "13900000004", "13900000005", "13900000006", "13900000011")
OVERSEER = "13900000100"


def person(phone: str) -> Person:
    found = find_person_by_phone(phone)
    assert found is not None, phone
    return found


class Run:
    """Helpers shared by the proposals' histories."""

    def __init__(self, village: Village, chair: str, clerk: str | None = None):
        self.village = village
        self.chair = person(chair)
        self.clerk = person(clerk) if clerk else self.chair

    def create(self, title: str, body: str, matter: str, body_kind: str = "villagers_assembly") -> Proposal:
        return services.create_proposal(self.village, self.chair, title=title, body=body, matter_category=matter,
                                        deciding_body=body_kind)

    def move(self, proposal: Proposal, to: str, reason: str | None = None, actor: Person | None = None):
        engine.transition(proposal, to, actor or self.chair, reason)

    def summary(self, proposal: Proposal, heard: str, answer: str) -> None:
        consultation.write_summary(proposal, self.chair, heard=heard, answer=answer)

    def committee_vote(self, proposal: Proposal, *, skip: int = 0, no: int = 0):
        votes = everyone(proposal, "committee_deliberation", skip=skip)
        for phone in list(votes)[len(votes) - no:] if no else []:
            votes[phone] = "no"
        return voting_demo.run_poll(proposal, self.chair, votes)

    def party_vote(self, proposal: Proposal, *, close: bool = True):
        votes = everyone(proposal, "member_review", skip=1)
        run = voting_demo.run_poll if close else voting_demo.open_demo_poll
        return run(proposal, self.chair, votes, **({} if close else {"hours": 24 * 10}))

    def villager_votes(self, proposal: Proposal, yes: int, no: int, abstain: int = 0, *,
                       in_hall: int = 0, leave_out: tuple[str, ...] = ()) -> tuple[dict, dict]:
        """Choices for the first people of the roster: some by phone, the last `in_hall`
        of them through the clerk at the meeting."""
        phones = [p for p in everyone(proposal, "villager_resolution") if p not in leave_out]
        choices = ["yes"] * yes + ["no"] * no + ["abstain"] * abstain
        votes = dict(zip(phones, choices))
        hall = dict(list(votes.items())[len(votes) - in_hall:]) if in_hall else {}
        online = {k: v for k, v in votes.items() if k not in hall}
        return online, hall


Step = Iterator[float]


def _to_villager_vote(run: Run, p: Proposal, script: dict, start: float, *, committee_no: int = 0) -> Step:
    """From the topic consultation to the villagers' vote, with the script's threads:
    consultation closed early, both deliberation votes passed, the vote announced."""
    run.move(p, "topic_consultation")
    consultation_demo.seed_threads(p, script)
    yield start + 5
    services.close_topic_consultation(p, run.chair)
    run.move(p, "committee_deliberation")
    services.send_party_plan(p, run.chair)
    yield start + 6
    run.committee_vote(p, no=committee_no)  # passes → member_review
    yield start + 9.5
    run.party_vote(p)  # passes → consensus_consultation
    yield start + 10
    consultation_demo.seed_threads(p, script)
    yield start + 11
    services.announce_assembly(p, run.chair)
    yield start + 12
    run.move(p, "villager_resolution")


def road_repair(run: Run) -> Step:
    """村道维修: the whole process, from a draft to the township's filing (archived)."""
    script = consultation_demo.ROAD_REPAIR
    spec = script["proposal"]
    yield 0
    p = run.create(spec["title"], spec["body"], spec["matter_category"])
    yield 1
    services.edit_draft(p, run.chair, title=p.title, body=p.body + "\n（附：施工路段示意图见村务公开栏）",
                        note="补充施工路段示意图的位置", matter_category=p.matter_category,
                        deciding_body=p.deciding_body)
    yield from _to_villager_vote(run, p, script, 1)
    yield 23.5  # ten full Beijing days after the day of the announcement
    online, hall = run.villager_votes(p, yes=26, no=4, abstain=2, in_hall=6)
    voting_demo.run_poll(p, run.chair, online, in_hall=hall, clerk=run.clerk)  # passes → publicized
    yield 24.5
    records_demo.seed_objections(p, person("13900000040"), person(SUPERVISOR))
    yield 31  # the seven-day notice period ends at 24:00 of its last day
    run.move(p, "implementing")
    yield 36
    records_demo.seed_reports(p, run.chair, person(SUPERVISOR), final=False)
    yield 48
    from app.records import services as records

    records.post_report(p, run.chair, "工程全部完工，经村民代表和监委会共同验收合格。实际支出 18.6 万元，明细已在公开栏公布。",
                        final=True)
    run.move(p, "completed")
    yield 52
    records_demo.file_demo_record(p, person(OVERSEER))


def homestead(run: Run) -> Step:
    """宅基地安排: waits in villager_resolution with the villagers' secret vote open."""
    script = consultation_demo.HOMESTEAD_PLAN
    spec = script["proposal"]
    yield 38
    p = run.create(spec["title"], spec["body"], spec["matter_category"])
    yield from _to_villager_vote(run, p, script, 38)
    yield 61.5
    # The secret vote opens and stays open for a week; the demo villager (and most others)
    # have not voted yet, so a visitor can vote and the clerk can still record in-hall ballots.
    online, _hall = run.villager_votes(p, yes=9, no=3, abstain=1, leave_out=(VILLAGER, CLERK))
    voting_demo.open_demo_poll(p, run.chair, online, hours=24 * (HISTORY_DAYS - 61 + 7))


def land_compensation(run: Run) -> Step:
    """征地补偿款分配: carried disagreement, then the villagers reject it (two thirds of all needed)."""
    script = consultation_demo.LAND_COMPENSATION
    spec = script["proposal"]
    yield 18
    p = run.create(spec["title"], spec["body"], spec["matter_category"])
    yield from _to_villager_vote(run, p, script, 18, committee_no=2)
    yield 40.5
    online, hall = run.villager_votes(p, yes=21, no=12, abstain=3, in_hall=5)
    voting_demo.run_poll(p, run.chair, online, in_hall=hall, clerk=run.clerk)  # 21 < 2/3 of all → rejected


def plain(run: Run, title: str, body: str, matter: str, start: float, stop_at: str, *,
          heard: str = "走访了相关农户，多数赞成，有人提出施工时间的问题。",
          answer: str = "草案已写明施工避开农忙时节。", objections: bool = False, reports: bool = False,
          body_kind: str = "villagers_assembly", villager_yes: int = 27) -> Step:
    """A proposal without a scripted thread, driven as far as `stop_at`."""
    order = ["topic_consultation", "committee_deliberation", "member_review", "consensus_consultation",
             "villager_resolution", "publicized", "implementing", "completed"]
    target = order.index(stop_at) if stop_at in order else -1
    yield start
    p = run.create(title, body, matter, body_kind)
    if target < 0:
        return
    run.move(p, "topic_consultation")
    if target == 0:
        return
    yield start + 4
    run.summary(p, heard, answer)
    services.close_topic_consultation(p, run.chair)
    run.move(p, "committee_deliberation")
    services.send_party_plan(p, run.chair)
    if target == 1:
        yield start + 5
        voting_demo.open_demo_poll(p, run.chair, dict(list(everyone(p, "committee_deliberation").items())[:3]),
                                   hours=24 * 10)
        return
    yield start + 5
    run.committee_vote(p)
    yield start + 8.5
    run.party_vote(p, close=target > 2)
    if target == 2:
        return
    yield start + 9
    services.announce_assembly(p, run.chair)
    if target == 3:
        return
    yield start + 10
    run.move(p, "villager_resolution")
    yield start + 20.5  # ten full Beijing days after the day of the announcement
    online, hall = run.villager_votes(p, yes=villager_yes, no=3, abstain=1, in_hall=4)
    voting_demo.run_poll(p, run.chair, online, in_hall=hall, clerk=run.clerk)
    if objections:
        yield start + 21.5
        records_demo.seed_objections(p, person("13900000041"), person(SUPERVISOR),
                                     second_villager=person("13900000042"))
    if target == 5:
        return
    yield start + 28
    run.move(p, "implementing")
    if reports:
        yield start + 34
        records_demo.seed_reports(p, run.chair, person(SUPERVISOR), final=target > 6)
    if target == 6:
        return
    yield start + 41
    run.move(p, "completed")


def no_quorum(run: Run) -> Step:
    """河道清淤: too few committee members vote, so the proposal goes back to draft."""
    yield 33
    p = run.create("村内河道清淤", "对村西河道1.5公里进行清淤，费用由镇水利站补助。", "general")
    run.move(p, "topic_consultation")
    yield 37
    run.summary(p, "沿河农户都支持清淤。", "草案写明清淤淤泥运往指定地点。")
    services.close_topic_consultation(p, run.chair)
    run.move(p, "committee_deliberation")
    yield 38
    run.committee_vote(p, skip=4)  # 3 of 7 take part: no quorum → back to draft


def withdrawn(run: Run) -> Step:
    """村口停车场: withdrawn by the committee during the topic consultation."""
    yield 14
    p = run.create("村口建设停车场", "在村口空地建设停车场，约30个车位。", "public_welfare")
    run.move(p, "topic_consultation")
    yield 17
    run.move(p, "withdrawn", reason="县里规划在此处建公交站，停车场方案暂缓，待规划明确后再议。")


def draft_with_versions(run: Run) -> Step:
    """老年活动室: still a draft, already edited once (two versions to compare)."""
    yield 62
    p = run.create("村老年活动室改造", "将村委会一楼两间空房改造为老年活动室。", "general")
    yield 63
    services.edit_draft(p, run.chair, title=p.title,
                        body="将村委会一楼两间空房改造为老年活动室，加装扶手和防滑地面，冬季供暖。",
                        note="按老年人建议加上扶手、防滑和供暖", matter_category="general",
                        deciding_body="villagers_assembly")


def irregular(run: Run) -> Step:
    yield 64
    records_demo.seed_irregular_proposal(run.village, run.chair)


def histories(first: Run, second: Run) -> list[Step]:
    return [
        road_repair(first), homestead(first), land_compensation(first), no_quorum(first), withdrawn(first),
        draft_with_versions(first), irregular(first),
        plain(first, "村文化广场安装路灯", "在文化广场四周安装太阳能路灯12盏，由村集体收入支付。",
              "collective_income_use", 40, "publicized", objections=True),
        plain(first, "新建垃圾集中收集点", "在村东、村西各建一处垃圾集中收集点，按户筹资每户50元。",
              "public_welfare", 8, "implementing", reports=True),
        plain(first, "村集体鱼塘承包方案", "村集体鱼塘公开招标承包，期限五年，底价每年2万元。",
              "collective_project", 4, "completed", reports=True),
        plain(first, "修缮村小学围墙", "修缮村小学东侧倒塌围墙约40米。", "general", 52, "consensus_consultation"),
        plain(first, "购置村民健身器材", "在文化广场增设健身器材一套。", "general", 54, "member_review"),
        plain(first, "自来水管网改造筹资方案", "改造老旧自来水管网，按人口筹资，每人100元。", "public_welfare", 60,
              "committee_deliberation"),
        plain(first, "修订村规民约", "修订村规民约第三章“环境卫生”，增加垃圾分类的内容。", "general", 63,
              "topic_consultation"),
        plain(second, "东风村主干道亮化", "在村主干道安装路灯20盏。", "collective_income_use", 20, "publicized",
              villager_yes=9),
        plain(second, "东风村集体林地管护方案", "集体林地聘请护林员两名。", "general", 61, "topic_consultation"),
    ]


def replay(steps: list[Step], start: datetime) -> int:
    """Run every history in date order with the clock set to each step's day."""
    queue: list[tuple[float, int, Step]] = []
    for i, gen in enumerate(steps):
        day = next(gen, None)
        if day is not None:
            heapq.heappush(queue, (day, i, gen))
    done = 0
    while queue:
        day, i, gen = heapq.heappop(queue)
        with travel_to(start + timedelta(days=day)):
            nxt = next(gen, None)
        done += 1
        if nxt is not None:
            assert nxt >= day, "a history must move forward in time"
            heapq.heappush(queue, (nxt, i, gen))
    return done


def seed_proposals(villages: list[Village]) -> int:
    """Load the demo proposals once (nothing is added if the first village has any)."""
    if db.session.scalar(select(Proposal.id).where(Proposal.village_id == villages[0].id).limit(1)):
        return 0
    today = clock.today()
    start = datetime.combine(today - timedelta(days=HISTORY_DAYS), time(1, 0))  # 09:00 in China
    first = Run(villages[0], CHAIR, CLERK)
    second = Run(villages[1], "13900000052")
    return replay(histories(first, second), start)
