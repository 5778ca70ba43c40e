"""The village's rule profile (村规则): the committee chooses within what the law and the
province allow; the township approves; both are audited."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts import services
from app.accounts.forms import ApproveRulesForm, RuleProfileForm
from app.accounts.models import Village
from app.accounts.permissions import can_approve_rule_profile, can_edit_rule_profile, can_view_rule_profile
from app.accounts.views import bp
from app.extensions import db
from app.permissions import require


def _village(village_id: int) -> Village:
    village = db.get_or_404(Village, village_id)
    require(can_view_rule_profile(current_user, village))
    return village


@bp.route("/villages/<int:village_id>/rules", methods=["GET", "POST"])
@login_required
def rule_profile(village_id: int):
    village = _village(village_id)
    if request.method == "GET":
        form = RuleProfileForm(data=RuleProfileForm.data_of(village.rule_profile))
    else:
        require(can_edit_rule_profile(current_user, village))
        form = RuleProfileForm()
        if form.validate_on_submit():
            try:
                services.update_rule_profile(village, current_user, form.values())
            except services.AccountError as exc:
                db.session.rollback()
                flash(str(exc), "error")
            else:
                db.session.commit()
                flash(_("The rule profile is saved. It waits for the township's approval."), "info")
                return redirect(url_for("accounts.rule_profile", village_id=village.id))
    return render_template("accounts/rule_profile.html", village=village, profile=village.rule_profile, form=form,
                           approve_form=ApproveRulesForm(), labels=services.RULE_PROFILE_LABELS,
                           ranges=village.rule_profile.DAY_RANGES), (400 if form.errors else 200)


@bp.post("/villages/<int:village_id>/rules/approve")
@login_required
def approve_rule_profile(village_id: int):
    village = _village(village_id)
    require(can_approve_rule_profile(current_user, village))
    if not ApproveRulesForm().validate_on_submit():
        flash(_("Please try again."), "error")
        return redirect(url_for("accounts.rule_profile", village_id=village.id))
    try:
        services.approve_rule_profile(village, current_user)
    except services.AccountError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("The rule profile is approved."), "info")
    return redirect(url_for("accounts.rule_profile", village_id=village.id))
