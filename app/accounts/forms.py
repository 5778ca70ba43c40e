from flask_babel import lazy_gettext as _l
from app.inputs import BaseForm as FlaskForm  # every text field refuses control characters
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.accounts.services import normalise_phone, valid_phone

ROLE_LABELS = {
    "villager": _l("Villager"),
    "representative": _l("Villager representative"),
    "party_member": _l("Party member"),
    "committee_member": _l("Committee member"),
    "supervisor": _l("Supervision committee member"),
    "clerk": _l("Clerk"),
    "overseer": _l("Township overseer"),
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
