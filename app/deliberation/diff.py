"""A readable difference between two versions of a text: line by line, and inside a
changed line character by character (Chinese has no spaces to split words on) — except
that a number or a Latin word is one unit, so "每户500元" → "每户300元" is the number 500
replaced by 300, never a struck 5 in front of a kept "00" that reads as 5300."""
from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

# A number with its decimal point, thousands separators and percent sign; a Latin word;
# else one character (a Chinese character or a mark).
TOKEN = re.compile(r"\d+(?:[.,，]\d+)*%?|[A-Za-z]+|.", re.S)


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


@dataclass
class Piece:
    kind: str  # "same", "ins", "del", or "repl" (text replaced by new)
    text: str
    new: str = ""


@dataclass
class Line:
    kind: str  # "same", "ins", "del", "changed"
    pieces: list[Piece]


def _merge_stray_matches(ops: list[list[str]]) -> list[list[str]]:
    """A single character that happens to match between two changes ("公" in 公益事业 →
    公开一次) is folded into one replacement, so a rewritten phrase reads old → new once."""
    changed = True
    while changed:
        changed = False
        for i in range(1, len(ops) - 1):
            kind, was, _now = ops[i]
            if kind == "same" and len(was) == 1 and ops[i - 1][0] != "same" and ops[i + 1][0] != "same":
                before, after = ops[i - 1], ops[i + 1]
                ops[i - 1:i + 2] = [["repl", before[1] + was + after[1], before[2] + was + after[2]]]
                changed = True
                break
    return ops


def _chars(old: str, new: str) -> list[Piece]:
    a, b = tokens(old), tokens(new)
    ops: list[list[str]] = []
    for op, a1, a2, b1, b2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        was, now = "".join(a[a1:a2]), "".join(b[b1:b2])
        ops.append(["same" if op == "equal" else "repl" if op == "replace" else "del" if op == "delete" else "ins",
                    was, now])
    pieces = []
    for kind, was, now in _merge_stray_matches(ops):
        if kind == "repl" and not was:
            kind = "ins"
        elif kind == "repl" and not now:
            kind = "del"
        pieces.append(Piece(kind, now if kind == "ins" else was, now if kind == "repl" else ""))
    return pieces


def diff_texts(old: str, new: str) -> list[Line]:
    a, b = old.splitlines(), new.splitlines()
    lines: list[Line] = []
    for op, a1, a2, b1, b2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            lines += [Line("same", [Piece("same", t)]) for t in a[a1:a2]]
        elif op == "delete":
            lines += [Line("del", [Piece("del", t)]) for t in a[a1:a2]]
        elif op == "insert":
            lines += [Line("ins", [Piece("ins", t)]) for t in b[b1:b2]]
        else:
            olds, news = a[a1:a2], b[b1:b2]
            for i in range(max(len(olds), len(news))):
                o = olds[i] if i < len(olds) else None
                n = news[i] if i < len(news) else None
                if o is None:
                    lines.append(Line("ins", [Piece("ins", n)]))
                elif n is None:
                    lines.append(Line("del", [Piece("del", o)]))
                else:
                    lines.append(Line("changed", _chars(o, n)))
    return lines


def has_changes(lines: list[Line]) -> bool:
    return any(line.kind != "same" for line in lines)
