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


# --- What happens to each proposal after its vote, in its own words ----------------------
# Each story's objections, reports and figures are its own: the road repair (budget 36
# then 39 万元) spends 37.8 万元, the street lights' objection is about a light, and no
# two proposals share a report.

ROAD_OBJECTION = records_demo.Objection(
    "村南拐弯处的会车点占了我家门前菜地，占多少、补多少，到现在还没人来跟我说。",
    answer=("经核实，村两委已于公示第二天会同您现场丈量，会车点占用菜地18平方米，按镇统一标准补偿，"
            "补偿款在开工前发放到户。丈量记录已请您签字确认，异议不成立。"))
ROAD_REPORTS = records_demo.Reports(
    progress="村口至小学道路路基平整和两侧排水沟开挖已完成，完成工程量约百分之四十，已支出 15.2 万元。",
    opinion="监委会已到现场查看，路基宽度、排水沟和已付工程款与报告相符。",
    final=("村口至小学道路1.2公里全部完工，6处会车点和两侧排水沟同步建成，经村民代表和监委会共同验收合格。"
           "实际支出 37.8 万元，在 39 万元预算之内，明细已在公开栏公布。"),
    scene="road")


class Story:
    """A plain demo proposal's own texts: its consultation summary, the objections to its
    resolution and its reports."""

    def __init__(self, heard: str, answer: str, *, objections: tuple = (), reports=None):
        self.heard, self.answer, self.objections, self.reports = heard, answer, objections, reports


STREET_LIGHTS = Story(
    heard="走访了广场周边住户和常去跳舞的村民，大家都赞成装路灯，有住户担心灯光照进卧室，也有人问阴雨天能不能亮。",
    answer="草案写明灯杆离住宅窗户不少于8米并加装遮光罩；选用带蓄电池、阴雨天可连续照明3晚的太阳能路灯。",
    objections=(
        records_demo.Objection(
            "广场东北角那盏灯正对我家卧室窗户，晚上照得睡不着，能不能往南挪一挪？",
            answer="经现场查看，该灯位向南移5米并加装遮光罩，已写入施工要求；决议本身无需改动，异议不成立。"),
        records_demo.Objection("请公布太阳能路灯的品牌、质保年限和每盏的价格，12盏4.8万元是怎么算的？"),
    ))
COLLECTION_POINTS = Story(
    heard="收到意见11条，利益相关户中住在选址旁边的2户担心气味和蚊蝇，多数村民支持按户筹资。",
    answer="收集点距住户不少于30米，加盖并每天清运；筹资标准每户50元不变，困难户由村集体代缴。",
    reports=records_demo.Reports(
        progress="村东收集点已建成并投入使用，村西收集点正在浇筑地面。已收到筹资款 1.55 万元，已支出 1.9 万元，收据已公布。",
        opinion="监委会核对了垃圾收集点按户筹资的名单和收据，金额相符；村西收集点的地面请在月底前浇筑好。",
        scene="collection_point"))
FISHPOND = Story(
    heard="鱼塘周边的利益相关户都同意公开招标，有人提出本村村民应优先，也有人担心底价定得太低。",
    answer="草案写明同等报价本村村民优先，底价每年2万元是按近三年周边鱼塘承包价定的，招标公告公开15天。",
    reports=records_demo.Reports(
        progress="鱼塘承包招标公告已在村务公开栏和镇公共资源交易平台公布15天，共有3户报名并交纳保证金，开标定于下周一。",
        opinion="监委会派员全程监督鱼塘承包招标的报名，报名材料齐全，程序合规。",
        final="经公开竞标，本村村民以每年 2.6 万元中标（底价每年 2 万元），五年承包合同已签订，首年承包费 2.6 万元已缴入村集体账户。",
        scene="pond"))
SCHOOL_WALL = Story(
    heard="家长们都支持尽快修围墙，学校提出施工要避开上课时间，紧挨围墙的1户担心占用他家的过道。",
    answer="施工安排在周末和寒假，围墙按原址修建，不占用邻户过道。")
