"""Voting pages: the voter's page (phone first), results and receipts, opening and
closing polls, the clerk's hybrid meeting page, and the close-due-polls command."""
from __future__ import annotations

from functools import cache

import click
from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from app import clock
from app.accounts.models import Person, RoleGrant, Village, utcnow
from app.accounts.views import route_loader
from app.database import DriverStatement, entity_columns, read_first, write_transaction
from app.errors import Refused
from app.extensions import db
from app.htmx import is_partial_request, render_page_or_partial
from app.loaders import in_village
from app.main.menu import Link, menu_provider
from app.paging import page_arg
from app.permissions import require
from app.voting import api, services
from app.voting.forms import (
    CHOICE_LABELS, CHOICE_SHORT, CastForm, ChoiceForm, CloseForm, HallBallotForm, HallCountForm, MeetingOpenForm,
    MinutesForm, OpenPollForm, PaperBallotForm, ReceiptLookupForm, RosterSearchForm, SignInForm, default_closing,
    new_request_key,
)
from app.voting.models import Participation, Poll, RosterEntry, remember_roster_entry
from app.voting.permissions import (
    can_close_poll, can_enter_hall_count, can_open_poll, can_run_meeting, can_see_choices, can_view_poll, can_vote,
    is_on_roster,
)

bp = Blueprint("voting", __name__, cli_group=None)

RECEIPTS_KEY = "voting_receipts"


def _poll_or_404(poll_id: int, user=current_user) -> Poll:
    poll = db.session.get(Poll, poll_id)
    if poll is None or not can_view_poll(user, poll):
        abort(404)  # another village's poll does not exist for this person
    return poll


def _my_participation(poll: Poll) -> Participation | None:
    entry = poll.roster_entry_for(current_user)
    if entry is None:
        return None
    return db.session.scalar(select(Participation).where(Participation.poll_id == poll.id,
                                                         Participation.unit_key == entry.unit_key))


def _diff_url(poll: Poll) -> str | None:
    """Link to the lead's "what changed" page when it exists and there is a change."""
    version = poll.version
    if version is None or version.number <= 1 or "deliberation.version_diff" not in current_app.view_functions:
        return None
    return url_for("deliberation.version_diff", proposal_id=poll.proposal_id, a=version.number - 1, b=version.number)


def _proposal_url(proposal) -> str | None:
    if "deliberation.proposal_detail" in current_app.view_functions:
        return url_for("deliberation.proposal_detail", proposal_id=proposal.id)
    return None


