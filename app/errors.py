"""The one kind of exception that means "refused, and here is why, in the user's words".

Every area's domain error (AccountError, DeliberationError, InvalidTransition,
ConsultationError, VotingError, RecordsError) is a Refused. A view that can keep what
the person typed catches it and re-shows the form; any refusal a view does not catch is
turned by one handler into a rollback, the message, and a way back — never a server error.
"""
from __future__ import annotations


class Refused(Exception):
    """A request the rules do not allow; str() is a message for the person."""