FITNESS = Story(
    heard="老年人和带孩子的村民都赞成，有人建议器材放在广场西侧树荫下，远离停车的地方。",
    answer="草案写明器材放在广场西侧树荫下，地面铺设防滑垫。")
WATER_PIPES = Story(
    heard="村东头常停水的利益相关户都支持改造，也有村民认为按人口筹资对人口多的户负担重。",
    answer="筹资标准每人100元不变，五保户和低保户免缴，由村集体代缴。")
EAST_LIGHTS = Story(
    heard="主干道两侧住户都支持亮化，有人建议路灯间隔不要太大，村口急弯处要多装一盏。",
    answer="草案写明20盏路灯平均间距30米，村口急弯处加装一盏。")


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
    records_demo.seed_objections(p, person(SUPERVISOR), [(person("13900000040"), ROAD_OBJECTION)])
    yield 31  # the seven-day notice period ends at 24:00 of its last day
    run.move(p, "implementing")
    yield 36
    records_demo.seed_reports(p, run.chair, person(SUPERVISOR), ROAD_REPORTS, final=False)
    yield 48
    from app.records import services as records

    records.post_report(p, run.chair, ROAD_REPORTS.final, final=True)
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
    # It closes at 24:00 Beijing time (16:00 UTC), as a committee would set it.
    voting_demo.open_demo_poll(p, run.chair, online, hours=24 * (HISTORY_DAYS - 61 + 7) + 3)


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


def plain(run: Run, title: str, body: str, matter: str, start: float, stop_at: str, *, story: Story | None = None,
          body_kind: str = "villagers_assembly", villager_yes: int = 27) -> Step:
    """A proposal without a scripted thread, driven as far as `stop_at`, with its story's
    own summary, objections and reports."""
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
    assert story is not None, f"{title}: a proposal past its topic consultation needs its own story"
    run.summary(p, story.heard, story.answer)
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
    if story.objections:
        yield start + 21.5
        villagers = [person(phone) for phone in ("13900000041", "13900000042")]
        records_demo.seed_objections(p, person(SUPERVISOR), list(zip(villagers, story.objections)))
    if target == 5:
        return
    yield start + 28
    run.move(p, "implementing")
    if story.reports:
        yield start + 34
        records_demo.seed_reports(p, run.chair, person(SUPERVISOR), story.reports, final=target > 6)
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
        plain(first, "村文化广场安装路灯", "在文化广场四周安装太阳能路灯12盏，预算4.8万元，由村集体收入支付。",
              "collective_income_use", 40, "publicized", story=STREET_LIGHTS),
        plain(first, "新建垃圾集中收集点",
              "在村东、村西各建一处垃圾集中收集点，预算3.2万元：按户筹资每户50元，其余由镇环卫所补助。",
              "public_welfare", 8, "implementing", story=COLLECTION_POINTS),
        plain(first, "村集体鱼塘承包方案", "村集体鱼塘公开招标承包，期限五年，底价每年2万元，同等报价本村村民优先。",
              "collective_project", 4, "completed", story=FISHPOND),
        plain(first, "修缮村小学围墙", "修缮村小学东侧倒塌围墙约40米，预算2.4万元，由村集体收入支付。", "general", 52,
              "consensus_consultation", story=SCHOOL_WALL),
        plain(first, "购置村民健身器材", "在文化广场西侧增设健身器材一套，预算1.5万元，申请县体育局补助。", "general", 54,
              "member_review", story=FITNESS),
        plain(first, "自来水管网改造筹资方案", "改造老旧自来水管网，按人口筹资，每人100元。", "public_welfare", 60,
              "committee_deliberation", story=WATER_PIPES),
        plain(first, "修订村规民约", "修订村规民约第三章“环境卫生”，增加垃圾分类的内容。", "general", 63,
              "topic_consultation"),
        plain(second, "东风村主干道亮化", "在村主干道安装路灯20盏，预算6万元，由村集体收入支付。", "collective_income_use", 20,
              "publicized", story=EAST_LIGHTS, villager_yes=9),
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
