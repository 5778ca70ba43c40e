"""The paper forms (提议表, 商议记录, 公示表, 决议书) and the PDF in words, from the record.

Paper forms are filed and posted in Chinese, so everything here is worded in Chinese
(`zh()` renders the app's own labels under the Chinese locale): every code becomes its
label, every time is Beijing time to the minute (app/clock.py), every count is filled in.
The HTML forms and the PDF both print what these functions return, so they carry the
same words.
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale

from app import clock

ZH = "zh_Hans"

BODY_ZH = {"committees": "两委成员", "party_members": "党员", "adult_villagers": "年满十八周岁的村民",
           "households": "各户代表（每户一票）", "representatives": "村民代表"}
THREAD_ZH = {"topic": "议题协商", "consensus": "共识协商"}
DISAGREEMENT_ZH = {"open": "未解决", "resolved": "已解决", "carried": "保留（带入表决）"}
OBJECTION_ZH = {"pending": "待答复", "upheld": "成立", "not_upheld": "不成立"}
REPORT_ZH = {"progress": "实施进展", "final": "实施结果"}
CHANNEL_ZH = {"online": "手机", "hall": "会场", "assisted": "代录", "paper": "纸质票"}


def zh(label) -> str:
    """An app label (lazy string) in Chinese."""
    with force_locale(ZH):
        return str(label)


def t(moment: datetime | None) -> str:
    return clock.format_time(moment, ZH) if moment else "—"


def day(moment) -> str:
    return clock.format_day(moment, ZH) if moment else "—"


def stage_zh(code: str | None) -> str:
    from app.deliberation.stages import STAGE_LABELS

    return zh(STAGE_LABELS[code]) if code in STAGE_LABELS else "—"


def matter_zh(code: str | None) -> str:
    from app.deliberation.matters import matter_label

    return zh(matter_label(code))


def deciding_body_zh(code: str | None) -> str:
    from app.deliberation.matters import BODY_LABELS

    return zh(BODY_LABELS[code]) if code in BODY_LABELS else "—"


def stance_zh(code: str | None) -> str:
    from app.consultation.forms import STANCE_LABELS

    return zh(STANCE_LABELS[code]) if code in STANCE_LABELS else ""


def _share(share: dict, of: str) -> str:
    from app.voting.tally import _fraction_name

    name = _fraction_name(share["num"], share["den"], "zh")
    return f"达到{of}的{name}以上" if share["inclusive"] else f"超过{of}的{name}"


def rule_zh(rule: dict | None) -> str:
    """The rule a poll applied, as a sentence: who votes, the quorum, the pass threshold."""
    if not rule:
        return "—"
    base = "实到人数" if rule["pass_base"] == "took_part" else "应到人数"
    return (f"表决人员为{BODY_ZH.get(rule['body'], '—')}；参加人数须{_share(rule['quorum'], '应到人数')}，"
            f"同意票须{_share(rule['passing'], base)}，方为通过。")


# The forms -----------------------------------------------------------------------------

def proposal_form(proposal) -> list[tuple[str, str]]:
    """提议表: what was proposed, by whom, when, in which category, for which body."""
    first = proposal.versions[0] if proposal.versions else None
    current = proposal.current_version
    rows = [("议题名称", proposal.title), ("事项类别", matter_zh(proposal.matter_category)),
            ("决策主体", deciding_body_zh(proposal.deciding_body)),
            ("提议人", proposal.created_by.name if proposal.created_by else "—"),
            ("提议时间", t(proposal.created_at)), ("当前阶段", stage_zh(proposal.stage)),
            ("提议内容", first.body if first else "—")]
    if current is not None and first is not None and current.number != first.number:
        rows.append((f"现行文本（第 {current.number} 版，{t(current.created_at)}）", current.body))
    return rows


def minutes(proposal) -> dict:
    """商议记录: each consultation's summary by section, the stakeholders and how many were
    heard, every opinion with its stance word (those the clerk heard in person marked),
    and the points of disagreement with their outcome."""
    from app.consultation import api

    summary = api.summary_of(proposal)
    cov = api.coverage(proposal)
    threads = []
    for kind in ("topic", "consensus"):
        posts = [_post(p) for p in api.thread_posts(proposal, kind)]
        entry = {"title": THREAD_ZH[kind], "posts": posts, "count": len(posts),
                 "stances": "，".join(f"{stance_zh(s)} {n} 条" for s, n in api.stance_counts(proposal, kind).items()
                                     if n)}
        if kind == "topic":
            entry["summary"] = ({"heard": summary.heard, "answer": summary.answer,
                                 "written_by": summary.written_by.name, "written_at": t(summary.written_at),
                                 "unheard": api.unheard_in_topic(proposal)} if summary else None)
            entry["stakeholders"] = [{"name": api.stakeholder_name(s), "reason": s.reason,
                                      "heard": "已听取" if s.id in cov.heard_ids else "未听取"}
                                     for s in api.stakeholders_of(proposal)]
            entry["coverage"] = coverage_zh(cov)
        threads.append(entry)
    disagreements = [{"title": d.title, "status": DISAGREEMENT_ZH.get(d.status, "—"), "outcome": d.outcome or "",
                      "at": t(d.created_at)} for d in api.disagreements_of(proposal)]
    return {"threads": threads, "disagreements": disagreements}


def coverage_zh(cov) -> str:
    parts = []
    if cov.households_total:
        parts.append(f"利益相关户 {cov.households_total} 户，已听取 {cov.households_heard} 户")
    if cov.people_total:
        parts.append(f"利益相关人 {cov.people_total} 人，已听取 {cov.people_heard} 人")
    return "；".join(parts) or "未列利益相关方"


def _post(p) -> dict:
    hidden = p.hidden_at is not None
    return {"at": t(p.created_at), "author": p.author.name, "stance": stance_zh(p.stance),
            "in_person": f"书记员{p.entered_by.name}现场听取并录入" if p.entered_by_id else "",
            "body": f"（已隐藏：{p.hidden_reason}）" if hidden else p.body,
            "replies": [_post(r) for r in p.replies]}


def notice(proposal) -> list[tuple[str, str]]:
    """公示表: the posted text, the exact notice period, the result, every objection."""
    from app.records.record import objections_of, reports_of

    profile = proposal.village.rule_profile
    posted = [h for h in proposal.history if h.to_stage == "publicized"]
    v = proposal.frozen_version or proposal.current_version
    rows = [("公示事项", proposal.title), ("公示内容", v.body if v else "—")]
    poll = resolution_poll(proposal)
    if poll is not None and poll.tally is not None:
        rows.append(("表决结果", poll.tally.words_zh))
    if posted:
        start = posted[-1].at
        end = clock.profile_period_end(profile, start, profile.publicity_days)
        rows.append(("公示时间", f"{t(start)} 起 {profile.publicity_days} 日，公示期至{clock.period_end_text(end, ZH)}"))
    else:
        rows.append(("公示时间", f"尚未公示（公示期 {profile.publicity_days} 日）"))
    objections = objections_of(proposal)
    lines = [f"共 {len(objections)} 件"]
    for o in objections:
        line = f"{t(o.filed_at)} {o.author.name}：{o.body}（{OBJECTION_ZH.get(o.status, '—')}）"
        if o.answer:
            line += f"；监委会答复（{t(o.answered_at)}）：{o.answer}"
        lines.append(line)
    rows.append(("异议", "\n".join(lines)))
    for r in reports_of(proposal):
        rows.append((f"{REPORT_ZH.get(r.kind, '—')}（{t(r.posted_at)}）", r.body))
    return rows


def resolution_poll(proposal):
    from sqlalchemy import select

    from app.extensions import db
    from app.voting.models import Poll

    return db.session.scalar(select(Poll).where(Poll.proposal_id == proposal.id, Poll.stage == "villager_resolution",
                                                Poll.status == "closed").order_by(Poll.id.desc()))


def resolution(proposal) -> dict:
    """决议书: the body, the date, the rule, the arithmetic and the result."""
    poll = resolution_poll(proposal)
    v = proposal.frozen_version or proposal.current_version
    out = {"body_name": deciding_body_zh(proposal.deciding_body), "title": v.title if v else proposal.title,
           "text": v.body if v else "", "version": v.number if v else None, "decided": poll is not None}
    if poll is not None:
        tally = poll.tally
        out.update({"date": day(poll.closed_at), "window": f"{t(poll.opens_at)} 至 {t(poll.closed_at)}",
                    "rule": rule_zh(poll.rule.to_dict()), "arithmetic": tally.words_zh if tally else "—",
                    "result": ("通过" if tally and tally.passed else "未通过"),
                    "secret": "无记名投票" if poll.secret else "记名投票"})
    return out
