"""Proposal pages: the village's list, a proposal with its timeline and blockers, the
versions and their differences, and the committee's pages to draft and move proposals."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select

from app import clock
from app.accounts.models import Village
from app.deliberation import engine, hooks, services
from app.deliberation.diff import diff_texts, has_changes
from app.deliberation.matters import BODY_LABELS, matter_label
from app.deliberation.forms import (
    ConfirmForm, DeadlineForm, NoticeCorrectionForm, NoticeForm, ProposalForm, TransitionForm,
)
from app.deliberation.models import ALL_STAGES, STAGES, Authorisation, Proposal, notice_facts
from app.deliberation.permissions import (
    can_create_proposal, can_edit_proposal, can_manage_proposal, can_view_drafts, can_view_proposal,
    can_view_proposals,
)
from app.deliberation.stages import STAGE_EXPLANATIONS, STAGE_ICONS, STAGE_LABELS
from app.extensions import db
from app.htmx import render_page_or_partial
from app.loaders import in_village
from app.main.menu import Link, menu_provider
from app.permissions import require

bp = Blueprint("deliberation", __name__)
PROPOSALS_PER_PAGE = 20  # a page of the list stays small on a village phone, however many there are

SUGGESTION_STATUS = {"open": _l("Collecting signatures"), "accepted": _l("Taken up"), "answered": _l("Answered")}


@bp.app_context_processor
def _stage_words():
    return {"STAGE_LABELS": STAGE_LABELS, "STAGE_EXPLANATIONS": STAGE_EXPLANATIONS, "STAGE_ICONS": STAGE_ICONS,
            "STAGES": STAGES, "BODY_LABELS": BODY_LABELS, "MATTER_LABEL": matter_label,
            "SUGGESTION_STATUS": SUGGESTION_STATUS, "village_now": village_now, "change_reason": change_reason}


def change_reason(change) -> str:
    """A move's reason; a vote's arithmetic (written by the vote's result) in the reader's language."""
    if change.reason and change.from_stage in ("committee_deliberation", "member_review", "villager_resolution"):
        return hooks.poll_words_in_reader_language(change.proposal, change.from_stage, change.reason)
    return change.reason or ""


ACTIVE_STAGES = ("topic_consultation", "consensus_consultation", "villager_resolution", "publicized",
                 "implementing", "committee_deliberation", "member_review")


def village_now(user) -> list[Proposal]:
    """What is going on in the person's village, the stages where villagers take part first."""
    village = user.village if getattr(user, "is_authenticated", False) else None
    if village is None or not can_view_proposals(user, village):
        return []
    proposals = db.session.scalars(select(Proposal).where(Proposal.village_id == village.id,
                                                          Proposal.stage.in_(ACTIVE_STAGES))).all()
    return sorted(proposals, key=lambda p: (ACTIVE_STAGES.index(p.stage), -p.id))[:6]


@menu_provider
def _links(user):
    village = user.village
    if village is None or not can_view_proposals(user, village):
        return []
    links = [Link(_("Proposals of the village"), url_for("deliberation.proposal_list", village_id=village.id)),
             Link(_("Suggest a topic"), url_for("deliberation.suggestion_list", village_id=village.id))]
    if can_create_proposal(user, village):
        links.append(Link(_("Write a new proposal"), url_for("deliberation.proposal_new", village_id=village.id)))
    return links


def _proposal_or_404(proposal_id: int) -> Proposal:
    proposal = db.get_or_404(Proposal, proposal_id)
    if not can_view_proposal(current_user, proposal):
        abort(404 if current_user.village_id != proposal.village_id else 403)
    return proposal


def _authorisation_choices(village_id: int):
    auths = db.session.scalars(select(Authorisation).where(Authorisation.village_id == village_id)
                               .order_by(Authorisation.granted_on.desc())).all()
    return [("", _("None"))] + [(str(a.id), f"{a.granted_on} · {a.reference}") for a in auths]


def _authorisation_or_error(form, village_id: int):
    """The chosen authorisation of this village, None when none is chosen, or False
    (with a field message) when the id is not one of this village's authorisations."""
    raw = form.authorisation_id.data
    if not raw:
        return None
    auth = in_village(Authorisation, raw, village_id)
    if auth is None:
        message = _("This is not an authorisation of this village. Please choose one from the list.")
        if message not in form.authorisation_id.errors:
            form.authorisation_id.errors = [*form.authorisation_id.errors, message]
        return False
    return auth


@bp.get("/villages/<int:village_id>/proposals")
@login_required
def proposal_list(village_id: int):
    village = db.get_or_404(Village, village_id)
    require(can_view_proposals(current_user, village))
    stage = request.args.get("stage") or None
    if stage and stage not in ALL_STAGES:
        stage = None
    query = select(Proposal).where(Proposal.village_id == village.id).order_by(Proposal.id.desc())
    counted = select(Proposal.stage, func.count()).where(Proposal.village_id == village.id)
    if not can_view_drafts(current_user, village):
        query, counted = query.where(Proposal.stage != "draft"), counted.where(Proposal.stage != "draft")
    if stage:
        query = query.where(Proposal.stage == stage)
    page = db.paginate(query, per_page=PROPOSALS_PER_PAGE, max_per_page=PROPOSALS_PER_PAGE, error_out=False)
    counts = dict(db.session.execute(counted.group_by(Proposal.stage)).all())
    return render_page_or_partial("deliberation/proposal_list.html", "deliberation/_proposal_rows.html",
                                  village=village, proposals=page.items, pager=page, stage=stage, counts=counts,
                                  all_stages=ALL_STAGES)


@bp.route("/villages/<int:village_id>/proposals/new", methods=["GET", "POST"])
@login_required
def proposal_new(village_id: int):
    village = db.get_or_404(Village, village_id)
    require(can_create_proposal(current_user, village))
    form = ProposalForm()
    form.authorisation_id.choices = _authorisation_choices(village.id)
    if form.validate_on_submit() and _authorisation_or_error(form, village.id) is not False:
        auth = _authorisation_or_error(form, village.id)
        try:
            proposal = services.create_proposal(village, current_user, title=form.title.data, body=form.body.data,
                                                matter_category=form.matter_category.data,
                                                deciding_body=form.deciding_body.data)
            if auth is not None:
                services.edit_draft(proposal, current_user, title=form.title.data, body=form.body.data, note=None,
                                    matter_category=form.matter_category.data, deciding_body=form.deciding_body.data,
                                    authorisation=auth)
        except services.DeliberationError as exc:
            db.session.rollback()
            form.title.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("The draft is saved."), "info")
            return redirect(url_for("deliberation.proposal_detail", proposal_id=proposal.id))
    return render_template("deliberation/proposal_form.html", form=form, village=village, proposal=None), \
        (400 if form.errors else 200)


