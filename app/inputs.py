"""What a request may carry, checked once for every route and form.

Ids are the database's integer range (PostgreSQL `integer`: 1 … 2^31−1) at the URL
converter and in forms; text refuses NUL and other control characters (a line break and
a tab are text) on every database; a request that is not UTF-8 is refused, never stored
as U+FFFD. A refusal names the field and the limit in the person's language.
"""
from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.routing import IntegerConverter
from wtforms import IntegerField, StringField
from wtforms.validators import ValidationError

MAX_DB_INT = 2**31 - 1  # PostgreSQL `integer`; SQLite accepts it too
_ID_RE = re.compile(r"[0-9]{1,10}")
# C0 controls except \t \n \r, DEL, and C1 controls.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class DbIdConverter(IntegerConverter):
    """`<int:…>` in every route: 1 … 2^31−1, anything else is a 404 (never an overflow)."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 (werkzeug's signature)
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_DB_INT)
        super().__init__(map, *args, **kwargs)


def parse_id(value) -> int | None:
    """An id typed into a form or a query string: ASCII digits within the database's
    range, else None (so "²", "-1", "abc" and 2^63 are all simply "no such id")."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 1 <= value <= MAX_DB_INT else None
    text = (value or "").strip() if isinstance(value, str) else ""
    if not _ID_RE.fullmatch(text):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_DB_INT else None


def has_control_chars(text: str | None) -> bool:
    return bool(text) and bool(_CONTROL_RE.search(text))


def strip_control_chars(text: str) -> str:
    return _CONTROL_RE.sub("", text)


def no_control_chars(form, field):
    """WTForms validator on every text field (bound by BaseForm)."""
    data = field.data
    if isinstance(data, str) and has_control_chars(data):
        raise ValidationError(_l("“%(field)s” contains invisible control characters (such as NUL) that cannot be "
                                 "saved. Please remove them and send again.", field=field.label.text))


class DbIdField(IntegerField):
    """An id in a form: ASCII digits within 1 … 2^31−1, else a field message."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        raw = valuelist[0]
        self.data = parse_id(raw)
        if self.data is None and (raw or "").strip():
            self.data = None
            raise ValueError(_l("This is not a valid number (whole numbers from 1 to %(max)d).", max=MAX_DB_INT))


class BaseForm(FlaskForm):
    """Every form of the app: each text field also refuses control characters."""

    class Meta(FlaskForm.Meta):
        def bind_field(self, form, unbound_field, options):
            if issubclass(unbound_field.field_class, StringField):
                validators = list(unbound_field.kwargs.get("validators") or [])
                if no_control_chars not in validators:
                    validators.append(no_control_chars)
                unbound_field.kwargs["validators"] = validators
            return super().bind_field(form, unbound_field, options)


def _undecodable(raw: bytes) -> bool:
    """Some name or value of a query string or urlencoded body is not UTF-8 once its %XX
    escapes are undone. The separators (& ; =) are ASCII, which never falls inside a
    multi-byte sequence, so the whole text decodes exactly when every part does."""
    if b"%" not in raw and raw.isascii():
        return False
    try:
        unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def request_problem() -> str | None:
    """Why this request's text cannot be taken at all (invalid UTF-8, or control
    characters in the address); None when it can. Form fields are checked by the forms."""
    if _undecodable(request.query_string):
        return str(_l("The address contains characters that are not valid text."))
    for name, value in request.args.items(multi=True):
        if has_control_chars(value) or has_control_chars(name):
            return str(_l("The address contains invisible control characters that cannot be used."))
    # Werkzeug keeps an undecodable %FF as the literal text "%FF" (or U+FFFD in a
    # multipart part): the raw body is checked before anything parses it (the form
    # parser then reads the cached copy).
    if request.method in ("POST", "PUT", "PATCH"):
        if request.mimetype == "application/x-www-form-urlencoded":
            if _undecodable(request.get_data(cache=True, parse_form_data=False)):
                return str(_l("What was sent is not valid text (it is not UTF-8). Please type it again."))
        elif request.mimetype == "multipart/form-data":
            for name, value in request.form.items(multi=True):
                if "\ufffd" in value or "\ufffd" in name:
                    return str(_l("What was sent is not valid text (it is not UTF-8). Please type it again."))
    return None
