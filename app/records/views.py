"""Pages of the records area for the village: objections during the notice period,
implementation reports and their photos. The township's pages are in
views_oversight.py, the public notice board in views_board.py, all on one blueprint."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.extensions import db
from app.main.menu import Link, menu_provider
from app.permissions import require
from app.records import services
from app.records.forms import AnswerForm, FilingForm, ObjectionForm, OpinionForm, ReasonForm, ReportForm
from app.records.models import Objection, Report, ReportPhoto

bp = Blueprint("records", __name__, cli_group=None)


def load_proposal(proposal_id: int):
    """The proposal, or 404 when it does not exist or is not the user's to read (the same
    permission as the proposal page: a draft is the committees' alone)."""
    from app.deliberation.models import Proposal
    from app.deliberation.permissions import can_view_proposal

    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or not can_view_proposal(current_user, proposal):
        abort(404)
    return proposal


def _back(proposal):
    return redirect(url_for("records.proposal_records", proposal_id=proposal.id) + "#records")


def refusal_text(exc: Exception) -> str:
    """An engine or service refusal in words (the engine's str() lists its problems)."""
    return str(exc)


def _form_errors(form) -> None:
    for errors in form.errors.values():
        for e in errors:
            flash(str(e), "error")


def _reshow(proposal, kind: str, form):
    """A refused form again, with its message beside the field and what was typed."""
    g.records_refused = {kind: form}
    return render_template("records/proposal_records.html", proposal=proposal), 400


@bp.get("/proposals/<int:proposal_id>/publication")
@login_required
def proposal_records(proposal_id: int):
    """Objections, reports and the filing of one proposal (also included on the proposal page)."""
    proposal = load_proposal(proposal_id)
    return render_template("records/proposal_records.html", proposal=proposal)


@bp.post("/proposals/<int:proposal_id>/objections")
@login_required
def file_objection(proposal_id: int):
    from app.records.permissions import can_object

    proposal = load_proposal(proposal_id)
    require(can_object(current_user, proposal))
    form = ObjectionForm()
    if not form.validate_on_submit():
        return _reshow(proposal, "objection", form)
    services.file_objection(proposal, current_user, form.body.data)
    db.session.commit()
    flash(_("Your objection was filed. The supervision committee must answer it."), "info")
    return _back(proposal)


@bp.post("/objections/<int:objection_id>/answer")
@login_required
def answer_objection(objection_id: int):
    from app.records.permissions import can_answer_objection

    objection = db.session.get(Objection, objection_id) or abort(404)
    proposal = load_proposal(objection.proposal_id)
    require(can_answer_objection(current_user, objection))
    form = AnswerForm(prefix=f"a{objection.id}")
    if not form.validate_on_submit():
        _form_errors(form)
        return _back(proposal)
    services.answer_objection(objection, current_user, form.answer.data, form.upheld.data == "yes")
    db.session.commit()
    flash(_("The answer was recorded."), "info")
    return _back(proposal)


@bp.post("/proposals/<int:proposal_id>/send-back")
@login_required
def send_back(proposal_id: int):
    from app.deliberation.engine import InvalidTransition
    from app.records.permissions import can_offer_send_back

    proposal = load_proposal(proposal_id)
    require(can_offer_send_back(current_user, proposal))
    form = ReasonForm()
    if not form.validate_on_submit():
        _form_errors(form)
        return _back(proposal)
    try:
        services.send_back(proposal, current_user, form.reason.data)
    except InvalidTransition as exc:
        db.session.rollback()
        flash(refusal_text(exc), "error")
        return _back(proposal)
    db.session.commit()
    flash(_("The proposal went back to the consensus consultation."), "info")
    return _back(proposal)


@bp.post("/proposals/<int:proposal_id>/reports")
@login_required
def post_report(proposal_id: int):
    from app.records.permissions import can_post_report

    proposal = load_proposal(proposal_id)
    require(can_post_report(current_user, proposal))
    form = ReportForm()
    if not form.validate_on_submit():
        return _reshow(proposal, "report", form)
    photos = []
    for upload in request.files.getlist(form.photos.name):
        if not upload or not upload.filename:
            continue  # no file chosen in that box
        data = upload.read()
        try:
            services.check_photo(data)  # each photo named in its refusal: empty, too large, wrong type
        except services.RecordsError as exc:
            form.photos.errors = [*form.photos.errors, _("“%(name)s”: %(problem)s", name=upload.filename,
                                                         problem=str(exc))]
        photos.append(data)
    if form.photos.errors:
        return _reshow(proposal, "report", form)
    try:
        services.post_report(proposal, current_user, form.body.data, final=form.final.data, photos=photos)
    except services.RecordsError as exc:
        db.session.rollback()
        form.body.errors = [str(exc)]
        return _reshow(proposal, "report", form)
    db.session.commit()
    flash(_("The report was posted."), "info")
    return _back(proposal)