@bp.route("/proposals/<int:proposal_id>/edit", methods=["GET", "POST"])
@login_required
def proposal_edit(proposal_id: int):
    proposal = _proposal_or_404(proposal_id)
    require(can_edit_proposal(current_user, proposal))
    form = ProposalForm(obj=None if request.method == "POST" else proposal)
    form.authorisation_id.choices = _authorisation_choices(proposal.village_id)
    if request.method == "GET":
        form.body.data = proposal.body
        form.authorisation_id.data = str(proposal.authorisation_id or "")
    if form.validate_on_submit() and _authorisation_or_error(form, proposal.village_id) is not False:
        auth = _authorisation_or_error(form, proposal.village_id)
        try:
            services.edit_draft(proposal, current_user, title=form.title.data, body=form.body.data,
                                note=form.note.data, matter_category=form.matter_category.data,
                                deciding_body=form.deciding_body.data, authorisation=auth)
        except services.DeliberationError as exc:
            db.session.rollback()
            form.body.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("The draft is saved."), "info")
            return redirect(url_for("deliberation.proposal_detail", proposal_id=proposal.id))
    return render_template("deliberation/proposal_form.html", form=form, village=proposal.village,
                           proposal=proposal), (400 if form.errors else 200)


def _timeline(proposal: Proposal):
    """Every stage in order: done (with when and who), current, or not reached."""
    entered = {change.to_stage: change for change in proposal.history}
    current = engine.stage_index(proposal.stage)
    off_path = proposal.stage in ("rejected", "withdrawn")
    rows = []
    for i, stage in enumerate(STAGES):
        if off_path:
            state = "done" if stage in entered or stage == "draft" else "todo"
        else:
            state = "done" if i < current else "current" if i == current else "todo"
        rows.append({"stage": stage, "state": state, "change": entered.get(stage)})
    if off_path:
        rows.append({"stage": proposal.stage, "state": "current", "change": entered.get(proposal.stage)})
    return rows


def _render_detail(proposal: Proposal, **forms):
    """The proposal page; a refused move passes its form back so the reason typed stays."""
    context = {"transition_form": TransitionForm(), "deadline_form": DeadlineForm(), "notice_form": NoticeForm(),
               "correction_form": NoticeCorrectionForm(formdata=None), "notice_facts": notice_facts(proposal), **forms}
    return render_template("deliberation/proposal_detail.html", proposal=proposal, timeline=_timeline(proposal),
                           blockers=engine.blockers(proposal), next_step=engine.next_step(proposal),
                           next_stage_needs=engine.next_stage_needs(proposal),
                           unheard=hooks.unheard_stakeholders(proposal) if proposal.stage == "topic_consultation" else [],
                           moves=engine.available_moves(current_user, proposal), **context)


@bp.get("/proposals/<int:proposal_id>")
@login_required
def proposal_detail(proposal_id: int):
    proposal = _proposal_or_404(proposal_id)
    if hooks.close_poll_if_due(proposal):
        db.session.refresh(proposal)
    return _render_detail(proposal)


@bp.post("/proposals/<int:proposal_id>/move")
@login_required
def proposal_move(proposal_id: int):
    """Every move is the engine's to allow or refuse; its refusal is shown with its reasons."""
    proposal = _proposal_or_404(proposal_id)
    form = TransitionForm()
    if form.validate_on_submit():
        try:
            engine.transition(proposal, form.to.data, current_user, form.reason.data)
        except engine.InvalidTransition as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return _render_detail(proposal, transition_form=form, refused_to=form.to.data), 400
        db.session.commit()
        flash(_("Done: the proposal is now in “%(stage)s”.", stage=STAGE_LABELS[proposal.stage]), "info")
    return redirect(url_for("deliberation.proposal_detail", proposal_id=proposal.id))


