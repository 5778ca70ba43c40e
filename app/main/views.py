"""Home page, health check, language and text-size switches, error pages."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, flash, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import text

from app.errors import Refused
from app.extensions import db
from app.i18n import LANG_COOKIE, html_lang
from app.main.menu import home_links
from app.main.static_files import cache_headers, static_url
from app.permissions import template_permissions

bp = Blueprint("main", __name__)

TEXT_COOKIE = "large_text"


def safe_next(target: str | None, fallback: str) -> str:
    """Only same-site relative paths, never another host."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return fallback


def _same_site_referrer() -> str | None:
    ref = request.referrer or ""
    root = request.host_url
    return "/" + ref[len(root):] if ref.startswith(root) else None


def large_text_on() -> bool:
    if getattr(current_user, "is_authenticated", False):
        return bool(current_user.large_text)
    return request.cookies.get(TEXT_COOKIE) == "1"


bp.after_app_request(cache_headers)


@bp.get("/")
def home():
    return render_template("main/home.html")


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # the database does not answer
        return jsonify({"status": "error"}), 503
    return jsonify({"status": "ok"})


@bp.post("/language")
def set_language():
    lang = request.form.get("lang", "")
    back = safe_next(request.form.get("next"), url_for("main.home"))
    if lang not in current_app.config["LANGUAGES"]:
        return redirect(back)
    if current_user.is_authenticated:
        from app.accounts.services import set_preferences

        set_preferences(current_user, language=lang)
        db.session.commit()
    response = redirect(back)
    response.set_cookie(LANG_COOKIE, lang, max_age=int(timedelta(days=365).total_seconds()),
                        httponly=True, samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


@bp.post("/text-size")
def set_text_size():
    """长辈模式: large text, remembered for the person (or this phone, before sign-in)."""
    on = request.form.get("large") == "1"
    back = safe_next(request.form.get("next"), url_for("main.home"))
    if current_user.is_authenticated:
        from app.accounts.services import set_preferences

        set_preferences(current_user, large_text=on)
        db.session.commit()
    response = redirect(back)
    response.set_cookie(TEXT_COOKIE, "1" if on else "0", max_age=int(timedelta(days=365).total_seconds()),
                        httponly=True, samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def init_template_globals(app):
    @app.context_processor
    def _globals():
        locale = get_locale()
        return {
            **template_permissions(),
            "html_lang": html_lang(str(locale)),
            "current_locale": str(locale),
            "large_text": large_text_on(),
            "static_url": static_url,
            "home_links": home_links,
            "page_url": page_url,
        }


def page_url(page: int, param: str = "page") -> str:
    """This page's address at another page of its list (`param` names the list when a page
    has two), its other arguments (sort, stage, the other list's page) kept."""
    args = {k: v for k, v in request.args.items() if k != param}
    if page > 1:
        args[param] = page
    return url_for(request.endpoint, **request.view_args, **args)


ERRORS = {
    400: (_l("Bad request"), _l("Something in the request was not right. Please go back and try again.")),
    403: (_l("Not allowed"), _l("You do not have permission to see this page or do this.")),
    404: (_l("Not found"), _l("This page does not exist, or it is not yours to see.")),
    405: (_l("Not allowed"), _l("This page cannot be used that way.")),
    413: (_l("Too large"), _l("The file or text you sent is too large.")),
    429: (_l("Too many tries"), _l("Too many attempts in a short time. Please wait a few minutes and try again.")),
    500: (_l("Something went wrong"), _l("Something went wrong on our side. What you just did may not have been "
                                         "saved: please go back, check and try again.")),
}


def render_error(code: int, message: str | None = None):
    title, default = ERRORS.get(code, ERRORS[500])
    return render_template("errors/error.html", code=code, title=title,
                           message=message or default), code


def init_errors(app):
    for code in ERRORS:
        app.register_error_handler(code, lambda e, c=code: render_error(c))

    def _refuse_unreadable_input():
        # Invalid UTF-8 or control characters in the address: refused before any view,
        # on every database (form fields are checked, with their label, by BaseForm).
        from app.inputs import request_problem

        problem = request_problem()
        if problem:
            return render_error(400, problem)

    # First of all before-request hooks: the CSRF check would parse the body before us.
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_unreadable_input)

    from app.resilience import DB_UNAVAILABLE, render_unavailable

    for exc_class in DB_UNAVAILABLE:
        app.register_error_handler(exc_class, lambda e: render_unavailable())

    @app.errorhandler(Refused)
    def _refused(e):
        # A refusal no view caught: undo the request's work, say why, go back.
        db.session.rollback()
        flash(str(e), "error")
        back = safe_next(_same_site_referrer(), url_for("main.home"))
        return redirect(back, 303)

    @app.errorhandler(CSRFError)
    def _csrf(e):
        # Only reached when the session itself is gone (the token never expires by time):
        # keep what was typed and let the person send it again with a fresh token.
        return render_retry()


# Field values longer than this (or with a line break) count as text the person typed;
# shorter ones (a choice, an id, a stage) are button presses.
SHOWN_LENGTH = 20

# Where a person types words to send (an opinion, a reply, an objection, a suggestion,
# an opinion on a report): only these get a "send again" form, and only after the
# request was shown to come from our own pages. A vote, a stage move or any other
# button press is never pre-filled (docs/voting-security.md).
RESENDABLE_ENDPOINTS = {
    "consultation.add_post", "consultation.add_reply", "records.file_objection", "records.give_opinion",
    "deliberation.suggestion_list",
}


def same_origin_request() -> bool:
    """The browser says the request came from one of our own pages: Sec-Fetch-Site is
    same-origin, or the Origin (else the Referer) names this host. Without any of them
    (an old browser, a stripped header) the answer is no."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    origin = request.headers.get("Origin") or request.referrer
    if not origin or origin == "null":
        return False
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc == request.host


def render_retry():
    """After a failed CSRF check: the words the person typed, back on the page, with a
    fresh token — but only for a request that came from our own pages. A form to send
    them again exists only where typing is what the form is for (RESENDABLE_ENDPOINTS);
    the short hidden values of such a form (its stance, its parent) travel with it.
    Nothing else is pre-filled: a forged vote or stage move becomes no one-click form."""
    from app.htmx import is_partial_request

    fields = []
    trusted = request.method == "POST" and same_origin_request()
    if trusted:
        for name, value in request.form.items(multi=True):
            if name == "csrf_token" or "password" in name or name == "code":
                continue  # secrets are never written back into a page
            shown = len(value) >= SHOWN_LENGTH or "\n" in value
            fields.append({"name": name, "value": value, "shown": shown})
    shown_count = sum(1 for f in fields if f["shown"])
    resend = bool(shown_count) and request.endpoint in RESENDABLE_ENDPOINTS
    if not resend:
        fields = [f for f in fields if f["shown"]]
    back = safe_next(_referrer_path(), url_for("main.home"))
    html = render_template("main/retry.html", fields=fields, shown_count=shown_count, action=request.path,
                           back=back, lost_files=bool(request.files), signed_in=current_user.is_authenticated,
                           resend=resend)
    if is_partial_request():
        # The whole retry page replaces the body (base.html lets htmx swap a 400).
        return html, 400, {"HX-Retarget": "body", "HX-Reswap": "innerHTML"}
    return html, 400


def _referrer_path() -> str | None:
    ref = request.referrer
    if not ref:
        return None
    parts = urlsplit(ref)
    if parts.netloc and parts.netloc != request.host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def init_e2e_clock(app):
    """The browser tests' clock (POST /_e2e/clock, days=N: N days from the real time).
    It exists only when the app was started with GONGYI_E2E_CLOCK=1, and refuses to start
    a site served over HTTPS with it."""
    if not app.config.get("E2E_CLOCK"):
        return
    if app.config.get("SESSION_COOKIE_SECURE"):
        raise RuntimeError("GONGYI_E2E_CLOCK is for the browser tests and cannot be used with HTTPS")
    from pathlib import Path

    from app import clock
    from app.config import INSTANCE_DIR
    from app.extensions import csrf

    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    clock.use_shared_offset(Path(INSTANCE_DIR) / "e2e_clock_offset")

    @csrf.exempt
    def move_clock():
        days = float(request.form.get("days", "0"))
        clock.set_offset(timedelta(days=days))
        return {"now": clock.isoformat(clock.utcnow())}

    app.add_url_rule("/_e2e/clock", "e2e_clock", move_clock, methods=["POST"])