@bp.post("/reports/<int:report_id>/opinion")
@login_required
def give_opinion(report_id: int):
    from app.records.permissions import can_give_opinion

    report = db.session.get(Report, report_id) or abort(404)
    proposal = load_proposal(report.proposal_id)
    require(can_give_opinion(current_user, report))
    form = OpinionForm(prefix=f"o{report.id}")
    if not form.validate_on_submit():
        _form_errors(form)
        return _back(proposal)
    services.give_opinion(report, current_user, form.opinion.data)
    db.session.commit()
    flash(_("The opinion was recorded."), "info")
    return _back(proposal)


def send_photo(item: ReportPhoto, *, thumbnail: bool = False, public: bool = False):
    """A stored photo (re-encoded without metadata at upload) or its thumbnail."""
    path = services.thumbnail_path(item) if thumbnail else services.photo_path(item)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype="image/jpeg" if thumbnail else item.content_type, max_age=0,
                         conditional=True)
    response.headers["Cache-Control"] = f"{'public' if public else 'private'}, max-age=3600"
    response.headers["Content-Disposition"] = "inline"
    return response


def _viewable_photo(photo_id: int) -> ReportPhoto:
    from app.records.permissions import can_view_photo

    item = db.session.get(ReportPhoto, photo_id)
    if item is None or not can_view_photo(current_user, item):
        abort(404)
    return item


@bp.get("/photos/<int:photo_id>")
@login_required
def photo(photo_id: int):
    return send_photo(_viewable_photo(photo_id))


@bp.get("/photos/<int:photo_id>/thumbnail")
@login_required
def photo_thumbnail(photo_id: int):
    return send_photo(_viewable_photo(photo_id), thumbnail=True)


@bp.app_context_processor
def _records_context():
    from app.records import api, permissions, record
    from app.records.audit_trail import chain_label

    def _form(kind, cls):
        # The form a refusal re-shows, else an empty one (never filled from another form's post).
        return lambda **kw: g.get("records_refused", {}).get(kind) or cls(formdata=None, **kw)

    return {"records_forms": {"objection": _form("objection", ObjectionForm), "answer": AnswerForm,
                              "reason": _form("reason", ReasonForm), "report": _form("report", ReportForm),
                              "opinion": _form("opinion", OpinionForm)},
            "records_objections": record.objections_of, "records_reports": record.reports_of,
            "records_filing": record.filing_of, "records_notice_ends": permissions.notice_period_ends,
            "records_upheld_count": api.upheld_objection_count, "records_forms_filing": FilingForm,
            "records_roster": record.sign_in_roster, "records_paper_ballots": record.paper_ballots,
            "records_stage_label": stage_label, "records_checkpoint": views_board.checkpoint_for_display,
            "records_chain_label": chain_label}


@bp.app_template_filter("records_when")
def records_when(value) -> str:
    """A stored UTC time in the reader's zone (Beijing by default), to the minute."""
    from app import clock

    return clock.format_time(value) if value else ""


def stage_label(code: str | None):
    """The stage's name in the reader's language (the deliberation area's labels)."""
    try:
        from app.deliberation.stages import STAGE_LABELS
    except ModuleNotFoundError:
        return code or ""
    return STAGE_LABELS.get(code, code or "")


@menu_provider
def _records_links(user):
    """Home-page links: the township dashboard for overseers, the notice board for villagers."""
    from app.records.dashboard import townships_for

    links = []
    from app.records.dashboard import counties_for

    if counties_for(user):
        links.append(Link(_("County overview"), url_for("records.oversight")))
    elif townships_for(user):
        links.append(Link(_("Township dashboard"), url_for("records.oversight")))
    if getattr(user, "village", None) is not None:
        links.append(Link(_("Notice board"), url_for("records.board", village_id=user.village.id)))
    return links


from app.records import views_board, views_oversight  # noqa: E402,F401  (routes on the same blueprint)