def _manage(proposal_id: int) -> Proposal:
    proposal = _proposal_or_404(proposal_id)
    require(can_manage_proposal(current_user, proposal))
    return proposal


def _done_or_error(proposal: Proposal, action, message: str):
    try:
        action()
    except services.DeliberationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(message, "info")
    return redirect(url_for("deliberation.proposal_detail", proposal_id=proposal.id))


@bp.post("/proposals/<int:proposal_id>/close-topic")
@login_required
def proposal_close_topic(proposal_id: int):
    proposal = _manage(proposal_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    unheard = hooks.unheard_stakeholders(proposal)
    if unheard:  # a warning, not a block: the summary records them
        flash(_("%(n)d directly affected household(s) or person(s) were not heard: %(names)s. The consultation "
                "summary records them.", n=len(unheard), names="、".join(unheard) if str(get_locale()).startswith("zh")
                else ", ".join(unheard)), "warning")
    return _done_or_error(proposal, lambda: services.close_topic_consultation(proposal, current_user),
                          _("The topic consultation is closed."))


def _record_notice_fact(proposal: Proposal, form, action, message: str):
    """A notice (or its correction) is a fact the service dates; a refusal is shown on
    the field it concerns, with what was typed."""
    if form.validate_on_submit():
        try:
            action()
        except services.FactDateError as exc:
            db.session.rollback()
            getattr(form, exc.field, form.when).errors = [str(exc)]
        except services.DeliberationError as exc:
            db.session.rollback()
            form.when.errors = [str(exc)]
        else:
            db.session.commit()
            flash(message, "info")
            return redirect(url_for("deliberation.proposal_detail", proposal_id=proposal.id))
    name = "correction_form" if isinstance(form, NoticeCorrectionForm) else "notice_form"
    return _render_detail(proposal, **{name: form}), 400


@bp.post("/proposals/<int:proposal_id>/announce")
@login_required
def proposal_announce(proposal_id: int):
    proposal = _manage(proposal_id)
    form = NoticeForm()
    return _record_notice_fact(proposal, form, lambda: services.announce_assembly(
        proposal, current_user, form.when.data, paper_note=form.paper_note.data),
        _("The announcement of the villagers' vote is recorded."))


@bp.post("/proposals/<int:proposal_id>/party-plan")
@login_required
def proposal_party_plan(proposal_id: int):
    proposal = _manage(proposal_id)
    form = NoticeForm()
    return _record_notice_fact(proposal, form, lambda: services.send_party_plan(
        proposal, current_user, form.when.data, paper_note=form.paper_note.data),
        _("Sending the plan to the Party members is recorded."))


@bp.post("/proposals/<int:proposal_id>/notice-correction")
@login_required
def proposal_notice_correction(proposal_id: int):
    """A recorded notice date is corrected by a new fact with its reason (the township sees it)."""
    proposal = _manage(proposal_id)
    form = NoticeCorrectionForm()
    return _record_notice_fact(proposal, form, lambda: services.correct_notice(
        proposal, current_user, form.kind.data, form.when.data, reason=form.reason.data,
        paper_note=form.paper_note.data), _("The correction is recorded; the township sees it."))


@bp.post("/proposals/<int:proposal_id>/deadline")
@login_required
def proposal_deadline(proposal_id: int):
    proposal = _manage(proposal_id)
    form = DeadlineForm()
    if not form.validate_on_submit():
        flash(_("Please give the date and time like 2026-12-01 18:00."), "error")
        return redirect(url_for("deliberation.proposal_detail", proposal_id=proposal.id))
    return _done_or_error(proposal, lambda: services.set_stage_deadline(
        proposal, current_user, clock.from_local(form.deadline.data) if form.deadline.data else None),
                          _("The deadline is saved."))


@bp.get("/proposals/<int:proposal_id>/versions")
@login_required
def version_history(proposal_id: int):
    proposal = _proposal_or_404(proposal_id)
    return render_template("deliberation/versions.html", proposal=proposal)


@bp.get("/proposals/<int:proposal_id>/diff")
@login_required
def version_diff(proposal_id: int):
    proposal = _proposal_or_404(proposal_id)
    last = proposal.current_version.number
    a = request.args.get("a", type=int) or max(1, last - 1)
    b = request.args.get("b", type=int) or last
    old, new = proposal.version(a), proposal.version(b)
    if old is None or new is None:
        abort(404)
    title_lines = diff_texts(old.title, new.title)
    lines = diff_texts(old.body, new.body)
    return render_page_or_partial("deliberation/version_diff.html", "deliberation/_diff.html", proposal=proposal,
                                  old=old, new=new, lines=lines, title_lines=title_lines,
                                  changed=has_changes(lines) or has_changes(title_lines))


from app.deliberation import views_suggestions  # noqa: E402,F401  (routes on the same blueprint)
