"""Language choice: the signed-in person's preference, else the cookie, else zh-Hans."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from flask import Flask, current_app, has_request_context, request
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

LANG_COOKIE = "lang"


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    try:
        if getattr(current_user, "is_authenticated", False) and current_user.language in languages:
            return current_user.language
    except SQLAlchemyError:
        pass  # the database does not answer: the error page still speaks the cookie's language
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in languages:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def translation_directories(app: Flask) -> str:
    """Every area keeps its catalogue beside its code (app/<area>/translations), so
    areas can be worked on without touching one shared file; Flask-Babel merges them."""
    root = Path(app.root_path)
    dirs = [root / "translations"] + sorted(p for p in root.glob("*/translations") if p.is_dir())
    return ";".join(str(d) for d in dirs)


def html_lang(locale: str) -> str:
    return "zh-Hans" if str(locale).startswith("zh") else "en"


@lru_cache(maxsize=None)
def _wtforms_catalogue(locale: str):
    """The wtforms messages (\"This field is required.\") in one locale, read from its
    .mo file once per process instead of once per request."""
    from babel import support
    from wtforms.i18n import messages_path

    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class _WtformsTranslations:
    """What Flask-WTF looks for on the request (request.wtforms_translations): the
    cached catalogue of the request's locale, chosen only when a form needs a message."""

    @staticmethod
    def _current():
        from flask_babel import get_locale

        return _wtforms_catalogue(str(get_locale()))

    def ugettext(self, string):
        return self._current().ugettext(string)

    def ungettext(self, singular, plural, n):
        return self._current().ungettext(singular, plural, n)


WTFORMS_TRANSLATIONS = _WtformsTranslations()


def init_wtforms_translations(app: Flask) -> None:
    """Flask-WTF parses the wtforms catalogue on every request unless the request
    already carries it; hand it the process-wide cached one."""

    @app.before_request
    def _cached_wtforms_translations():
        request.wtforms_translations = WTFORMS_TRANSLATIONS
