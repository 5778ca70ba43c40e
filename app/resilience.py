"""When the database is briefly unavailable: one retry for work that may be repeated
(GET/HEAD), then our own 503 page in the person's language that says truthfully that
the action was not saved; and a last-resort page so no request ever meets a bare
"Internal Server Error" from the server underneath."""
from __future__ import annotations

import logging
import time
from functools import wraps

from flask import Flask, current_app, request
from flask_babel import gettext as _
from sqlalchemy import exc as sa_exc

log = logging.getLogger("gongyi.resilience")

# What a database that is restarting, refusing connections or locked looks like.
DB_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, sa_exc.DisconnectionError)
IDEMPOTENT = {"GET", "HEAD"}
RETRY_PAUSE_SECONDS = 0.3

# Endpoints whose POST is a choice (a ballot): their page says "your choice".
CHOICE_ENDPOINTS = {"voting.cast", "voting.confirm_choice", "voting.meeting_ballot"}
# Form fields sent again from the 503 page but never shown as typed text.
UNTYPED_FIELDS = {"csrf_token", "request_key", "choice"}


def _forget_session():
    from app.extensions import db

    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 — the connection is already gone; nothing to undo
        log.debug("rollback after a lost connection failed", exc_info=True)


def retry_once(view):
    """Run an idempotent request again once if the database did not answer."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if request.method not in IDEMPOTENT:
            return view(*args, **kwargs)
        try:
            return view(*args, **kwargs)
        except DB_UNAVAILABLE:
            log.warning("database unavailable on %s; trying once more", request.path)
            _forget_session()
            time.sleep(RETRY_PAUSE_SECONDS)
            return view(*args, **kwargs)

    wrapper.__gongyi_retry__ = True
    return wrapper


def wrap_views(app: Flask) -> None:
    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static" and not getattr(view, "__gongyi_retry__", False):
            app.view_functions[endpoint] = retry_once(view)


def _typed_fields():
    fields = []
    if request.method == "POST":
        for name, value in request.form.items(multi=True):
            if name == "csrf_token" or "password" in name or name == "code":
                continue
            typed = name not in UNTYPED_FIELDS and (len(value) >= 20 or "\n" in value)
            fields.append({"name": name, "value": value, "shown": typed})
    return fields


def render_unavailable():
    """Our 503 page, rendered without touching the database (no signed-in person, no
    menu): the template engine directly, not render_template's context processors."""
    _forget_session()
    from flask import g

    if "_login_user" not in g:
        # Loading the signed-in person needs the database: the page speaks the cookie's language.
        g._login_user = current_app.login_manager.anonymous_user()
    saving = request.method not in IDEMPOTENT
    resend_label = _("Send again")
    if not saving:
        message = _("The system is busy. Please try again in a moment.")
    elif request.endpoint == "voting.cast":
        # The form is sent again with its request key: a vote that did reach the database
        # after all is recognised and not counted twice.
        message = _("The system is busy: your vote was not saved. Press “Vote again”; if it reached us "
                    "after all, it still counts only once.")
        resend_label = _("Vote again")
    elif request.endpoint in CHOICE_ENDPOINTS:
        message = _("The system is busy. Please try again in a moment; your choice was not saved.")
    else:
        message = _("The system is busy. Please try again in a moment; what you just did was not saved.")
    fields = _typed_fields()
    from app.i18n import html_lang
    from app.main.static_files import static_url
    from flask_babel import get_locale

    template = current_app.jinja_env.get_template("errors/unavailable.html")
    html = template.render(message=message, fields=fields, shown_count=sum(f["shown"] for f in fields),
                           resend_label=resend_label,
                           action=request.path, saving=saving, static_url=static_url,
                           html_lang=html_lang(str(get_locale())), request=request)
    return html, 503, {"Retry-After": "5", "Cache-Control": "no-store"}


LAST_RESORT = """<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>共议 · 系统出错</title></head>
<body><h1>系统出错</h1><p>系统暂时出错，请稍后再试。刚才的操作可能没有保存，请回到上一页检查。</p>
<p lang="en">Something went wrong on our side. What you just did may not have been saved; please go back and check.</p>
<p><a href="/">返回首页 · Home</a></p></body></html>""".encode()


class LastResort:
    """WSGI middleware: an exception that escaped Flask (an error page that failed
    itself) becomes our own page, in Chinese and English, never the server's bare text."""

    def __init__(self, wsgi_app, app: Flask):
        self.wsgi_app = wsgi_app
        self.app = app

    def __call__(self, environ, start_response):
        try:
            return self.wsgi_app(environ, start_response)
        except Exception:  # noqa: BLE001 — the point is to catch everything
            if self.app.testing and not self.app.config.get("LAST_RESORT_IN_TESTS"):
                raise
            log.exception("unhandled error outside the app's error pages")
            start_response("500 Internal Server Error", [("Content-Type", "text/html; charset=utf-8"),
                                                         ("Content-Length", str(len(LAST_RESORT))),
                                                         ("Cache-Control", "no-store")])
            return [LAST_RESORT]
