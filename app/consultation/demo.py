"""Demo consultations: realistic threads for the three demo proposals (村道维修, 宅基地安排,
征地补偿款分配), with stakeholders, an opinion heard in person, a hidden post, a summary,
disagreement items resolved by amendments and one carried forward to the vote.

Everything goes through the services, so it obeys the same stage rules as the app: the
topic part is seeded while the proposal is in topic_consultation, the consensus part
while it is in consensus_consultation. People are named by phone number (the demo's
fixed accounts and generated ones), households by 户号; anything not found is skipped.

    seed_threads(proposal, ROAD_REPAIR)  # seeds whichever part matches proposal.stage
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from app.accounts.models import Household, Person
from app.clock import travel_to, utcnow
from app.consultation import api, services
from app.extensions import db

log = logging.getLogger("gongyi.demo")

# Demo accounts of app/demo.py (village 幸福村): committee, party member, representative,
# supervisor, clerk, and an elderly villager who does not use a phone.
WANG_JIANGUO, LI_XIUYING, ZHANG_DEFU, LIU_YUMEI = "13900000001", "13900000002", "13900000003", "13900000004"
CHEN_GUOHUA, YANG_LIJUAN, ZHAO_SHUZHEN = "13900000005", "13900000006", "13900000011"


def _p(n: int) -> str:
    """A generated demo villager of 幸福村 (13900000012 … 13900000048)."""
    return f"139000000{n:02d}"


ROAD_REPAIR = {
    "proposal": {
        "title": "用村集体收入维修村口至小学道路",
        "matter_category": "collective_income_use",
        "body": ("一、项目：维修村口至村小学道路，全长1.2公里。\n"
                 "二、标准：水泥混凝土路面，路面宽4米，厚18厘米。\n"
                 "三、资金：预算36万元，全部从村集体经营收入中列支，不向村民筹资。\n"
                 "四、施工：公开比选施工队，工期约两个月，计划明年春耕前完工。\n"
                 "五、监督：村务监督委员会全程监督，完工后公开决算。"),
    },
    "stakeholders": [
        ("1-004", "道路拓宽需占用门前菜地约20平方米"),
        ("1-005", "道路拓宽需占用承包地边角约30平方米"),
        ("1-006", "住在路边，施工期间车辆进出受影响"),
        ("1-007", "住在路边，施工期间车辆进出受影响"),
        ("1-008", "家中有孩子在村小学上学，每天走这条路"),
        ("1-003", "家中老人行动不便，常走这条路去卫生室"),
        ("1-012", "承包地在道路拐弯处，加宽或设会车点可能占用"),
    ],
    "topic": [
        {"by": _p(13), "stance": "support",
         "body": "这条路坑坑洼洼好多年了，下雨天电动车都骑不了，孩子上学一身泥。早该修了，我家支持。",
         "replies": [{"by": _p(20), "body": "同意，去年冬天还有人在那儿摔了一跤。"}]},
        {"by": _p(16), "stance": "concern",
         "body": "路要加宽的话，会占我家承包地的边角。占多少、怎么补，希望先量清楚再说，别修完了再扯皮。",
         "replies": [{"by": LI_XIUYING, "body": "会前我们会和您一起到现场量，占地面积和补偿办法写进方案里。"}]},
        {"by": _p(22), "stance": "suggestion",
         "body": "路两边要留排水沟。现在一下大雨水就往我家院子里灌，光修路面不修排水，修了也白修。"},
        {"by": _p(25), "stance": "question",
         "body": "36万元是怎么算出来的？集体账上现在有多少钱？修完了还剩多少，够不够明年修水渠？",
         "replies": [{"by": WANG_JIANGUO,
                      "body": "预算是请镇上规划站按每平方米75元估的。集体账上现有58万元，修路后剩22万元，明年水渠另行商议。"}]},
        {"by": _p(19), "stance": "oppose",
         "body": "我觉得先修东头的饮水管更要紧，夏天经常停水。路能走就行，钱应该先花在吃水上。"},
        {"by": ZHAO_SHUZHEN, "entered_by": YANG_LIJUAN, "stance": "support",
         "body": "我腿脚不好，去卫生室拿药全靠这条路。路修平了，我自己拄拐也能走过去。"},
        {"by": _p(27), "stance": "concern",
         "body": "施工队要选本村人多一些，工钱别都让外面的人挣了。另外施工期间孩子上学怎么走？"},
        {"by": _p(30), "stance": "oppose",
         "body": "村干部肯定又要从里面捞好处，谁信谁傻！",
         "hidden": (CHEN_GUOHUA, "没有事实依据的人身攻击。对资金使用有疑问，可以向村务监督委员会反映，我们会公开账目。")},
    ],
    "summary": {
        "by": WANG_JIANGUO,
        "heard": ("议题协商期间共收到意见9条（其中1条由文书上门听取，1条因人身攻击被隐藏）。"
                  "多数村民支持修路；受影响的7户中6户发表了意见，村南拐弯处的1户外出务工，尚未联系上。"
                  "主要关切：一是占地面积和补偿；二是排水沟；三是资金测算和集体账目；"
                  "四是施工期间学生安全；五是有村民认为应优先修饮水管。"),
        "answer": ("方案作如下回应：占地由村两委会同受影响户现场丈量，按镇统一标准补偿，写入方案；"
                   "路两侧增设排水沟，预算调整为39万元；公开预算测算依据和集体账目余额；"
                   "施工期间设安全员并错开上学放学时间；饮水管维修另行立项，列入明年计划。"),
    },
    "consensus": [
        {"by": _p(16), "stance": "concern",
         "body": "现在方案写路面宽4米，拖拉机和小汽车会车过不去。能不能在弯道加宽？",
         "disagreement": {"by": LI_XIUYING, "title": "路面宽度：4米能否会车",
                          "amendment": {"by": _p(16), "note": "路面宽4米不变，每隔200米设一处6米宽会车点",
                                        "replace": ("路面宽4米，", "路面宽4米，每隔200米设一处宽6米的会车点，"),
                                        "accept_by": WANG_JIANGUO,
                                        "resolution": "采纳：增设会车点，占地由受影响户同意，按镇标准补偿。"}}},
        {"by": _p(27), "stance": "concern",
         "body": "施工两个月，正好是上学期间。孩子们每天从工地边走，太危险了。",
         "disagreement": {"by": WANG_JIANGUO, "title": "施工期间学生上学安全",
                          "amendment": {"by": LIU_YUMEI, "note": "增加施工安全条款",
                                        "replace": ("工期约两个月，计划明年春耕前完工。",
                                                    "工期约两个月，计划明年春耕前完工。施工期间设专职安全员，"
                                                    "上学放学时段暂停重型车辆作业，并保留一侧通道供行人通行。"),
                                        "accept_by": LI_XIUYING}}},
        {"by": _p(19), "stance": "oppose",
         "body": "我还是认为应该先修饮水管，修路可以缓一年。",
         "replies": [{"by": WANG_JIANGUO, "body": "饮水管已经列入明年计划，镇水利站答应先派人来查漏。"}],
         "disagreement": {"by": WANG_JIANGUO, "title": "先修路还是先修饮水管",
                          "resolve": "经协商，饮水管维修另行立项，由镇水利站先行查漏，修路方案不变。提出意见的村民表示可以接受。"}},
        {"by": ZHANG_DEFU, "stance": "support", "body": "会车点和安全员都加上了，我看这个方案可以拿去表决了。"},
    ],
    "sense": {"agree": [_p(13), _p(20), _p(22), ZHANG_DEFU, LIU_YUMEI, _p(16)], "unsure": [_p(25), _p(27)],
              "concerned": [_p(19)]},
}

HOMESTEAD_PLAN = {
    "proposal": {
        "title": "2027年度宅基地安排方案",
        "matter_category": "homestead",
        "body": ("一、范围：在村南规划区安排宅基地12宗，每宗面积不超过150平方米。\n"
                 "二、条件：符合一户一宅、分户满两年且本人在村内无宅基地的家庭可以申请。\n"
                 "三、顺序：按申请登记先后顺序安排。\n"
                 "四、旧宅：申请人如有旧宅，须在新房竣工后6个月内腾退，交回村集体。\n"
                 "五、程序：经村民会议表决后报镇政府审批。"),
    },
    "stakeholders": [
        ("1-009", "已提出分户建房申请"),
        ("1-010", "已提出分户建房申请"),
        ("1-011", "村南规划区内有其承包地"),
        ("1-012", "村南规划区内有其承包地"),
        ("1-013", "有旧宅需要腾退"),
    ],
    "topic": [
        {"by": _p(31), "stance": "support",
         "body": "我儿子结婚三年了，一家五口挤在老房子里。有了这个方案总算有盼头了。"},
        {"by": _p(37), "stance": "concern",
         "body": "规划区里有我家两亩口粮田。占了地以后我家吃什么？是调地还是补钱，得先说清楚。",
         "replies": [{"by": LI_XIUYING, "body": "按政策占用承包地要调整或补偿，具体办法会写进方案，也会上门和您商量。"}]},
        {"by": _p(34), "stance": "question",
         "body": "分户满两年怎么算？是从户口本上分户那天算，还是从结婚那天算？"},
        {"by": _p(40), "stance": "oppose",
         "body": "按登记先后排队不公平，有人消息灵通早就去登记了，我们知道的时候已经排到后面了。"},
        {"by": _p(42), "stance": "suggestion",
         "body": "旧房子6个月腾退太紧了，新房刚盖好要晾一段时间才能住人，建议放宽到一年。"},
    ],
    "summary": {
        "by": LI_XIUYING,
        "heard": ("收到意见7条，受影响的5户中4户发表了意见（1户在外务工，已电话告知，尚未表态）。申请户普遍支持；规划区内承包户关心调地和补偿；"
                  "有村民认为按登记先后排序不公平；有村民建议放宽旧宅腾退期限；对“分户满两年”的计算有疑问。"),
        "answer": ("方案明确：占用承包地优先在组内调整，无法调整的按镇标准补偿；"
                   "“分户满两年”以户口簿登记分户日期为准；排序方式和腾退期限列为共识协商议题继续讨论。"),
    },
    "consensus": [
        {"by": _p(40), "stance": "oppose",
         "body": "申请顺序还是按登记先后，我不同意。建议公开抽签，请镇司法所来人监督。",
         "disagreement": {"by": WANG_JIANGUO, "title": "申请顺序：登记先后还是公开抽签",
                          "amendment": {"by": _p(40), "note": "按公开抽签确定顺序",
                                        "replace": ("三、顺序：按申请登记先后顺序安排。",
                                                    "三、顺序：符合条件的申请户在村民代表和镇司法所见证下公开抽签确定顺序，结果公示7天。"),
                                        "accept_by": WANG_JIANGUO}}},
        {"by": _p(42), "stance": "suggestion",
         "body": "再提一次：旧宅腾退期限改成一年吧，冬天盖好的房子开春才能搬。",
         "disagreement": {"by": LI_XIUYING, "title": "旧宅腾退期限",
                          "amendment": {"by": _p(42), "note": "腾退期限由6个月改为1年",
                                        "replace": ("新房竣工后6个月内腾退", "新房竣工后1年内腾退"),
                                        "accept_by": LI_XIUYING}}},
        {"by": LIU_YUMEI, "stance": "support", "body": "抽签加见证，大家都服气。我代表三组的意见，同意。"},
    ],
    "sense": {"agree": [_p(31), _p(40), _p(42), LIU_YUMEI, ZHANG_DEFU], "unsure": [_p(37)], "concerned": []},
}

LAND_COMPENSATION = {
    "proposal": {
        "title": "省道拓宽征地补偿款分配方案",
        "matter_category": "land_compensation",
        "body": ("一、总额：省道拓宽征收本村土地46亩，土地补偿费共计184万元。\n"
                 "二、集体提留：提留20%用于村集体公益事业。\n"
                 "三、分配：其余部分按分配基准日在册的集体经济组织成员人数平均分配。\n"
                 "四、基准日：以镇政府征地公告发布之日为分配基准日。\n"
                 "五、公开：分配名单公示7天，无异议后10日内发放到户。"),
    },
    "stakeholders": [
        ("1-014", "被征收承包地5.2亩"),
        ("1-015", "被征收承包地3.8亩"),
        ("1-004", "被征收承包地2.5亩"),
        ("1-008", "被征收承包地1.6亩"),
        (_p(43), "外嫁女，户口仍在本村，本人提出分配资格问题"),
    ],
    "topic": [
        {"by": _p(44), "stance": "oppose",
         "body": "我家被征了5亩多地，最多。结果和没被征地的人分一样多？这不合理，地没了我们以后靠什么？",
         "replies": [{"by": _p(23), "body": "土地是集体的，补偿款本来就该大家分，不过被征地的户确实应该多照顾。"}]},
        {"by": _p(43), "stance": "question",
         "body": "我嫁到邻村五年了，户口一直在本村，也没在那边分地。我和孩子能不能参加分配？"},
        {"by": _p(26), "stance": "concern",
         "body": "集体提留20%太多了，过去几年提留的钱用在哪儿了？先把账公开。",
         "replies": [{"by": CHEN_GUOHUA, "body": "监督委员会已要求村委把近三年集体收支在公示栏公开，下周一贴出。"}]},
        {"by": ZHANG_DEFU, "stance": "support", "body": "基准日按镇里公告日期，这个好，免得有人临时迁户口进来。"},
        {"by": _p(14), "stance": "suggestion",
         "body": "建议被征地户多分一部分，比如七成按被征面积、三成按人口，两头都照顾到。"},
    ],
    "summary": {
        "by": WANG_JIANGUO,
        "heard": ("收到意见8条，受影响的4户被征地户和1名外嫁女全部发表了意见。"
                  "主要分歧：按人口平分还是向被征地户倾斜；集体提留比例；外嫁女及其子女的分配资格。"),
        "answer": ("草案保留按人口分配的基本框架，承诺公开近三年集体收支；"
                   "分配方式、提留比例和外嫁女资格三个问题列为分歧点，在共识协商中逐一讨论。"),
    },
    "consensus": [
        {"by": _p(44), "stance": "oppose",
         "body": "还是要向被征地户倾斜。我同意前面说的七成按面积、三成按人口。",
         "disagreement": {"by": WANG_JIANGUO, "title": "按人口平分还是向被征地户倾斜",
                          "amendment": {"by": _p(14), "note": "70%按被征收面积分给被征地户，30%按人口平均分配",
                                        "replace": ("三、分配：其余部分按分配基准日在册的集体经济组织成员人数平均分配。",
                                                    "三、分配：其余部分的70%按被征收承包地面积分给被征地户，"
                                                    "30%按分配基准日在册的集体经济组织成员人数平均分配。"),
                                        "accept_by": WANG_JIANGUO}}},
        {"by": _p(26), "stance": "concern",
         "body": "账已经公开了，但提留20%还是多。提留10%就够修水渠了。",
         "disagreement": {"by": LI_XIUYING, "title": "集体提留比例",
                          "amendment": {"by": _p(26), "note": "集体提留由20%降为10%，专款用于水渠维修",
                                        "replace": ("二、集体提留：提留20%用于村集体公益事业。",
                                                    "二、集体提留：提留10%，专款用于村内水渠维修，使用情况每半年公开一次。"),
                                        "accept_by": LI_XIUYING}}},
        {"by": _p(43), "stance": "oppose",
         "body": "我户口在本村，没有在别处分地，按法律应该有份。不能因为我嫁出去了就不算我。",
         "replies": [{"by": _p(46), "body": "老规矩是嫁出去的姑娘不分，这个要大家表决。"}],
         "disagreement": {"by": WANG_JIANGUO, "title": "外嫁女及其子女是否参与分配",
                          "carry": ("村民意见分歧较大。依照法律，户口在本村且未在他处取得承包地的外嫁女享有同等成员权益；"
                                    "已请镇政府出具指导意见。此项作为保留意见，村民会议表决时单独说明，"
                                    "表决结果如与法律相抵触，由镇政府依法责令改正。")}},
    ],
    "sense": {"agree": [_p(44), _p(14), _p(26), ZHANG_DEFU], "unsure": [_p(23), _p(46)], "concerned": [_p(43)]},
}

SCRIPTS = {"road_repair": ROAD_REPAIR, "homestead": HOMESTEAD_PLAN, "land_compensation": LAND_COMPENSATION}


class _Clock:
    """Spreads the demo's posts over the day the demo clock is set to, in order."""

    def __init__(self, start: datetime | None, step: timedelta):
        self.at, self.step = start or utcnow(), step

    def tick(self):
        self.at += self.step
        return travel_to(self.at)