def chart_bars(tally) -> list[dict]:
    """Bar lengths for the server-drawn SVG chart, in whole pixels of a 200 px track."""
    rows = [("yes", tally.yes), ("no", tally.no), ("abstain", tally.abstain),
            ("absent", tally.roster - tally.took_part)]
    top = max(tally.roster, 1)
    return [{"key": k, "count": n, "width": (n * 200) // top} for k, n in rows]


def _context(poll: Poll, **extra) -> dict:
    participation = _my_participation(poll)
    return {"poll": poll, "proposal": poll.proposal, "version": poll.version, "tally": poll.tally,
            "participation": participation, "ballot_lost": services.ballot_lost(poll, participation), "diff_url": _diff_url(poll),
            "proposal_url": _proposal_url(poll.proposal), "choice_labels": CHOICE_LABELS,
            "choice_short": CHOICE_SHORT, "form": ChoiceForm(), "close_form": CloseForm(),
            "chart_bars": chart_bars, "receipt": None, "confirm": None, **extra}


@bp.get("/polls")
@login_required
def my_polls():
    """Polls of my village: those I can vote in first."""
    if current_user.village_id is None:
        abort(404)
    query = select(Poll).where(Poll.village_id == current_user.village_id)
    due = [p for p in db.session.scalars(query.where(Poll.status == "open")) if p.is_due()]
    for poll in due:  # closing on first access: a list that says "open" must be true
        services.close_if_due(poll)
    polls = list(db.session.scalars(query.order_by(Poll.status.desc(), Poll.closes_at.desc()).limit(50)))
    return render_template("voting/my_polls.html", polls=polls)


@bp.get("/polls/<int:poll_id>")
@login_required
def poll_detail(poll_id: int):
    poll = _poll_or_404(poll_id)
    if services.close_if_due(poll):
        poll = db.session.get(Poll, poll_id)
    receipts = session.get(RECEIPTS_KEY) or {}
    receipt = receipts.pop(str(poll.id), None)  # shown once
    if receipt is not None:
        session[RECEIPTS_KEY] = receipts
    return render_page_or_partial("voting/poll_detail.html", "voting/_ballot.html", **_context(poll, receipt=receipt))


class OutsideWindow(Refused):
    """A ballot for a poll that is closed or not yet open: said in words, not 403."""


def _refuse_outside_window(poll: Poll, user=current_user) -> None:
    """A voter on the roster whose poll is not taking ballots is told when it closed
    (or opens) and that the choice was not saved; the Refused handler shows it."""
    if not is_on_roster(user, poll) or poll.accepting_ballots():
        return
    if poll.is_closed or (poll.closes_at and poll.closes_at <= utcnow()):
        raise OutsideWindow(_("This vote closed at %(when)s; your choice was not saved.",
                              when=clock.format_time(poll.closes_at)))
    raise OutsideWindow(_("This vote opens at %(when)s; your choice was not saved.",
                          when=clock.format_time(poll.opens_at)))


@bp.post("/polls/<int:poll_id>/confirm")
@login_required
def confirm_choice(poll_id: int):
    """Step one of two: show the chosen answer before it is cast (works without JS)."""
    poll = _poll_or_404(poll_id)
    _refuse_outside_window(poll)
    require(can_vote(current_user, poll))
    form = ChoiceForm()
    if not form.validate_on_submit():
        flash(_("Please choose yes, no or abstain."), "error")
        return redirect(url_for("voting.poll_detail", poll_id=poll.id))
    return render_page_or_partial("voting/poll_detail.html", "voting/_ballot.html",
                                  **_context(poll, confirm=form.choice.data))


@cache
def _cast_load_statement() -> DriverStatement:
    """The signed-in person with their roles, the poll with its proposal and village, and
    the person's roster entry, for bound :person_id and :poll_id, one row per role grant.
    Compiled once per database and run on the driver, its rows placed in the session as
    loaded objects (DriverStatement.load): the ORM's set-up of six entities for one
    statement cost twice what the statement did."""
    from app.deliberation.models import Proposal

    entities = (Person, Poll, RosterEntry, RoleGrant, Proposal, Village)
    person, poll, entry, grant, proposal, village = (m.__table__ for m in entities)
    poll_id, person_id = bindparam("poll_id"), bindparam("person_id")
    return DriverStatement(lambda _dialect: select(*entity_columns(*entities)).select_from(person)
                           .outerjoin(poll, poll.c.id == poll_id)
                           .outerjoin(proposal, proposal.c.id == poll.c.proposal_id)
                           .outerjoin(village, village.c.id == poll.c.village_id)
                           .outerjoin(entry, and_(entry.c.poll_id == poll.c.id, entry.c.person_id == person.c.id))
                           .outerjoin(grant, grant.c.person_id == person.c.id)
                           .where(person.c.id == person_id), entities=entities)


@route_loader("voting.cast")
def _load_for_cast(person_id: int) -> Person | None:
    """The cast's reads in one query, outside the write lock: the signed-in person with
    their roles, the poll with its proposal and village, and the person's roster entry.
    Permission and window checks then use what it loaded, without a statement."""
    poll_id = (request.view_args or {}).get("poll_id")
    with read_first(db.session):
        rows = _cast_load_statement().load(db.session(), {"poll_id": poll_id, "person_id": person_id})
    if not rows:
        return None
    person, poll, entry, _grant, proposal, village = rows[0]
    set_committed_value(person, "roles", [row[3] for row in rows if row[3] is not None])
    if poll is not None:
        set_committed_value(poll, "proposal", proposal)
        set_committed_value(poll, "village", village)
        remember_roster_entry(poll.id, person.id, entry)
        g.gongyi_cast_poll = poll  # the session only holds it weakly: keep it for the view's get()
    return person


@bp.post("/polls/<int:poll_id>/cast")
@login_required
def cast(poll_id: int):
    """Step two: cast the confirmed choice. Everything is read before the write
    transaction (_load_for_cast), which then holds the lock for the writes only. The
    person is taken out of the current_user proxy once: the checks read it many times."""
    user = current_user._get_current_object()
    poll = _poll_or_404(poll_id, user)
    _refuse_outside_window(poll, user)
    require(can_vote(user, poll))
    form = CastForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with write_transaction(db.session, keep_loaded=True):  # what it read is current: checked under the lock
            receipt = services.cast_ballot(poll, user, form.choice.data, request_key=form.request_key.data or None)
    except services.VotingError as exc:
        if isinstance(exc, services.PollNotOpen):
            _refuse_outside_window(db.session.get(Poll, poll_id), user)  # it closed since it was read
        flash(str(exc), "error")
        return redirect(url_for("voting.poll_detail", poll_id=poll_id))
    if is_partial_request():
        return render_page_or_partial("voting/poll_detail.html", "voting/_ballot.html",
                                      **_context(db.session.get(Poll, poll_id), receipt=receipt))
    session[RECEIPTS_KEY] = {**(session.get(RECEIPTS_KEY) or {}), str(poll_id): receipt}
    return redirect(url_for("voting.poll_detail", poll_id=poll_id))


RECEIPTS_PAGE = 300  # receipt codes a page: short codes, a few KB
PEOPLE_PAGE = 100  # people a page of "who took part"


@bp.get("/polls/<int:poll_id>/receipts")
@login_required
def receipts(poll_id: int):
    """The published receipt list after close (never with choices); look up your code."""
    poll = _poll_or_404(poll_id)
    services.close_if_due(poll)
    poll = db.session.get(Poll, poll_id)
    form = ReceiptLookupForm(request.args)
    found = None
    if request.args.get("code") and form.validate():
        found = api.receipt_published(poll, form.code.data.strip().upper())
    choices = api.open_choices(poll) if can_see_choices(current_user, poll) else {}
    # Both lists grow with the village: each comes in pages of its own (?page=, ?people=).
    codes = db.paginate(api.receipts_query(poll), page=page_arg(), per_page=RECEIPTS_PAGE, error_out=False)
    parts = db.paginate(select(Participation).where(Participation.poll_id == poll.id)
                        .options(joinedload(Participation.cast_by), joinedload(Participation.entered_by))
                        .order_by(Participation.unit_key),
                        page=page_arg("people"), per_page=PEOPLE_PAGE, error_out=False)
    return render_template("voting/receipts.html", poll=poll, proposal=poll.proposal, codes=codes, form=form,
                           found=found, parts=parts, units=services.roster_size(poll.id), choices=choices,
                           choice_short=CHOICE_SHORT)


@bp.get("/polls/<int:poll_id>/record.json")
@login_required
def poll_export(poll_id: int):
    poll = _poll_or_404(poll_id)
    return jsonify(api.poll_record(poll))


@bp.post("/proposals/<int:proposal_id>/polls")
@login_required
def open_poll(proposal_id: int):
    from app.deliberation.models import Proposal
    from app.accounts.permissions import can_view_village

    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or not can_view_village(current_user, proposal.village):
        abort(404)
    require(can_open_poll(current_user, proposal))
    form = OpenPollForm()
    back = _proposal_url(proposal) or url_for("voting.my_polls")
    if not form.validate_on_submit():
        flash(_("Please give the closing time."), "error")
        return redirect(back)
    try:
        opens_at = clock.from_local(form.opens_at.data) if form.opens_at.data else None
        if opens_at is not None and opens_at <= utcnow():
            opens_at = None  # a time already past means "now"
        poll = services.open_poll(proposal, current_user, closes_at=clock.from_local(form.closes_at.data),
                                  opens_at=opens_at,
                                  secret=form.secret.data, household_mode=form.household_mode.data)
    except services.VotingError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(back)
    db.session.commit()
    flash(_("The poll is open."), "info")
    return redirect(url_for("voting.poll_detail", poll_id=poll.id))


@bp.post("/polls/<int:poll_id>/close")
@login_required
def close(poll_id: int):
    poll = _poll_or_404(poll_id)
    require(can_close_poll(current_user, poll))
    if not CloseForm().validate_on_submit():
        abort(400)
    try:
        services.close_poll(poll, actor=current_user)
    except services.close_errors() as exc:  # a closed poll, or the engine refusing the move
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("voting.poll_detail", poll_id=poll_id))
    db.session.commit()
    flash(_("The poll is closed and counted."), "info")
    return redirect(url_for("voting.poll_detail", poll_id=poll_id))


# The clerk's hybrid meeting page

ROSTER_PAGE_SIZE = 100  # people of the roster a page, in household order; the search finds anyone

def meeting_rows(poll: Poll, query: str = "") -> list[dict]:
    """The roster as the clerk reads it in the hall: household, group (组) and age so
    that two people of one name can be told apart, sorted by household, filtered by a
    name or phone search."""
    from app.accounts.models import Household

    today = utcnow().date()
    parts = {p.unit_key: p for p in api.participations(poll)}
    attendance = {a.person_id: a for a in poll.meeting.attendance} if poll.meeting else {}
    stmt = (select(RosterEntry, Person, Household).join(Person, Person.id == RosterEntry.person_id)
            .outerjoin(Household, Household.id == RosterEntry.household_id).where(RosterEntry.poll_id == poll.id))
    query = (query or "").strip()
    if query:
        digits = query.replace(" ", "").replace("-", "")
        like = f"%{query}%"
        stmt = stmt.where(RosterEntry.name.like(like) | (Person.phone.like(f"%{digits}%") if digits.isdigit()
                                                         else RosterEntry.name.like(like)))
    rows = []
    for entry, person, household in db.session.execute(stmt).all():
        rows.append({"entry": entry, "person": person, "household": household.number if household else None,
                     "group": household.group_name if household else None, "age": person.age_on(today),
                     "part": parts.get(entry.unit_key), "attendance": attendance.get(person.id)})

    def household_order(row):
        number = row["household"]
        if number is None:
            return (2, 0, "", row["entry"].name, row["entry"].id)
        return (0, int(number), number, row["entry"].name, row["entry"].id) if number.isdigit() \
            else (1, 0, number, row["entry"].name, row["entry"].id)

    return sorted(rows, key=household_order)


def _meeting_context(poll: Poll, message: str | None = None, error: str | None = None, **refused) -> dict:
    """The meeting page; a refused form (place, minutes) comes back with its typed text."""
    search = RosterSearchForm(request.args)
    query = search.q.data or "" if search.validate() else ""
    from app.paging import Page, page_arg

    hall_form = HallCountForm(formdata=None, data={"issued": services.paper_ballots_issued(poll)})
    pager = Page.of(meeting_rows(poll, query), page_arg(), ROSTER_PAGE_SIZE)
    return {"poll": poll, "proposal": poll.proposal, "meeting": poll.meeting, "rows": pager.items, "pager": pager,
            "query": query, "search_form": search, "open_form": MeetingOpenForm(formdata=None), "sign_form": SignInForm(formdata=None),
            "ballot_form": HallBallotForm(formdata=None), "hall_form": hall_form,
            "issued": services.paper_ballots_issued(poll),
            "present": len(poll.meeting.attendance) if poll.meeting else 0,
            "minutes_form": MinutesForm(formdata=None, data={"minutes": poll.meeting.minutes if poll.meeting else ""}),
            "choice_short": CHOICE_SHORT, "message": message, "error": error, **refused}


@bp.get("/polls/<int:poll_id>/meeting")
@login_required
def meeting(poll_id: int):
    poll = _poll_or_404(poll_id)
    require(can_run_meeting(current_user, poll) or (poll.meeting is not None and can_view_poll(current_user, poll)))
    return render_page_or_partial("voting/meeting.html", "voting/_meeting_roster.html", **_meeting_context(poll))


def _meeting_action(poll_id: int):
    poll = _poll_or_404(poll_id)
    require(can_run_meeting(current_user, poll))
    return poll


def _meeting_url(poll: Poll) -> str:
    """Back to the roster where the clerk was: the same search, the same page."""
    from app.paging import page_arg

    q = (request.form.get("q") or "").strip()[:40]
    page = page_arg()
    return url_for("voting.meeting", poll_id=poll.id, **({"q": q} if q else {}), **({"page": page} if page > 1 else {}))


def _after_meeting_action(poll: Poll, message: str | None = None, error: str | None = None):
    """htmx: the roster again with the message in place (never queued for a later page);
    without JavaScript: the message flashed on the meeting page after a redirect."""
    if is_partial_request():
        db.session.expire_all()
        return render_page_or_partial("voting/meeting.html", "voting/_meeting_roster.html",
                                      **_meeting_context(db.session.get(Poll, poll.id), message=message,
                                                         error=error))
    if message or error:
        flash(message or error, "info" if message else "error")
    return redirect(_meeting_url(poll))


@bp.post("/polls/<int:poll_id>/meeting/open")
@login_required
def meeting_open(poll_id: int):
    poll = _meeting_action(poll_id)
    form = MeetingOpenForm()
    if not form.validate_on_submit():
        return render_template("voting/meeting.html", **_meeting_context(poll, open_form=form)), 400
    services.open_meeting(poll, current_user, place=form.place.data or None)
    db.session.commit()
    return redirect(url_for("voting.meeting", poll_id=poll.id))


def _roster_person(form, poll: Poll) -> Person:
    """The person a meeting form names, only within the poll's own village (400 otherwise)."""
    person = in_village(Person, form.person_id.data, poll.village_id) if form.validate_on_submit() else None
    if person is None:
        abort(400)
    return person


def _for_attendee(poll_id: int, form, service, done: str):
    """One clerk's action for one person of the meeting (sign in, hand a paper ballot):
    the person only from the poll's village, the message in place."""
    poll = _meeting_action(poll_id)
    person = _roster_person(form, poll)
    if poll.meeting is None:
        abort(400)
    try:
        service(poll.meeting, person, current_user)
    except services.VotingError as exc:
        db.session.rollback()
        return _after_meeting_action(poll, error=str(exc))
    db.session.commit()
    return _after_meeting_action(poll, message=done % {"name": person.name})


@bp.post("/polls/<int:poll_id>/meeting/sign-in")
@login_required
def meeting_sign_in(poll_id: int):
    return _for_attendee(poll_id, SignInForm(), services.sign_in, _("%(name)s is signed in."))


@bp.post("/polls/<int:poll_id>/meeting/paper-ballot")
@login_required
def meeting_paper_ballot(poll_id: int):
    """发放表决票: a secret poll's paper ballot handed to a signed-in attendee."""
    return _for_attendee(poll_id, PaperBallotForm(), services.issue_paper_ballot,
                         _("Paper ballot handed to %(name)s."))


@bp.post("/polls/<int:poll_id>/meeting/ballot")
@login_required
def meeting_ballot(poll_id: int):
    """Open poll only: the clerk enters an in-hall ballot for a signed-in attendee."""
    poll = _meeting_action(poll_id)
    form = HallBallotForm()
    person = _roster_person(form, poll)
    try:
        services.cast_ballot(poll, person, form.choice.data, channel="in_person", entered_by=current_user)
    except services.VotingError as exc:
        db.session.rollback()
        return _after_meeting_action(poll, error=str(exc))
    db.session.commit()
    return _after_meeting_action(poll, message=_("In-hall ballot of %(name)s recorded.", name=person.name))


@bp.post("/polls/<int:poll_id>/meeting/count")
@login_required
def meeting_count(poll_id: int):
    """The scrutineers' totals of the paper ballots, entered once."""
    poll = _poll_or_404(poll_id)
    require(can_enter_hall_count(current_user, poll))
    form = HallCountForm()
    if not form.validate_on_submit():
        flash(_("Please fill in every number and name."), "error")
        return redirect(url_for("voting.meeting", poll_id=poll.id))
    try:
        services.record_hall_count(poll, current_user, issued=form.issued.data, returned=form.returned.data,
                                   yes=form.yes.data, no=form.no.data, abstain=form.abstain.data,
                                   spoilt=form.spoilt.data, scrutineers=form.scrutineers.data,
                                   counter=form.counter.data)
    except services.VotingError as exc:
        db.session.rollback()
        ctx = _meeting_context(poll, error=str(exc))
        ctx["hall_form"] = form
        return render_template("voting/meeting.html", **ctx), 400
    db.session.commit()
    flash(_("The count of the paper ballots is recorded."), "info")
    return redirect(url_for("voting.meeting", poll_id=poll.id))


@bp.post("/polls/<int:poll_id>/meeting/minutes")
@login_required
def meeting_minutes(poll_id: int):
    poll = _poll_or_404(poll_id)
    from app.accounts.permissions import has_village_role

    require(poll.meeting is not None and (has_village_role(current_user, poll.village, "clerk")
                                          or has_village_role(current_user, poll.village, "committee_member")))
    form = MinutesForm()
    if not form.validate_on_submit():
        return render_template("voting/meeting.html", **_meeting_context(poll, minutes_form=form)), 400
    services.record_minutes(poll.meeting, form.minutes.data, current_user)
    db.session.commit()
    flash(_("The minutes are saved."), "info")
    return redirect(url_for("voting.meeting", poll_id=poll.id))


bp.add_app_template_global(new_request_key, "new_request_key")


@bp.app_template_global()
def format_dt(value) -> str:
    """A stored UTC time in the reader's time zone and language."""
    return clock.format_time(value) if value else ""


ELECTORATE_LABELS = {
    "committees": _l("the members of the two village committees"),
    "party_members": _l("the village's Party members"),
    "adult_villagers": _l("all adult villagers (18 and over)"),
    "households": _l("every household (one ballot each)"),
    "representatives": _l("the villager representatives"),
}


@bp.app_context_processor
def _voting_labels():
    from app.deliberation.stages import STAGE_LABELS

    return {"ELECTORATE_LABELS": ELECTORATE_LABELS, "STAGE_LABELS": STAGE_LABELS}


@bp.app_template_global()
def voting_section(proposal) -> dict:
    """What the proposal page's voting section needs (see _proposal_section.html)."""
    from app.deliberation.models import Proposal  # noqa: F401  (type only)

    polls = list(db.session.scalars(select(Poll).where(Poll.proposal_id == proposal.id).order_by(Poll.id.desc())))
    from app.deliberation.engine import earliest_opening

    opens = earliest_opening(proposal, proposal.stage)
    local = lambda moment: clock.to_local(moment).replace(tzinfo=None, second=0, microsecond=0)  # noqa: E731
    form = OpenPollForm(formdata=None, data={"opens_at": local(opens) if opens else None,
                                             "closes_at": local(default_closing(opens or utcnow())),
                                             "secret": proposal.stage != "member_review"})
    return {"polls": polls, "open_form": form, "current": next((p for p in polls if p.stage == proposal.stage), None)}


@menu_provider
def _voting_links(user):
    if not getattr(user, "is_authenticated", False) or user.village_id is None:
        return []
    open_for_me = db.session.scalar(
        select(Poll.id).join(RosterEntry, RosterEntry.poll_id == Poll.id)
        .where(RosterEntry.person_id == user.id, Poll.status == "open").limit(1))
    label = _("Vote now") if open_for_me else _("Votes and results")
    return [Link(label, url_for("voting.my_polls"))]


@bp.cli.command("close-due-polls")
def close_due_polls_command():
    """Close every poll whose closing time has passed, tally it, move the proposal on;
    destroy any key of a closed poll still in the key store, and replace (and tell the
    voters about) the key of an open secret poll that the store lost."""
    closed = services.close_due_polls()
    click.echo(f"{len(closed)} poll(s) closed" + (f": {', '.join(map(str, closed))}" if closed else "."))
    destroyed = services.destroy_closed_poll_keys()
    replaced = services.check_poll_keys()
    if destroyed:
        click.echo(f"{destroyed} key(s) of closed polls destroyed.")
    if replaced:
        click.echo(f"{replaced} lost poll key(s) replaced; their voters were told to vote again.")


from app.voting import waiting  # noqa: E402,F401  (the home page's waiting votes, on the same blueprint)
