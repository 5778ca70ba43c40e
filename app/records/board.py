"""What the notice board (公示栏) says about a posted decision: the villagers' vote that
decided it — the result in words, the body that voted and the day — and the photos of
its reports. Read-only questions for the board's pages."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import get_locale, lazy_gettext as _l

from app.records.models import ReportPhoto
from app.records.record import reports_of

# The body that voted, named by the poll's electorate (frozen when the poll opened).
ELECTORATE_BODIES = {
    "adult_villagers": _l("Villagers' assembly"),
    "households": _l("Villagers' assembly (one vote per household)"),
    "representatives": _l("Villager representatives' assembly"),
}


@dataclass(frozen=True)
class Decision:
    """The decisive vote of a posted proposal."""

    passed: bool
    body: str          # 村民会议 / 村民代表会议, in the reader's language
    voted_at: datetime  # the meeting's opening, else the poll's closing (UTC)
    place: str | None
    arithmetic: str    # "应到32人，实到32人，…：通过（同意26，反对4，弃权2）"

    @property
    def result(self) -> str:
        return str(_l("Passed")) if self.passed else str(_l("Not passed"))


def decision_of(proposal) -> Decision | None:
    """The closed villagers' vote that decided the proposal (None before it closed)."""
    from app.voting.api import latest_poll

    poll = latest_poll(proposal, "villager_resolution")
    if poll is None or not poll.is_closed or poll.tally is None:
        return None
    tally = poll.tally
    meeting = poll.meeting
    lang = str(get_locale() or "zh")
    return Decision(passed=bool(poll.passed), body=str(ELECTORATE_BODIES.get(poll.electorate, poll.electorate)),
                    voted_at=meeting.opened_at if meeting is not None else (poll.closed_at or poll.closes_at),
                    place=meeting.place if meeting is not None else None, arithmetic=tally.words(lang))


def photos_of(proposal) -> list[ReportPhoto]:
    """Every photo of the proposal's reports, in the order they were posted."""
    return [photo for report in reports_of(proposal) for photo in report.photos]


def board_photo(proposal, photo_id: int) -> ReportPhoto | None:
    """A photo of this posted proposal's reports, else None (never another proposal's)."""
    return next((p for p in photos_of(proposal) if p.id == photo_id), None)
