"""Pages of a long list, reached by plain links (?page=2) that work without JavaScript.

Lists read from the database use Flask-SQLAlchemy's `db.paginate`; a list already in
memory (sorted or computed in Python) uses `Page.of`, which has the same names, so one
template macro (templates/_macros/pager.html) draws both.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import request

from app.inputs import parse_id


def page_arg(name: str = "page") -> int:
    """The page asked for (?page=, or a form's hidden `page`; another name for a second
    list on the same page); 1 when absent or not a number."""
    return parse_id(request.args.get(name) or request.form.get(name)) or 1


@dataclass
class Page:
    """One page of rows already in memory; a page past the end is the last page."""
    items: list
    page: int
    pages: int
    total: int

    @classmethod
    def of(cls, rows: list, page: int, per_page: int) -> "Page":
        pages = max(1, -(-len(rows) // per_page))
        page = min(max(page, 1), pages)
        return cls(rows[(page - 1) * per_page:page * per_page], page, pages, len(rows))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1