def _person(proposal, phone: str) -> Person | None:
    person = db.session.scalar(select(Person).where(Person.phone == phone, Person.village_id == proposal.village_id))
    if person is None:
        log.info("demo consultation: no person %s in %s, skipped", phone, proposal.village.name)
    return person


def _household(proposal, number: str) -> bool:
    return db.session.scalar(select(Household.id).where(Household.village_id == proposal.village_id,
                                                        Household.number == number)) is not None


def seed_stakeholders(proposal, script: dict, *, actor_phone: str = WANG_JIANGUO) -> int:
    """List the script's affected households (户号) or people (phone); returns how many were added."""
    actor = _person(proposal, actor_phone)
    added = 0
    for number, reason in script.get("stakeholders", []):
        if actor is None or not (_household(proposal, number) or _person(proposal, number)):
            continue
        try:
            services.add_stakeholder(proposal, actor, number=number, reason=reason)
            added += 1
        except services.ConsultationError:  # listed already (the demo ran before)
            pass
    return added


def _seed_posts(proposal, thread: str, entries: list[dict], clock: _Clock) -> list[tuple[dict, object]]:
    made = []
    for entry in entries:
        author = _person(proposal, entry["by"])
        if author is None:
            continue
        clerk = _person(proposal, entry["entered_by"]) if entry.get("entered_by") else None
        with clock.tick():
            if clerk is not None:
                post = services.add_post(proposal, clerk, thread=thread, stance=entry["stance"], body=entry["body"],
                                         on_behalf_of=author)
            else:
                post = services.add_post(proposal, author, thread=thread, stance=entry["stance"], body=entry["body"])
        for reply in entry.get("replies", []):
            replier = _person(proposal, reply["by"])
            if replier is not None:
                with clock.tick():
                    services.add_reply(post, replier, body=reply["body"])
        if entry.get("hidden"):
            moderator = _person(proposal, entry["hidden"][0])
            if moderator is not None:
                with clock.tick():
                    services.hide_post(post, moderator, reason=entry["hidden"][1])
        made.append((entry, post))
    return made


