from flask_babel import lazy_gettext as _l
from app.inputs import BaseForm as FlaskForm  # every text field refuses control characters
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, IntegerField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.accounts.services import RULE_PROFILE_LABELS, normalise_phone, valid_phone

ROLE_LABELS = {
    "villager": _l("Villager"),
    "representative": _l("Villager representative"),
    "party_member": _l("Party member"),
    "committee_member": _l("Committee member"),
    "supervisor": _l("Supervision committee member"),
    "clerk": _l("Clerk"),
    "overseer": _l("Township overseer"),
    "county_overseer": _l("County overseer"),
    "admin": _l("Administrator"),
}


def phone_field(label=_l("Phone number")):
    return StringField(label, validators=[DataRequired(message=_l("Please enter your phone number."))],
                       filters=[normalise_phone],
                       render_kw={"inputmode": "numeric", "autocomplete": "tel", "maxlength": 20})


def check_phone(form, field):
    if field.data and not valid_phone(field.data):
        raise ValidationError(_l("A phone number has 11 digits and starts with 1."))


class LoginForm(FlaskForm):
    phone = phone_field()
    password = PasswordField(_l("Password"), validators=[DataRequired(message=_l("Please enter your password."))],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Keep me signed in on this phone"), default=True)

    def validate_phone(self, field):
        check_phone(self, field)


class RequestCodeForm(FlaskForm):
    phone = phone_field()

    def validate_phone(self, field):
        check_phone(self, field)


class CodeLoginForm(FlaskForm):
    phone = phone_field()
    code = StringField(_l("Code from the text message"),
                       validators=[DataRequired(message=_l("Please enter the code.")), Length(min=6, max=6)],
                       render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6})

    def validate_phone(self, field):
        check_phone(self, field)


class SetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(message=_l("Please enter a password."))],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("The same password again"),
                            validators=[EqualTo("password", message=_l("The two passwords are not the same."))],
                            render_kw={"autocomplete": "new-password"})


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RegisterPersonForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(message=_l("Please enter the name.")), Length(max=40)])
    phone = phone_field()
    household = StringField(_l("Household number"), validators=[Optional(), Length(max=20)])
    group = StringField(_l("Villagers' group"), validators=[Optional(), Length(max=20)])
    gender = SelectField(_l("Gender"), choices=[SelectChoice("", _l("Not given")), SelectChoice("F", _l("Female")),
                                         SelectChoice("M", _l("Male"))],
                         validators=[Optional()])
    birth_date = DateField(_l("Date of birth"), validators=[Optional()])
    roles = MultiCheckboxField(_l("Roles"), choices=[SelectChoice(k, ROLE_LABELS[k]) for k in (
        "villager", "representative", "party_member", "committee_member", "supervisor", "clerk")],
        default=["villager"])

    def validate_phone(self, field):
        check_phone(self, field)


class ImportPeopleForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[FileRequired(message=_l("Please choose a file."))])


class RuleProfileForm(FlaskForm):
    """The village's choices within the law's and the province's ranges (RuleProfile.DAY_RANGES)."""

    villager_assembly_notice_days = IntegerField(RULE_PROFILE_LABELS["villager_assembly_notice_days"], validators=[InputRequired(), NumberRange(10, 30)])
    party_plan_notice_days = IntegerField(RULE_PROFILE_LABELS["party_plan_notice_days"], validators=[InputRequired(), NumberRange(3, 15)])
    publicity_days = IntegerField(RULE_PROFILE_LABELS["publicity_days"], validators=[InputRequired(), NumberRange(5, 10)])
    objection_reply_days = IntegerField(RULE_PROFILE_LABELS["objection_reply_days"], validators=[InputRequired(), NumberRange(1, 10)])
    topic_consultation_days = IntegerField(RULE_PROFILE_LABELS["topic_consultation_days"], validators=[InputRequired(), NumberRange(3, 30)])
    party_quorum = SelectField(RULE_PROFILE_LABELS["party_quorum"], choices=[SelectChoice("1/2", _l("at least half of the roster")),
                                        SelectChoice("2/3", _l("at least two thirds of the roster"))])
    rep_pass_base = SelectField(RULE_PROFILE_LABELS["rep_pass_base"], choices=[SelectChoice("took_part", _l("those taking part")),
                                         SelectChoice("roster", _l("all the representatives on the roster"))])
    holiday_shift = BooleanField(RULE_PROFILE_LABELS["holiday_shift"])

    DAY_FIELDS = ("villager_assembly_notice_days", "party_plan_notice_days", "publicity_days",
                  "objection_reply_days", "topic_consultation_days")

    @classmethod
    def data_of(cls, profile) -> dict:
        data = {f: getattr(profile, f) for f in cls.DAY_FIELDS}
        data.update(party_quorum=f"{profile.party_quorum_num}/{profile.party_quorum_den}",
                    rep_pass_base=profile.rep_pass_base, holiday_shift=profile.holiday_shift)
        return data

    def values(self) -> dict:
        num, den = (int(x) for x in self.party_quorum.data.split("/"))
        values = {f: getattr(self, f).data for f in self.DAY_FIELDS}
        values.update(party_quorum_num=num, party_quorum_den=den, rep_pass_base=self.rep_pass_base.data,
                      holiday_shift=bool(self.holiday_shift.data))
        return values


class ApproveRulesForm(FlaskForm):
    pass
