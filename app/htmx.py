"""The only code that reads htmx headers."""
from __future__ import annotations

from flask import make_response, render_template
from htmx_flask import request


def is_partial_request() -> bool:
    """A non-boosted htmx request wants just the swapped region."""
    return bool(request.htmx) and not request.htmx.boosted


def render_page_or_partial(page: str, partial: str, status: int = 200, **context):
    """The partial for htmx, the whole page otherwise; caches must keep them apart."""
    template = partial if is_partial_request() else page
    response = make_response(render_template(template, **context), status)
    response.headers["Vary"] = ", ".join(filter(None, [response.headers.get("Vary"), "HX-Request"]))
    return response
