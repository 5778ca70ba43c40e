"""Forms of the records area (CSRF on every one)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from app.inputs import BaseForm as FlaskForm  # every text field refuses control characters
from flask_wtf.file import FileField, MultipleFileField
from wtforms.fields.choices import SelectChoice
from wtforms import BooleanField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length


def _too_long(label):
    return _l("“%(label)s” can have at most %%(max)d characters; this one has %%(length)d.", label=label)


class ObjectionForm(FlaskForm):
    body = TextAreaField(_l("Your objection"), validators=[
        DataRequired(message=_l("Please write your objection.")),
        Length(max=4000, message=_too_long(_l("Your objection")))])


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("Answer of the supervision committee"), validators=[DataRequired(), Length(max=4000)])
    upheld = RadioField(_l("Is the objection valid?"), choices=[SelectChoice("yes", _l("Valid (upheld)")),
                                                                SelectChoice("no", _l("Not valid (not upheld)"))],
                        validators=[DataRequired()])


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


class ReportForm(FlaskForm):
    body = TextAreaField(_l("Report"), validators=[DataRequired(message=_l("Please write the report.")),
                                                   Length(max=8000, message=_too_long(_l("Report")))])
    final = BooleanField(_l("This is the final result report"))
    photos = MultipleFileField(_l("Photos (JPEG, PNG or WebP, at most 5 MB each)"))


class OpinionForm(FlaskForm):
    opinion = TextAreaField(_l("Opinion of the supervision committee"), validators=[DataRequired(), Length(max=4000)])


class FilingForm(FlaskForm):
    comment = TextAreaField(_l("Filing comment"), validators=[DataRequired(), Length(max=4000)])


__all__ = ["ObjectionForm", "AnswerForm", "ReasonForm", "ReportForm", "OpinionForm", "FilingForm",
           "FileField", "StringField"]
