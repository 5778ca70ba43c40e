"""Forms of the voting area (every one carries the CSRF token)."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from app.inputs import BaseForm as FlaskForm  # every text field refuses control characters
from app.inputs import DbIdField
from wtforms import BooleanField, DateTimeLocalField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

CHOICE_LABELS = {"yes": _l("Yes, I agree"), "no": _l("No, I disagree"), "abstain": _l("I abstain")}
CHOICE_SHORT = {"yes": _l("Yes"), "no": _l("No"), "abstain": _l("Abstain")}


def new_request_key() -> str:
    """A fresh idempotency key for one rendered vote form (22 URL-safe characters)."""
    return secrets.token_urlsafe(16)


class ChoiceForm(FlaskForm):
    """Step one (pick) and step two (cast) share the fields; the step is the URL.

    `request_key` is a fresh random token on every rendered form: a submission sent
    again with the same key (a retry, a double tap) is not cast twice. It is optional,
    so a form rendered before keys existed still casts."""

    # Hidden fields show no label: an empty one spares a catalogue look-up per field.
    choice = HiddenField("", validators=[DataRequired()])
    request_key = HiddenField("", validators=[Optional(), Regexp(r"^[A-Za-z0-9_-]{8,64}$")])

    def validate_choice(self, field):
        if field.data not in CHOICE_LABELS:
            raise ValidationError(_l("Please choose yes, no or abstain."))


class CastForm(ChoiceForm):
    """The cast's submitted fields, read without a token field of their own: CSRFProtect
    has already refused any POST whose token is wrong before a view runs (the form's
    field would only make and sign a new token that nobody reads)."""

    class Meta:
        csrf = False


class OpenPollForm(FlaskForm):
    opens_at = DateTimeLocalField(_l("Voting opens at"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    closes_at = DateTimeLocalField(_l("Voting closes at"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()])
    secret = BooleanField(_l("Secret ballot (nobody can see who chose what)"), default=True)
    household_mode = BooleanField(_l("One ballot per household (any adult member may cast it)"))


class CloseForm(FlaskForm):
    pass


class MeetingOpenForm(FlaskForm):
    place = StringField(_l("Place of the meeting"), validators=[Optional(), Length(max=120, message=_l(
        "“Place of the meeting” can have at most %(max)d characters; this one has %(length)d."))])


class SignInForm(FlaskForm):
    person_id = DbIdField(validators=[InputRequired()])


class HallBallotForm(ChoiceForm):
    person_id = DbIdField(validators=[InputRequired()])


class PaperBallotForm(FlaskForm):
    """发放表决票: hand a secret poll's paper ballot to a signed-in attendee."""

    person_id = IntegerField(validators=[InputRequired()])


class HallCountForm(FlaskForm):
    """唱票计票: the scrutineers' public count of the paper ballots, as totals."""

    issued = IntegerField(_l("Ballots issued"), validators=[InputRequired(), NumberRange(min=0, max=100000)])
    returned = IntegerField(_l("Ballots returned"), validators=[InputRequired(), NumberRange(min=0, max=100000)])
    yes = IntegerField(_l("Yes"), validators=[InputRequired(), NumberRange(min=0, max=100000)])
    no = IntegerField(_l("No"), validators=[InputRequired(), NumberRange(min=0, max=100000)])
    abstain = IntegerField(_l("Abstain"), validators=[InputRequired(), NumberRange(min=0, max=100000)])
    spoilt = IntegerField(_l("Spoilt ballots"), validators=[InputRequired(), NumberRange(min=0, max=100000)])
    scrutineers = StringField(_l("Scrutineers (names, separated by commas)"),
                              validators=[DataRequired(), Length(max=200)])
    counter = StringField(_l("Counted by"), validators=[DataRequired(), Length(max=40)])


class RosterSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a read-only search by GET

    q = StringField(_l("Find by name or phone number"), validators=[Optional(), Length(max=40)])


class MinutesForm(FlaskForm):
    minutes = TextAreaField(_l("Minutes of the meeting"), validators=[
        DataRequired(message=_l("Please write the minutes.")),
        Length(max=20000, message=_l("“Minutes of the meeting” can have at most %(max)d characters; "
                                     "this one has %(length)d."))])


class ReceiptLookupForm(FlaskForm):
    class Meta:
        csrf = False  # a read-only lookup by GET

    code = StringField(_l("Your receipt code"), validators=[DataRequired(), Length(max=20)])


def default_closing(now: datetime) -> datetime:
    return (now + timedelta(days=1)).replace(second=0, microsecond=0)
