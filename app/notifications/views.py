"""The inbox (收件箱): read messages, open them, choose what to be told about."""
from __future__ import annotations

import click
from flask import Blueprint, current_app, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from app.extensions import db
from app.main.menu import Link, menu_provider
from app.main.views import safe_next
from app.notifications import services
from app.notifications.forms import ActionForm, ChoicesForm
from app.notifications.models import KIND_LABELS, KINDS, Notification, opted_out_kinds, unread_count
from app.notifications.permissions import can_open_notification
from app.permissions import require

bp = Blueprint("notifications", __name__, cli_group=None)

PAGE_SIZE = 50


@bp.app_context_processor
def _inbox_globals():
    def header_unread() -> int:
        if not getattr(current_user, "is_authenticated", False):
            return 0
        return unread_count(current_user)

    return {"inbox_unread": header_unread}


@menu_provider
def _inbox_link(user):
    return [Link(_("Messages for me"), url_for("notifications.inbox"))]


@bp.get("/inbox")
@login_required
def inbox():
    """The newest messages first, PAGE_SIZE to a page; older ones on the next pages."""
    from app.paging import page_arg

    pager = db.paginate(select(Notification).where(Notification.person_id == current_user.id)
                        .order_by(Notification.created_at.desc(), Notification.id.desc()),
                        page=page_arg(), per_page=PAGE_SIZE,
                        max_per_page=PAGE_SIZE, error_out=False, count=True)
    return render_template("notifications/inbox.html", notes=pager.items, pager=pager, form=ActionForm(),
                           kind_labels=KIND_LABELS)


@bp.post("/inbox/<int:note_id>/open")
@login_required
def open_note(note_id: int):
    note = db.session.get(Notification, note_id)
    if note is None:
        abort(404)
    require(can_open_notification(current_user, note))
    if ActionForm().validate_on_submit():
        services.mark_read(note)
        db.session.commit()
    return redirect(safe_next(note.url, url_for("notifications.inbox")))


@bp.post("/inbox/read")
@login_required
def mark_all_read():
    if ActionForm().validate_on_submit():
        services.mark_all_read(current_user)
        db.session.commit()
        flash(_("All messages are marked as read."), "info")
    return redirect(url_for("notifications.inbox"))


@bp.route("/inbox/settings", methods=["GET", "POST"])
@login_required
def settings():
    form = ChoicesForm()
    if request.method == "GET":
        form.kinds.data = [k for k in KINDS if k not in opted_out_kinds(current_user)]
    elif form.validate_on_submit():
        services.set_choices(current_user, set(form.kinds.data or []))
        db.session.commit()
        flash(_("Your choices are saved."), "info")
        return redirect(url_for("notifications.settings"))
    return render_template("notifications/settings.html", form=form)


@bp.cli.command("send-reminders")
@click.option("--base-url", default="", help="The site's public address, put before the links in text messages.")
def send_reminders_command(base_url: str):
    """Remind the people who have not voted in a poll that closes within 24 hours."""
    from app.notifications.api import send_reminders

    with current_app.test_request_context("/", base_url=base_url or None):
        count = send_reminders()
        db.session.commit()
    click.echo(_("%(n)d reminders sent.", n=count))
