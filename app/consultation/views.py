"""Pages of the two consultations: the threads (htmx and plain forms), stakeholders,
the consultation summary, disagreement items, amendments and the sense check."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from app.accounts.models import Person
from app.consultation import api, services
from app.consultation import permissions as perm
from app.consultation.forms import (
    AMENDMENT_STATUS_LABELS, SENSE_LABELS, STANCE_HINTS, STANCE_LABELS, STATUS_LABELS, THREAD_LABELS,
    AcceptAmendmentForm, AmendmentForm, CarryForm, DeclineAmendmentForm, DisagreementForm, HideForm, PostForm,
    ReplyForm, ResolveForm, SenseCheckForm, StakeholderForm, SummaryForm,
)
from app.consultation.models import THREADS, Amendment, Disagreement, Post
from app.deliberation.models import Proposal
from app.extensions import db
from app.htmx import is_partial_request, render_page_or_partial
from app.loaders import in_proposal, in_village
from app.permissions import require

bp = Blueprint("consultation", __name__)


@bp.record_once
def _template_globals(state):
    """Globals, not a context processor: the macros in consultation/_macros.html need them
    without being imported with context."""
    state.app.jinja_env.globals.update({"consultation": api, "STANCE_LABELS": STANCE_LABELS, "STANCE_HINTS": STANCE_HINTS,
            "THREAD_LABELS": THREAD_LABELS, "SENSE_LABELS": SENSE_LABELS,
            "DISAGREEMENT_STATUS_LABELS": STATUS_LABELS, "AMENDMENT_STATUS_LABELS": AMENDMENT_STATUS_LABELS,
            "proposal_page_url": proposal_page_url, "version_diff_url": version_diff_url})


def proposal_page_url(proposal) -> str | None:
    if "deliberation.proposal_detail" in current_app.view_functions:
        return url_for("deliberation.proposal_detail", proposal_id=proposal.id)
    return None


def version_diff_url(proposal, a: int, b: int) -> str | None:
    if "deliberation.version_diff" in current_app.view_functions:
        return url_for("deliberation.version_diff", proposal_id=proposal.id, a=a, b=b)
    return None


def _proposal(proposal_id: int) -> Proposal:
    """The proposal, or 404 for anyone who may not read it (other villages learn nothing)."""
    proposal = db.get_or_404(Proposal, proposal_id)
    if not perm.can_view_consultation(current_user, proposal):
        abort(404)
    return proposal


def _post(post_id: int) -> Post:
    post = db.get_or_404(Post, post_id)
    _proposal(post.proposal_id)
    return post


def _kind(kind: str) -> str:
    if kind not in THREADS:
        abort(404)
    return kind


def _status(code: int) -> int:
    # htmx 2 swaps only 2xx answers: a refused htmx post gets its form back with the message.
    return 200 if is_partial_request() else code


def _post_form(proposal, kind, formdata=None) -> PostForm:
    form = PostForm(formdata=formdata) if formdata is not None else PostForm(formdata=None)
    if perm.can_post_for_others(current_user, proposal, kind):
        people = db.session.scalars(select(Person).where(Person.village_id == proposal.village_id,
                                                         Person.active.is_(True)).order_by(Person.name)).all()
        form.on_behalf_of.choices = [SelectChoice("", _("My own opinion"))] + [
            SelectChoice(str(p.id), p.name + (f"（{p.household.number}）" if p.household else "")) for p in people]
    return form


def _render_thread(proposal, kind, *, form=None, reply_to=None, reply_form=None, error=None, notice=None,
                   status=200, page=1):
    if reply_to is not None:  # the refused reply is shown under its post, on that post's page
        page = api.thread_page_of(db.session.get(Post, reply_to))
    posts, total = api.thread_page(proposal, kind, page)
    return render_page_or_partial(
        "consultation/thread.html", "consultation/_thread.html", status=_status(status),
        proposal=proposal, kind=kind, form=form or _post_form(proposal, kind), reply_to=reply_to,
        reply_form=reply_form, error=error, notice=notice, posts=posts, total=total, page_number=page,
        pages=max(1, -(-total // api.THREAD_PAGE_SIZE)), counts=api.stance_counts(proposal, kind))


def _page_arg() -> int:
    page = request.args.get("page", "1")
    return int(page) if page.isdigit() and 0 < int(page) < 100000 else 1


def _thread_url(post: Post, anchor_post: Post) -> str:
    page = api.thread_page_of(post)
    return url_for("consultation.thread", proposal_id=post.proposal_id, kind=post.thread,
                   page=page if page > 1 else None, _anchor=f"post-{anchor_post.id}")


@bp.get("/proposals/<int:proposal_id>/consultation/<kind>")
@login_required
def thread(proposal_id: int, kind: str):
    proposal, kind = _proposal(proposal_id), _kind(kind)
    return _render_thread(proposal, kind, page=_page_arg())


@bp.post("/proposals/<int:proposal_id>/consultation/<kind>/posts")
@login_required
def add_post(proposal_id: int, kind: str):
    proposal, kind = _proposal(proposal_id), _kind(kind)
    form = _post_form(proposal, kind, formdata=request.form)
    if not perm.can_post(current_user, proposal, kind):
        return _render_thread(proposal, kind, form=form, status=403,
                              error=_("This consultation is not open for opinions now."))
    if not form.validate():
        return _render_thread(proposal, kind, form=form, status=400)
    on_behalf = None
    if form.on_behalf_of.data:
        on_behalf = in_village(Person, form.on_behalf_of.data, proposal.village_id)
        if on_behalf is None:
            form.on_behalf_of.errors = [_("This person is not a villager of this village. Please choose from the list.")]
            return _render_thread(proposal, kind, form=form, status=400)
    try:
        post = services.add_post(proposal, current_user, thread=kind, stance=form.stance.data, body=form.body.data,
                                 on_behalf_of=on_behalf)
    except services.ConsultationError as exc:
        return _render_thread(proposal, kind, form=form, error=str(exc), status=400)
    db.session.commit()
    if is_partial_request():
        return _render_thread(proposal, kind, notice=_("Your opinion is posted."))
    flash(_("Your opinion is posted."), "info")
    return redirect(url_for("consultation.thread", proposal_id=proposal.id, kind=kind, _anchor=f"post-{post.id}"))


@bp.post("/consultation/posts/<int:post_id>/replies")
@login_required
def add_reply(post_id: int):
    parent = _post(post_id)
    proposal, kind = parent.proposal, parent.thread
    form = ReplyForm()
    if not perm.can_post(current_user, proposal, kind):
        return _render_thread(proposal, kind, reply_to=parent.id, reply_form=form, status=403,
                              error=_("This consultation is not open for opinions now."))
    if not form.validate():
        return _render_thread(proposal, kind, reply_to=parent.id, reply_form=form, status=400)
    try:
        reply = services.add_reply(parent, current_user, body=form.body.data)
    except services.ConsultationError as exc:
        return _render_thread(proposal, kind, reply_to=parent.id, reply_form=form, error=str(exc), status=400)
    db.session.commit()
    if is_partial_request():
        return _render_thread(proposal, kind, notice=_("Your reply is posted."))
    flash(_("Your reply is posted."), "info")
    return redirect(_thread_url(parent, reply))


def _back_to_thread(post: Post):
    return redirect(_thread_url(post, post))


@bp.post("/consultation/posts/<int:post_id>/hide")
@login_required
def hide_post(post_id: int):
    post = _post(post_id)
    require(perm.can_moderate(current_user, post))
    form = HideForm()
    if form.validate():
        services.hide_post(post, current_user, reason=form.reason.data)
        db.session.commit()
        flash(_("The post is hidden. The author and the township can see why."), "info")
    else:
        flash(_("Please give the reason for hiding this post."), "error")
    return _back_to_thread(post)


@bp.post("/consultation/posts/<int:post_id>/disagreement")
@login_required
def register_disagreement(post_id: int):
    post = _post(post_id)
    require(perm.can_register_disagreement(current_user, post))
    form = DisagreementForm()
    if form.validate():
        services.register_disagreement(post, current_user, title=form.title.data)
        db.session.commit()
        flash(_("The disagreement item is registered."), "info")
        return redirect(url_for("consultation.disagreements", proposal_id=post.proposal_id))
    flash(_("Please name the point of disagreement."), "error")
    return _back_to_thread(post)


def _render_disagreements(proposal, *, amendment_form=None, status=200):
    return render_template(
        "consultation/disagreements.html", proposal=proposal, items=api.disagreements_of(proposal),
        amendments=api.amendments_of(proposal), amendment_form=amendment_form or AmendmentForm(
            formdata=None, data={"body": proposal.body}),
        sense_form=SenseCheckForm(formdata=None, data={"choice": api.my_sense(proposal, current_user)}),
        sense=api.sense_counts(proposal)), status


@bp.get("/proposals/<int:proposal_id>/consultation/disagreements")
@login_required
def disagreements(proposal_id: int):
    return _render_disagreements(_proposal(proposal_id))


def _item(item_id: int) -> Disagreement:
    item = db.get_or_404(Disagreement, item_id)
    _proposal(item.proposal_id)
    return item


def _settle(item_id: int, form, settle, done: str, missing: str):
    """Resolve or carry an item: the two differ only in their form, service and words."""
    item = _item(item_id)
    require(perm.can_close_disagreement(current_user, item))
    if form.validate():
        settle(item, form)
        db.session.commit()
        flash(done, "info")
    else:
        flash(missing, "error")
    return redirect(url_for("consultation.disagreements", proposal_id=item.proposal_id, _anchor=f"item-{item.id}"))


@bp.post("/consultation/disagreements/<int:item_id>/resolve")
@login_required
def resolve_disagreement(item_id: int):
    return _settle(item_id, ResolveForm(),
                   lambda item, f: services.resolve_disagreement(item, current_user, resolution=f.resolution.data),
                   _("The item is resolved."), _("Please write how it was resolved."))


@bp.post("/consultation/disagreements/<int:item_id>/carry")
@login_required
def carry_disagreement(item_id: int):
    return _settle(item_id, CarryForm(),
                   lambda item, f: services.carry_disagreement(item, current_user, reason=f.reason.data),
                   _("The item is carried forward, with its reason, to the vote."),
                   _("Please write why the disagreement stays."))


@bp.post("/proposals/<int:proposal_id>/consultation/amendments")
@login_required
def propose_amendment(proposal_id: int):
    proposal = _proposal(proposal_id)
    require(perm.can_propose_amendment(current_user, proposal))
    form = AmendmentForm()
    if form.validate():
        item = None
        if form.disagreement_id.data:
            item = in_proposal(Disagreement, form.disagreement_id.data, proposal.id)
            if item is None:
                abort(404)
        try:
            services.propose_amendment(proposal, current_user, body=form.body.data, note=form.note.data,
                                       disagreement=item)
        except services.ConsultationError as exc:
            form.body.errors = [str(exc)]
        else:
            db.session.commit()
            flash(_("The amendment is proposed. The committee decides whether to take it into the text."), "info")
            return redirect(url_for("consultation.disagreements", proposal_id=proposal.id, _anchor="amendments"))
    return _render_disagreements(proposal, amendment_form=form, status=400)


def _amendment(amendment_id: int) -> Amendment:
    amendment = db.get_or_404(Amendment, amendment_id)
    _proposal(amendment.proposal_id)
    return amendment


@bp.post("/consultation/amendments/<int:amendment_id>/accept")
@login_required
def accept_amendment(amendment_id: int):
    amendment = _amendment(amendment_id)
    require(perm.can_decide_amendment(current_user, amendment))
    form = AcceptAmendmentForm()
    if form.validate():
        try:
            services.accept_amendment(amendment, current_user, resolution=form.resolution.data)
        except services.ConsultationError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("The amendment is accepted: the text now has version %(n)d.", n=amendment.version.number), "info")
    return redirect(url_for("consultation.disagreements", proposal_id=amendment.proposal_id,
                            _anchor=f"amendment-{amendment.id}"))


@bp.post("/consultation/amendments/<int:amendment_id>/decline")
@login_required
def decline_amendment(amendment_id: int):
    amendment = _amendment(amendment_id)
    require(perm.can_decide_amendment(current_user, amendment))
    form = DeclineAmendmentForm()
    if form.validate():
        services.decline_amendment(amendment, current_user, reason=form.reason.data)
        db.session.commit()
        flash(_("The amendment is declined."), "info")
    else:
        flash(_("Please give the reason for declining."), "error")
    return redirect(url_for("consultation.disagreements", proposal_id=amendment.proposal_id,
                            _anchor=f"amendment-{amendment.id}"))


@bp.post("/proposals/<int:proposal_id>/consultation/sense-check")
@login_required
def sense_check(proposal_id: int):
    proposal = _proposal(proposal_id)
    require(perm.can_sense_check(current_user, proposal))
    form = SenseCheckForm()
    if form.validate():
        services.set_sense_check(proposal, current_user, form.choice.data)
        db.session.commit()
    if is_partial_request():
        return render_page_or_partial("consultation/disagreements.html", "consultation/_sense_check.html",
                                      proposal=proposal, sense=api.sense_counts(proposal), sense_form=SenseCheckForm(
                                          formdata=None, data={"choice": api.my_sense(proposal, current_user)}))
    flash(_("Thank you. You can change your answer until the consultation ends."), "info")
    return redirect(url_for("consultation.disagreements", proposal_id=proposal.id, _anchor="sense-check"))


@bp.route("/proposals/<int:proposal_id>/consultation/stakeholders", methods=["GET", "POST"])
@login_required
def stakeholders(proposal_id: int):
    proposal = _proposal(proposal_id)
    form = StakeholderForm()
    if request.method == "POST":
        require(perm.can_list_stakeholders(current_user, proposal))
        if form.validate():
            try:
                services.add_stakeholder(proposal, current_user, number=form.number.data, reason=form.reason.data)
            except services.ConsultationError as exc:
                form.number.errors = [str(exc)]
            else:
                db.session.commit()
                flash(_("Listed as directly affected."), "info")
                return redirect(url_for("consultation.stakeholders", proposal_id=proposal.id))
    return render_template("consultation/stakeholders.html", proposal=proposal, form=form,
                           rows=api.stakeholders_of(proposal), coverage=api.coverage(proposal)), (
        400 if form.errors else 200)


@bp.route("/proposals/<int:proposal_id>/consultation/summary", methods=["GET", "POST"])
@login_required
def summary(proposal_id: int):
    proposal = _proposal(proposal_id)
    existing = api.summary_of(proposal)
    form = SummaryForm(obj=existing)
    if request.method == "POST":
        require(perm.can_write_summary(current_user, proposal))
        if form.validate():
            services.write_summary(proposal, current_user, heard=form.heard.data, answer=form.answer.data)
            db.session.commit()
            flash(_("The consultation summary is saved. It is shown with the proposal from now on."), "info")
            return redirect(url_for("consultation.summary", proposal_id=proposal.id))
    return render_template("consultation/summary.html", proposal=proposal, form=form, summary=existing,
                           counts=api.stance_counts(proposal, "topic"), coverage=api.coverage(proposal)), (
        400 if form.errors else 200)
