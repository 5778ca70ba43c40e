"""Forms of the consultations. Lengths are checked here for a friendly message and again
in the services, which are the last word."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from app.inputs import BaseForm as FlaskForm  # every text field refuses control characters
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.consultation.models import MAX_POST_CHARS, SENSE_CHOICES, STANCES

STANCE_LABELS = {
    "support": _l("Support"),
    "concern": _l("Concern"),
    "oppose": _l("Oppose"),
    "suggestion": _l("Suggestion"),
    "question": _l("Question"),
}
STANCE_HINTS = {
    "support": _l("I agree with it"),
    "concern": _l("I worry about something"),
    "oppose": _l("I am against it"),
    "suggestion": _l("I have an idea to make it better"),
    "question": _l("I want to ask something"),
}
THREAD_LABELS = {"topic": _l("Topic consultation"), "consensus": _l("Consensus consultation")}
SENSE_LABELS = {"agree": _l("I can agree"), "unsure": _l("Not sure yet"), "concerned": _l("I have concerns")}
STATUS_LABELS = {"open": _l("Still open"), "resolved": _l("Resolved"), "carried": _l("Carried forward")}
AMENDMENT_STATUS_LABELS = {"proposed": _l("Awaiting decision"), "accepted": _l("Accepted"), "declined": _l("Declined")}

_BODY_MSG = _l("Please write your opinion.")
_LONG_MSG = _l("An opinion can be at most %(max)d characters long.")


def _text(label, limit, empty, **kw):
    return TextAreaField(label, validators=[DataRequired(message=empty), Length(max=limit, message=_l(
        "This text can be at most %(max)d characters long."))], **kw)


class PostForm(FlaskForm):
    stance = RadioField(_l("What do you think?"), choices=[SelectChoice(s, STANCE_LABELS[s]) for s in STANCES],
                        validators=[InputRequired(message=_l("Please choose what you think."))])
    body = TextAreaField(_l("Your opinion"), validators=[DataRequired(message=_BODY_MSG),
                                                         Length(max=MAX_POST_CHARS, message=_LONG_MSG)],
                         render_kw={"rows": 4, "maxlength": MAX_POST_CHARS})
    on_behalf_of = SelectField(_l("Whose opinion is it?"), choices=[], validate_choice=False, validators=[Optional()])


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Your reply"), validators=[DataRequired(message=_l("Please write your reply.")),
                                                       Length(max=MAX_POST_CHARS, message=_LONG_MSG)],
                         render_kw={"rows": 2, "maxlength": MAX_POST_CHARS})


class HideForm(FlaskForm):
    reason = StringField(_l("Why is it hidden?"), validators=[
        DataRequired(message=_l("Please give the reason for hiding this post.")), Length(max=500)])


class DisagreementForm(FlaskForm):
    title = StringField(_l("The point of disagreement"), validators=[
        DataRequired(message=_l("Please name the point of disagreement.")), Length(max=200)])


class ResolveForm(FlaskForm):
    resolution = _text(_l("How was it resolved?"), 5000, _l("Please write how it was resolved."),
                       render_kw={"rows": 3})


class CarryForm(FlaskForm):
    reason = _text(_l("Why does the disagreement stay?"), 5000, _l("Please write why the disagreement stays."),
                   render_kw={"rows": 3})


class AmendmentForm(FlaskForm):
    disagreement_id = HiddenField()
    note = StringField(_l("What does it change, and why?"), validators=[
        DataRequired(message=_l("Please say what the amendment changes.")), Length(max=500)])
    body = _text(_l("The whole text as amended"), 50000, _l("Please write the amended text."),
                 render_kw={"rows": 10})


class AcceptAmendmentForm(FlaskForm):
    resolution = TextAreaField(_l("How this resolves the disagreement (optional)"),
                               validators=[Optional(), Length(max=5000)], render_kw={"rows": 2})


class DeclineAmendmentForm(FlaskForm):
    reason = StringField(_l("Why is it declined?"), validators=[
        DataRequired(message=_l("Please give the reason for declining.")), Length(max=500)])


class StakeholderForm(FlaskForm):
    number = StringField(_l("Household number or phone number"), validators=[
        DataRequired(message=_l("Please enter a household number or a phone number.")), Length(max=20)])
    reason = StringField(_l("Why are they affected?"), validators=[
        DataRequired(message=_l("Please say why they are affected.")), Length(max=300)])


class SummaryForm(FlaskForm):
    heard = _text(_l("What was heard"), 10000, _l("Please write what was heard."), render_kw={"rows": 6})
    answer = _text(_l("How the draft answers it"), 10000, _l("Please write how the draft answers it."),
                   render_kw={"rows": 6})


class SenseCheckForm(FlaskForm):
    choice = RadioField(_l("How do you feel about the current text?"),
                        choices=[SelectChoice(c, SENSE_LABELS[c]) for c in SENSE_CHOICES],
                        validators=[InputRequired(message=_l("Please choose one."))])
