"""The township's pages (dashboard, filing, chain check), the record API and the
exports (JSON, PDF, CSV, paper forms), and the export-record command."""
from __future__ import annotations

import csv
import io
import sys

import click
from flask import Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from app import clock
from app.accounts.models import County, Township, Village
from app.accounts.permissions import can_read_county
from app.deliberation.matters import BODY_LABELS, matter_label
from app.deliberation.stages import STAGE_LABELS
from app.extensions import db
from app.paging import Page, page_arg
from app.permissions import require
from app.records import dashboard, services
from app.records.forms import FilingForm
from app.records.permissions import (can_check_chain, can_file_record, can_list_records, can_oversee_township,
                                     can_view_audit_trail, can_view_record, PUBLIC_STAGES)
from app.records.record import build_record, record_json
from app.records.views import _form_errors, bp, load_proposal, refusal_text


# Oversight: county (县), township (乡镇) and village pages -----------------------------------

def _sort_arg() -> str:
    return request.args.get("sort") if request.args.get("sort") in dashboard.SORTS else "flags"


@bp.get("/oversight")
@login_required
def oversight():
    counties = dashboard.counties_for(current_user)
    townships = dashboard.townships_for(current_user)
    require(bool(townships or counties))
    if len(counties) == 1 and all(t.county_id == counties[0].id for t in townships):
        return redirect(url_for("records.county_page", county_id=counties[0].id))
    if len(townships) == 1 and not counties:
        return redirect(url_for("records.township_dashboard", township_id=townships[0].id))
    return render_template("records/oversight.html", townships=townships, counties=counties)


@bp.get("/oversight/counties/<int:county_id>")
@login_required
def county_page(county_id: int):
    """The county overseer's table of its townships, flags first (read-only)."""
    county = db.session.get(County, county_id) or abort(404)
    require(can_read_county(current_user, county))
    sort = _sort_arg()
    rows = dashboard.sort_rows(dashboard.township_counts(county.townships), sort)
    return render_template("records/county.html", county=county, rows=rows, sort=sort,
                           totals=dashboard.add_up(rows))


@bp.get("/oversight/townships/<int:township_id>")
@login_required
def township_dashboard(township_id: int):
    """The township's villages as one sortable table, flags first; each village's details
    are on its own page."""
    township = db.session.get(Township, township_id) or abort(404)
    require(can_oversee_township(current_user, township))
    sort = _sort_arg()
    rows = dashboard.sort_rows(dashboard.village_counts(dashboard.villages_of([township.id])), sort)
    return render_template("records/dashboard.html", township=township, sort=sort, totals=dashboard.add_up(rows),
                           pager=Page.of(rows, page_arg(), dashboard.PAGE_SIZE))


@bp.get("/oversight/villages/<int:village_id>")
@login_required
def village_oversight(village_id: int):
    """One village as its township (or county) sees it: proposals by stage, overdue items,
    compliance flags and records waiting for filing."""
    village = db.session.get(Village, village_id) or abort(404)
    require(can_oversee_township(current_user, village.township))
    return render_template("records/village_oversight.html", village=village, row=dashboard.village_details(village),
                           limit=dashboard.LIST_LIMIT)


@bp.post("/proposals/<int:proposal_id>/filing")
@login_required
def file_record(proposal_id: int):
    from app.deliberation.engine import InvalidTransition

    proposal = load_proposal(proposal_id)
    require(can_file_record(current_user, proposal))
    form = FilingForm()
    if not form.validate_on_submit():
        _form_errors(form)
        return redirect(url_for("records.proposal_records", proposal_id=proposal.id))
    try:
        services.file_record(proposal, current_user, form.comment.data)
    except (services.RecordsError, InvalidTransition) as exc:
        db.session.rollback()
        flash(refusal_text(exc), "error")
        return redirect(url_for("records.proposal_records", proposal_id=proposal.id))
    db.session.commit()
    flash(_("The record was filed and archived."), "info")
    return redirect(url_for("records.village_oversight", village_id=proposal.village_id))


TRAIL_PAGE = 100  # events a page of a proposal's audit trail


@bp.get("/proposals/<int:proposal_id>/audit")
@login_required
def audit_trail(proposal_id: int):
    """The proposal's audit trail in words, for its overseer and its committee."""
    from app.records.audit_trail import proposal_trail
    proposal = load_proposal(proposal_id)
    require(can_view_audit_trail(current_user, proposal))
    items = proposal_trail(proposal)
    # Every event is checked against its hash for the summary; the list comes in pages.
    return render_template("records/audit_trail.html", proposal=proposal, pager=Page.of(items, page_arg(), TRAIL_PAGE),
                           broken=sum(1 for i in items if not i.intact))


@bp.get("/oversight/audit")
@login_required
def chain_check():
    from app.records.integrity import verify_everything

    require(can_check_chain(current_user))
    result = verify_everything()
    return render_template("records/chain_check.html", report=result.chain, row_problems=result.rows,
                           checkpoint_problems=result.checkpoints), (200 if result.ok else 409)


# The record API (v1) -------------------------------------------------------------------

def _api_user_or_401():
    if not current_user.is_authenticated:
        abort(Response('{"error": "sign in first"}', 401, mimetype="application/json"))


def _api_json(status: int, message: str):
    return jsonify({"error": message}), status


