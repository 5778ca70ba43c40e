from flask_babel import lazy_gettext as _l
from app.inputs import BaseForm as FlaskForm  # every text field refuses control characters
from wtforms import DateField, DateTimeLocalField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.deliberation.matters import BODIES, BODY_LABELS, MATTERS
from app.deliberation.services import BODY_MAX, TITLE_MAX


def matter_choices():
    return [SelectChoice("", _l("Choose…"))] + [SelectChoice(code, m.label) for code, m in MATTERS.items()]


class ProposalForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(message=_l("Please give the proposal a title.")),
                                                 Length(max=TITLE_MAX)])
    body = TextAreaField(_l("Text of the proposal"),
                         validators=[DataRequired(message=_l("Please write the text of the proposal.")),
                                     Length(max=BODY_MAX)], render_kw={"rows": 10})
    matter_category = SelectField(_l("Matter category"), choices=matter_choices, validators=[Optional()])
    deciding_body = SelectField(_l("Who decides"), choices=[SelectChoice(b, BODY_LABELS[b]) for b in BODIES])
    authorisation_id = SelectField(_l("Authorisation of the villagers' assembly"), choices=[], validators=[Optional()],
                                   validate_choice=False)
    note = StringField(_l("What changed (for the version history)"), validators=[Optional(), Length(max=500)])


class ConfirmForm(FlaskForm):
    """A button that only needs its CSRF token."""


class TransitionForm(FlaskForm):
    to = HiddenField(validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=4000)], render_kw={"rows": 3})


class DeadlineForm(FlaskForm):
    deadline = DateTimeLocalField(_l("Deadline of this stage"), validators=[Optional()], format="%Y-%m-%dT%H:%M")


class NoticeForm(FlaskForm):
    """A notice that happened: today, or an earlier day with the paper notice documenting it."""
    when = DateField(_l("Date (leave empty for today)"), validators=[Optional()],
                     invalid_value_message=_l("Please give the date like 2026-12-01."))
    paper_note = StringField(_l("Paper notice (only for a date before today: where it was posted, who signed)"),
                             validators=[Optional(), Length(max=300, message=_l(
                                 "“Paper notice” can have at most %(max)d characters."))])


class NoticeCorrectionForm(NoticeForm):
    kind = HiddenField(validators=[DataRequired()])
    reason = TextAreaField(_l("Why the recorded date is wrong"),
                           validators=[DataRequired(message=_l("Please write why the date is corrected.")),
                                       Length(max=1000, message=_l("“Reason” can have at most %(max)d characters."))],
                           render_kw={"rows": 2})


class SuggestionForm(FlaskForm):
    title = StringField(_l("Topic"), validators=[DataRequired(message=_l("Please give the topic.")),
                                                 Length(max=TITLE_MAX)])
    body = TextAreaField(_l("What should the village do, and why?"),
                         validators=[DataRequired(message=_l("Please write a few words about it.")),
                                     Length(max=BODY_MAX)], render_kw={"rows": 6})


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("Answer of the committee"), validators=[Optional(), Length(max=BODY_MAX)],
                           render_kw={"rows": 4})


class AuthorisationForm(FlaskForm):
    matter_category = SelectField(_l("Matter category"),
                                  choices=lambda: [SelectChoice(c, m.label) for c, m in MATTERS.items() if m.art24])
    granted_on = DateField(_l("Decided by the villagers' assembly on"), validators=[DataRequired()])
    valid_until = DateField(_l("Valid until (optional)"), validators=[Optional()])
    reference = StringField(_l("Which assembly, where are the minutes"),
                            validators=[DataRequired(), Length(max=300)])