def seed_topic_consultation(proposal, script: dict, *, start: datetime | None = None,
                            step: timedelta = timedelta(minutes=23)) -> None:
    """While the proposal is in topic_consultation: stakeholders, the topic thread (with an
    opinion heard in person and a hidden post) and the consultation summary."""
    if api.post_count(proposal, "topic"):
        return  # seeded already
    clock = _Clock(start, step)
    with clock.tick():
        seed_stakeholders(proposal, script)
    _seed_posts(proposal, "topic", script.get("topic", []), clock)
    summary = script.get("summary")
    writer = _person(proposal, summary["by"]) if summary else None
    if writer is not None:
        with clock.tick():
            services.write_summary(proposal, writer, heard=summary["heard"], answer=summary["answer"])


def _amended_body(body: str, replace: tuple[str, str]) -> str:
    old, new = replace
    return body.replace(old, new, 1) if old in body else f"{body}\n{new}"


def seed_consensus_consultation(proposal, script: dict, *, start: datetime | None = None,
                                step: timedelta = timedelta(minutes=19)) -> None:
    """While the proposal is in consensus_consultation: the consensus thread, disagreement
    items, amendments accepted into new versions, a resolution, a carried item and the
    sense check. Every item ends resolved or carried, so the stage can be left."""
    if api.post_count(proposal, "consensus"):
        return
    clock = _Clock(start, step)
    for entry, post in _seed_posts(proposal, "consensus", script.get("consensus", []), clock):
        spec = entry.get("disagreement")
        committee = _person(proposal, spec["by"]) if spec else None
        if committee is None:
            continue
        with clock.tick():
            item = services.register_disagreement(post, committee, title=spec["title"])
        if "amendment" in spec:
            a = spec["amendment"]
            proposer = _person(proposal, a["by"]) or committee
            with clock.tick():
                amendment = services.propose_amendment(proposal, proposer, body=_amended_body(proposal.body, a["replace"]),
                                                       note=a["note"], disagreement=item)
            with clock.tick():
                services.accept_amendment(amendment, _person(proposal, a["accept_by"]) or committee,
                                          resolution=a.get("resolution"))
        elif "resolve" in spec:
            with clock.tick():
                services.resolve_disagreement(item, committee, resolution=spec["resolve"])
        elif "carry" in spec:
            with clock.tick():
                services.carry_disagreement(item, committee, reason=spec["carry"])
    for choice, phones in script.get("sense", {}).items():
        for phone in phones:
            person = _person(proposal, phone)
            if person is not None:
                with clock.tick():
                    services.set_sense_check(proposal, person, choice)


def seed_threads(proposal, script: dict, **kw) -> None:
    """Seed the part of the script that the proposal's current stage allows."""
    if proposal.stage == "topic_consultation":
        seed_topic_consultation(proposal, script, **kw)
    elif proposal.stage == "consensus_consultation":
        seed_consensus_consultation(proposal, script, **kw)
