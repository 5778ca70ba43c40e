"""Inbox forms (each carries the CSRF token)."""
from __future__ import annotations

from app.inputs import BaseForm as FlaskForm  # every text field refuses control characters
from wtforms import SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from app.notifications.models import ALWAYS_SENT, KIND_LABELS, KINDS


class ActionForm(FlaskForm):
    """A button with nothing to fill in (open a message, mark all as read)."""


class ChoicesForm(FlaskForm):
    kinds = SelectMultipleField(choices=[SelectChoice(k, KIND_LABELS[k]) for k in KINDS
                                         if k not in ALWAYS_SENT],
                                widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
                                validate_choice=True)
