"""The record as a printable PDF in Chinese (fpdf2 with a Noto CJK font)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from flask import current_app

from app.records.checkpoints import checkpoint_text

# Debian's fonts-noto-cjk (the Makefile's setup installs it when absent); index 2 of the
# collection is Simplified Chinese.
FONT_CANDIDATES = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
)

class FontMissing(RuntimeError):
    """No CJK font on this machine (install fonts-noto-cjk, or set PDF_FONT)."""


@lru_cache(maxsize=4)
def _font(configured: str | None) -> tuple[str, int]:
    candidates = ((configured, 0),) + FONT_CANDIDATES if configured else FONT_CANDIDATES
    for path, index in candidates:
        if path and Path(path).is_file():
            return path, (index if path.endswith((".ttc", ".otc")) else 0)
    raise FontMissing("no CJK font found; install fonts-noto-cjk or set PDF_FONT")


def record_pdf(record: dict, proposal) -> bytes:
    """The record in Chinese: what the paper forms carry (app/records/papers.py), then the
    versions, the stage history, the votes with their rule and arithmetic, the
    implementation, the filing and the audit chain. Every code is a word, every time is
    Beijing time to the minute."""
    from flask_babel import force_locale
    from fpdf import FPDF

    from app.records import papers
    from app.records.audit_trail import KIND_LABELS, OTHER_KIND
    from app.records.record import audit_events_of, filing_of, reports_of
    from app.voting.models import Poll
    from app.extensions import db
    from sqlalchemy import select

    path, index = _font(current_app.config.get("PDF_FONT"))
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    kwargs = {"collection_font_number": index} if path.endswith((".ttc", ".otc")) else {}
    pdf.add_font("cjk", "", path, **kwargs)
    pdf.set_title(f"档案 {proposal.id}")
    pdf.add_page()
    width = pdf.epw
    t = papers.t

    def h(text, size=14):
        pdf.set_font("cjk", size=size)
        pdf.ln(1)
        pdf.multi_cell(width, size * 0.6, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)

    def line(text, size=10.5):
        pdf.set_font("cjk", size=size)
        pdf.multi_cell(width, 6, text or "", new_x="LMARGIN", new_y="NEXT")

    with force_locale(papers.ZH):
        village = proposal.village
        h(f"村务决策档案：{proposal.title}", 16)
        line(f"{village.township.name} {village.name} · 编号 {proposal.id} · 档案格式 {record['format_version']}")
        line(f"当前阶段：{papers.stage_zh(proposal.stage)}")

        h("一、提议表", 13)
        for label, value in papers.proposal_form(proposal):
            line(f"{label}：{value}")

        h("二、文本版本", 13)
        for v in proposal.versions:
            line(f"第 {v.number} 版 · {t(v.created_at)} · {v.created_by.name if v.created_by else '—'} · {v.title}")
            line(v.body)
            if v.note:
                line(f"修改说明：{v.note}")

        h("三、阶段记录", 13)
        for c in proposal.history:
            who = c.actor.name if c.actor else "按表决结果"
            line(f"{t(c.at)} {papers.stage_zh(c.from_stage)} → {papers.stage_zh(c.to_stage)} · {who}"
                 + (f" · 理由：{c.reason}" if c.reason else ""))

        h("四、商议记录", 13)
        m = papers.minutes(proposal)
        for thread in m["threads"]:
            line(f"【{thread['title']}】意见 {thread['count']} 条" + (f"（{thread['stances']}）" if thread["stances"] else ""))
            if "coverage" in thread:
                line(f"利益相关方：{thread['coverage']}")
                for s in thread["stakeholders"]:
                    line(f"  {s['name']} · {s['reason']} · {s['heard']}")
                summary = thread["summary"]
                if summary:
                    line(f"协商情况总结 · 听取的意见：{summary['heard']}")
                    line(f"协商情况总结 · 草案如何回应：{summary['answer']}")
                    line("协商情况总结 · 未听取意见的利益相关方：" + ("、".join(summary["unheard"]) or "无"))
                    line(f"协商情况总结 · 撰写：{summary['written_by']} · {summary['written_at']}")
                else:
                    line("协商情况总结：尚未撰写")
            for post in thread["posts"]:
                mark = f" · {post['in_person']}" if post["in_person"] else ""
                line(f"{post['at']} · {post['author']} · {post['stance']}{mark}：{post['body']}")
                for r in post["replies"]:
                    line(f"  ↳ {r['at']} · {r['author']}{' · ' + r['stance'] if r['stance'] else ''}：{r['body']}")
        for d in m["disagreements"]:
            line(f"分歧点：{d['title']} · {d['status']}" + (f" · 处理结果：{d['outcome']}" if d["outcome"] else ""))

        h("五、表决", 13)
        polls = list(db.session.scalars(select(Poll).where(Poll.proposal_id == proposal.id).order_by(Poll.id)))
        if not polls:
            line("尚未表决")
        for poll in polls:
            line(f"{papers.stage_zh(poll.stage)} · 应到 {len(poll.roster)} 人 · {'无记名' if poll.secret else '记名'}投票 · "
                 f"{t(poll.opens_at)} 至 {t(poll.closed_at or poll.closes_at)}")
            line("规则：" + papers.rule_zh(poll.rule.to_dict()))
            line("结果：" + (poll.tally.words_zh if poll.tally else "尚未结束"))

        h("六、决议书", 13)
        r = papers.resolution(proposal)
        if r["decided"]:
            line(f"{r['date']}，经{r['body_name']}{r['secret']}表决，{r['result']}“{r['title']}”。")
            line(f"表决规则：{r['rule']}")
            line(f"表决结果：{r['arithmetic']}")
        else:
            line(f"{r['body_name']}尚未表决。")

        h("七、公示表", 13)
        for label, value in papers.notice(proposal):
            line(f"{label}：{value}")

        h("八、实施情况", 13)
        reports = reports_of(proposal)
        if not reports:
            line("尚无报告")
        for rep in reports:
            line(f"{t(rep.posted_at)} {papers.REPORT_ZH.get(rep.kind, '—')}：{rep.body}")
            if rep.opinion_at:
                line(f"监委会意见（{t(rep.opinion_at)}）：{rep.opinion}")

        h("九、乡镇备案", 13)
        f = filing_of(proposal)
        line(f"{t(f.filed_at)} {f.overseer.name}：{f.comment}" if f else "尚未备案")

        h("十、审计链", 13)
        pdf.set_font("cjk", size=8)
        pdf.multi_cell(width, 4.5, checkpoint_text(record.get("checkpoint")), new_x="LMARGIN", new_y="NEXT")
        for e in audit_events_of(proposal):
            kind = KIND_LABELS.get(e.kind, OTHER_KIND)  # in words (the forms are in Chinese), never the code
            pdf.multi_cell(width, 4.5, f"#{e.chain}:{e.seq} {t(e.at)} {kind} {e.hash}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