def visible_proposals(village):
    """The village's proposals this person may read the record of."""
    from app.deliberation.models import Proposal

    rows = db.session.scalars(select(Proposal).where(Proposal.village_id == village.id).order_by(Proposal.id))
    return [p for p in rows if can_view_record(current_user, p)]


@bp.get("/api/v1/villages/<int:village_id>/proposals")
def api_proposals(village_id: int):
    _api_user_or_401()
    village = db.session.get(Village, village_id)
    if village is None or not can_list_records(current_user, village):
        return _api_json(404, "not found")
    return jsonify({"village_id": village.id, "proposals": [
        {"id": p.id, "title": p.title, "stage": p.stage} for p in visible_proposals(village)]})


def _readable_proposal(proposal_id: int):
    from app.deliberation.models import Proposal

    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None:
        return None, 404
    if not can_view_record(current_user, proposal):
        from app.accounts.permissions import can_view_village

        return None, (403 if can_view_village(current_user, proposal.village) else 404)
    return proposal, 200


def _note_export(proposal_id: int, fmt: str) -> None:
    """The export's audit event, written after the document was read: a GET reads in a
    plain transaction, which on SQLite cannot take the write lock once another writer
    committed after its first read, so the event gets a write transaction of its own."""
    from app.database import write_transaction
    from app.deliberation.models import Proposal

    with write_transaction(db.session):
        services.note_export(db.session.get(Proposal, proposal_id), current_user, fmt)


@bp.get("/api/v1/proposals/<int:proposal_id>/record")
def api_record(proposal_id: int):
    _api_user_or_401()
    proposal, status = _readable_proposal(proposal_id)
    if proposal is None:
        return _api_json(status, "not allowed" if status == 403 else "not found")
    body = record_json(proposal)
    _note_export(proposal.id, "json")
    return Response(body, mimetype="application/json")


@bp.cli.command("export-record")
@click.argument("proposal_id", type=int)
def export_record_command(proposal_id: int):
    """Print one proposal's complete record as JSON (an audit event notes the export)."""
    from app.deliberation.models import Proposal

    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None:
        click.echo(f"No proposal {proposal_id}.", err=True)
        sys.exit(1)
    click.echo(record_json(proposal))
    services.note_export(proposal, None, "json-cli")
    db.session.commit()


# Exports for people: PDF, CSV, paper forms ---------------------------------------------

def _cell(value):
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_row(writer, values):
    writer.writerow([_cell(v) for v in values])


def _record_or_abort(proposal_id: int):
    if not current_user.is_authenticated:
        abort(401)
    proposal, status = _readable_proposal(proposal_id)
    if proposal is None:
        abort(status)
    return proposal


@bp.get("/proposals/<int:proposal_id>/record.pdf")
@login_required
def record_pdf(proposal_id: int):
    from app.records.pdf import record_pdf as make_pdf

    proposal = _record_or_abort(proposal_id)
    data = make_pdf(build_record(proposal), proposal)
    _note_export(proposal.id, "pdf")
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="record-{proposal_id}.pdf"', "Cache-Control": "no-store"})


@bp.get("/villages/<int:village_id>/proposals.csv")
@login_required
def proposals_csv(village_id: int):
    village = db.session.get(Village, village_id)
    if village is None or not can_list_records(current_user, village):
        abort(404)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Number"), _("Title"), _("Matter category"), _("Deciding body"), _("Stage"),
                     _("In this stage since"), _("Overdue")])
    for p in visible_proposals(village):
        _csv_row(writer, [p.id, p.title, matter_label(p.matter_category) if p.matter_category else "",
                         BODY_LABELS.get(p.deciding_body, p.deciding_body), STAGE_LABELS.get(p.stage, p.stage),
                         clock.format_time(p.stage_entered_at), _("yes") if p.is_overdue() else _("no")])
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="village-{village.id}-proposals.csv"'})


@bp.get("/oversight/townships/<int:township_id>/flags.csv")
@login_required
def flags_csv(township_id: int):
    township = db.session.get(Township, township_id) or abort(404)
    require(can_oversee_township(current_user, township))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Village"), _("Number"), _("Title"), _("Stage"), _("Compliance flag"), _("Detail")])
    for village, proposal, flag in dashboard.township_flag_rows(township):
        _csv_row(writer, [village.name, proposal.id if proposal else "", proposal.title if proposal else "",
                         STAGE_LABELS.get(proposal.stage, proposal.stage) if proposal else "", str(flag.label),
                         flag.detail_text])
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="township-{township.id}-flags.csv"'})


FORMS = {
    "proposal": "提议表", "minutes": "商议记录", "sign_in": "签到表", "ballot": "表决票",
    "resolution": "决议书", "notice": "公示表",
}


@bp.get("/proposals/<int:proposal_id>/forms/<form>")
@login_required
def paper_form(proposal_id: int, form: str):
    """The paper forms of the process, printed from what was entered (A4)."""
    if form not in FORMS:
        abort(404)
    proposal = load_proposal(proposal_id)
    from app.accounts.permissions import is_overseer_of, has_village_role

    # The committee prints forms at every stage; others once the record is readable.
    require(can_view_record(current_user, proposal)
            or has_village_role(current_user, proposal.village, "clerk"))
    from flask_babel import force_locale

    from app.records import papers

    with force_locale(papers.ZH):  # the paper forms are filed and posted in Chinese
        return render_template(f"records/forms/{form}.html", proposal=proposal, record=build_record(proposal),
                               papers=papers, form_title=FORMS[form], forms=FORMS, public_stages=PUBLIC_STAGES)
