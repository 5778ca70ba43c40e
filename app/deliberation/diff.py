"""A readable difference between two versions of a text: line by line, and inside a
changed line character by character (Chinese has no spaces to split words on)."""
from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher


@dataclass
class Piece:
    kind: str  # "same", "ins", "del"
    text: str


@dataclass
class Line:
    kind: str  # "same", "ins", "del", "changed"
    pieces: list[Piece]


def _chars(old: str, new: str) -> list[Piece]:
    pieces: list[Piece] = []
    for op, a1, a2, b1, b2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(Piece("same", old[a1:a2]))
        if op in ("delete", "replace"):
            pieces.append(Piece("del", old[a1:a2]))
        if op in ("insert", "replace"):
            pieces.append(Piece("ins", new[b1:b2]))
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
