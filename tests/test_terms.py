"""One term per concept in the Chinese pages: a villager who reads 协商小结 on one page and
协商情况总结 on the next cannot know they are the same paper."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import tools.i18n as i18n

ROOT = Path(__file__).resolve().parent.parent

# concept → (the one term, words that must not be used for it)
TERMS = {
    "consultation summary": ("协商情况总结", ["协商小结", "协商纪要", "情况小结", "议题小结"]),
    "affected households": ("利益相关户", ["受影响的农户", "受影响农户", "直接受影响的农户", "相关农户"]),
    "disagreement item": ("分歧点", ["分歧项", "争议点", "分歧事项"]),
    "roster": ("应到会名单", ["应到名单", "应到人员名单", "参会名单"]),
}


def _chinese_texts() -> list[tuple[str, str]]:
    """(where, text) for every zh_Hans translation and every Chinese literal in templates."""
    out = []
    for cat_dir in i18n.areas():
        for msg in i18n._read(i18n._po_path(cat_dir)):
            if msg.id:
                strings = msg.string if isinstance(msg.string, tuple) else (msg.string,)
                out += [(f"{cat_dir.relative_to(ROOT)}: {msg.id!r}", s) for s in strings]
    for path in (ROOT / "templates").rglob("*.html"):
        out.append((str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")))
    return out


@pytest.mark.parametrize("concept", sorted(TERMS))
def test_each_concept_has_one_chinese_term(concept):
    term, others = TERMS[concept]
    found = [(where, word) for where, text in _chinese_texts() for word in others if word in text]
    assert found == [], f"use {term} for the {concept}: {found}"


def test_a_summary_is_always_the_consultation_summary():
    """总结 alone is the same paper under a shorter name: always say 协商情况总结."""
    found = [where for where, text in _chinese_texts() if re.search(r"(?<!协商情况)总结", text)]
    assert found == []
