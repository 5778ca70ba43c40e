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

STAGE_ZH = {
    "draft": "提议/草拟", "topic_consultation": "议题协商", "committee_deliberation": "两委初议",
    "member_review": "党员审议", "consensus_consultation": "共识协商", "villager_resolution": "村民决议",
    "publicized": "决议公开", "implementing": "实施中", "completed": "实施结果公开", "archived": "已归档",
    "rejected": "未通过", "withdrawn": "已撤回", None: "—",
}
STATUS_ZH = {"pending": "待答复", "upheld": "成立", "not_upheld": "不成立", "progress": "进展报告",
             "final": "结果报告"}


class FontMissing(RuntimeError):
    """No CJK font on this machine (install fonts-noto-cjk, or set PDF_FONT)."""


@lru_cache(maxsize=4)
def _font(configured: str | None) -> tuple[str, int]:
    candidates = ((configured, 0),) + FONT_CANDIDATES if configured else FONT_CANDIDATES
    for path, index in candidates:
        if path and Path(path).is_file():
            return path, (index if path.endswith((".ttc", ".otc")) else 0)
    raise FontMissing("no CJK font found; install fonts-noto-cjk or set PDF_FONT")


def record_pdf(record: dict) -> bytes:
    from fpdf import FPDF

    path, index = _font(current_app.config.get("PDF_FONT"))
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    kwargs = {"collection_font_number": index} if path.endswith((".ttc", ".otc")) else {}
    pdf.add_font("cjk", "", path, **kwargs)
    pdf.set_title(f"档案 {record['proposal']['id']}")
    pdf.add_page()
    width = pdf.epw

    def h(text, size=14):
        pdf.set_font("cjk", size=size)
        pdf.multi_cell(width, size * 0.6, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)

    def line(text, size=10.5):
        pdf.set_font("cjk", size=size)
        pdf.multi_cell(width, 6, text or "", new_x="LMARGIN", new_y="NEXT")

    p = record["proposal"]
    h(f"村务决策档案：{p['title']}", 16)
    line(f"{p['township']} {p['village']} · 编号 {p['id']} · 事项类别 {p['matter_category'] or '—'}")
    line(f"当前阶段：{STAGE_ZH.get(p['stage'], p['stage'])}（{p['stage']}） · 档案格式 {record['format_version']}")
    pdf.ln(2)
    h("一、文本版本", 13)
    for v in record["versions"]:
        line(f"第 {v['number']} 版 · {v['created_at']} · {v['title']}")
        line(v["body"])
        if v.get("note"):
            line(f"修改说明：{v['note']}")
    h("二、阶段记录", 13)
    for s in record["stage_history"]:
        who = s["actor"]["name"] if s.get("actor") else "系统"
        line(f"{s['at']} {STAGE_ZH.get(s['from'], s['from'])} → {STAGE_ZH.get(s['to'], s['to'])} · {who}"
             + (f" · 理由：{s['reason']}" if s.get("reason") else ""))
    h("三、表决", 13)
    if not record["polls"]:
        line("无")
    for poll in record["polls"]:
        line(f"{STAGE_ZH.get(poll.get('stage'), poll.get('stage'))} · 应到 {poll.get('roster_size')} 人 · "
             f"{'无记名' if poll.get('secret') else '记名'} · {poll.get('opens_at')} 至 {poll.get('closes_at')}")
        t = poll.get("tally")
        if t:
            line(f"赞成 {t.get('yes')} · 反对 {t.get('no')} · 弃权 {t.get('abstain')} · 参加 {t.get('took_part')} · "
                 f"{'达到' if t.get('quorum_met') else '未达到'}法定人数 · {'通过' if t.get('passed') else '未通过'}")
    h("四、协商", 13)
    for thread in record["threads"]:
        line(f"{thread.get('kind')}：{len(thread.get('posts', []))} 条意见")
    for d in record["disagreements"]:
        line(f"分歧点 {d.get('id', '')}：{d.get('status')} {d.get('title', '') or d.get('body', '') or ''}")
    h("五、公示与异议", 13)
    if not record["objections"]:
        line("无异议")
    for o in record["objections"]:
        line(f"{o['filed_at']} 异议：{o['body']}（{STATUS_ZH[o['status']]}）")
        if o.get("answer"):
            line(f"监委会答复（{o['answered_at']}）：{o['answer']}")
    h("六、实施情况", 13)
    for r in record["reports"]:
        line(f"{r['posted_at']} {STATUS_ZH[r['kind']]}：{r['body']}")
        if r.get("opinion"):
            line(f"监委会意见：{r['opinion']['text']}")
    h("七、乡镇备案", 13)
    f = record.get("filing")
    line(f"{f['filed_at']} {f['overseer']['name']}：{f['comment']}" if f else "尚未备案")
    h("八、审计链", 13)
    pdf.set_font("cjk", size=8)
    pdf.multi_cell(width, 4.5, checkpoint_text(record.get("checkpoint")), new_x="LMARGIN", new_y="NEXT")
    for e in record["audit"]:
        pdf.multi_cell(width, 4.5, f"#{e['seq']} {e['at']} {e['kind']} {e['hash']}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
