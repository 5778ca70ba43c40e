"""Suggestions (议题征集): file, co-sign, and the committee's answer or acceptance."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.accounts.models import Village
from app.deliberation import services
from app.deliberation.forms import AnswerForm, AuthorisationForm, ConfirmForm, SuggestionForm
from app.deliberation.models import Authorisation, Suggestion
from app.deliberation.permissions import (
    can_answer_suggestion, can_cosign, can_record_authorisation, can_suggest, can_view_suggestions,
)
from app.deliberation.views import PROPOSALS_PER_PAGE, bp
from app.extensions import db
from app.permissions import require


def _suggestion_or_404(suggestion_id: int) -> Suggestion:
    suggestion = db.get_or_404(Suggestion, suggestion_id)
    if not can_view_suggestions(current_user, suggestion.village):
        abort(404)
    return suggestion


@bp.route("/villages/<int:village_id>/suggestions", methods=["GET", "POST"])
@login_required
def suggestion_list(village_id: int):
    village = db.get_or_404(Village, village_id)
    require(can_view_suggestions(current_user, village))
    form = SuggestionForm()
    if form.is_submitted():
        require(can_suggest(current_user, village))
    if form.validate_on_submit():
        try:
            suggestion = services.file_suggestion(village, current_user, title=form.title.data, body=form.body.data)
        except services.DeliberationError as exc:
            db.session.rollback()
            form.body.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Your suggestion is filed. Others can now co-sign it."), "info")
            return redirect(url_for("deliberation.suggestion_detail", suggestion_id=suggestion.id))
    page = db.paginate(select(Suggestion).where(Suggestion.village_id == village.id)
                       .options(selectinload(Suggestion.signatures)).order_by(Suggestion.id.desc()),
                       per_page=PROPOSALS_PER_PAGE, max_per_page=PROPOSALS_PER_PAGE, error_out=False)
    return render_template("deliberation/suggestions.html", village=village, suggestions=page.items, pager=page,
                           form=form, overdue=services.suggestion_overdue), (400 if form.errors else 200)


def _render_suggestion(suggestion: Suggestion, answer_form: AnswerForm):
    adults, reps = services.signature_counts(suggestion)
    return render_template("deliberation/suggestion_detail.html", suggestion=suggestion, answer_form=answer_form,
                           adults=adults, reps=reps, all_adults=services.adult_villager_count(suggestion.village),
                           overdue=services.suggestion_overdue(suggestion))


@bp.get("/suggestions/<int:suggestion_id>")
@login_required
def suggestion_detail(suggestion_id: int):
    suggestion = _suggestion_or_404(suggestion_id)
    return _render_suggestion(suggestion, AnswerForm())


@bp.post("/suggestions/<int:suggestion_id>/cosign")
@login_required
def suggestion_cosign(suggestion_id: int):
    suggestion = _suggestion_or_404(suggestion_id)
    require(can_cosign(current_user, suggestion))
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.cosign_suggestion(suggestion, current_user)
    db.session.commit()
    flash(_("You have co-signed this suggestion."), "info")
    return redirect(url_for("deliberation.suggestion_detail", suggestion_id=suggestion.id))


@bp.post("/suggestions/<int:suggestion_id>/accept")
@login_required
def suggestion_accept(suggestion_id: int):
    suggestion = _suggestion_or_404(suggestion_id)
    require(can_answer_suggestion(current_user, suggestion))
    if not ConfirmForm().validate_on_submit():
        abort(400)
    proposal = services.accept_suggestion(suggestion, current_user)
    db.session.commit()
    flash(_("The suggestion is taken up as a draft proposal."), "info")
    return redirect(url_for("deliberation.proposal_edit", proposal_id=proposal.id))


@bp.post("/suggestions/<int:suggestion_id>/answer")
@login_required
def suggestion_answer(suggestion_id: int):
    suggestion = _suggestion_or_404(suggestion_id)
    require(can_answer_suggestion(current_user, suggestion))
    form = AnswerForm()
    if form.validate_on_submit():
        try:
            services.answer_suggestion(suggestion, current_user, answer=form.answer.data)
        except services.DeliberationError as exc:
            db.session.rollback()
            form.answer.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Your answer is published with the suggestion."), "info")
            return redirect(url_for("deliberation.suggestion_detail", suggestion_id=suggestion.id))
    return _render_suggestion(suggestion, form), 400


@bp.route("/villages/<int:village_id>/authorisations", methods=["GET", "POST"])
@login_required
def authorisations(village_id: int):
    village = db.get_or_404(Village, village_id)
    require(can_view_suggestions(current_user, village))
    form = AuthorisationForm()
    if form.is_submitted():
        require(can_record_authorisation(current_user, village))
    if form.validate_on_submit():
        try:
            services.record_authorisation(village, current_user, matter_category=form.matter_category.data,
                                          granted_on=form.granted_on.data, valid_until=form.valid_until.data,
                                          reference=form.reference.data)
        except services.DeliberationError as exc:
            db.session.rollback()
            form.reference.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("The authorisation is recorded."), "info")
            return redirect(url_for("deliberation.authorisations", village_id=village.id))
    items = db.session.scalars(select(Authorisation).where(Authorisation.village_id == village.id)
                               .order_by(Authorisation.granted_on.desc())).all()
    return render_template("deliberation/authorisations.html", village=village, items=items, form=form), \
        (400 if form.errors else 200)
