"""The public notice board (公示栏) of a village: posted resolutions and implementation
results, readable without signing in, each with a QR code for phones and an A4 print view."""
from __future__ import annotations

import segno
from flask import abort, render_template, url_for
from markupsafe import Markup
from sqlalchemy import select

from app import clock
from app.accounts.models import Village
from app.extensions import db
from app.records.permissions import BOARD_STAGES
from app.records.views import bp


BOARD_PAGE = 20  # posted items a page of the notice board, newest first


def _board_query(village):
    from app.deliberation.models import Proposal

    return (select(Proposal).where(Proposal.village_id == village.id, Proposal.stage.in_(BOARD_STAGES))
            .order_by(Proposal.stage_entered_at.desc(), Proposal.id.desc()))


def qr_svg(url: str) -> Markup:
    """An inline SVG QR code (no script, no external image; the CSP allows it)."""
    svg = segno.make(url, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff")
    return Markup(svg)


def checkpoint_for_display(village=None) -> dict | None:
    """The village's checkpoint (app.records.checkpoints.village_checkpoint; with no
    village, the latest of any chain) as the partial records/_checkpoint.html shows
    it: text, QR code, time and public key."""
    from app.records.checkpoints import checkpoint_line, village_checkpoint

    cp = village_checkpoint(village)
    if cp is None:
        return None
    line = checkpoint_line(cp)
    return {"chain": cp.chain, "seq": cp.seq, "head_hash": cp.head_hash, "line": line, "public_key": cp.public_key,
            "signed_at": clock.format_time(cp.signed_at), "qr": qr_svg(line)}


def _board_item(village_id: int, proposal_id: int):
    from app.deliberation.models import Proposal

    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or proposal.village_id != village_id or proposal.stage not in BOARD_STAGES:
        abort(404)
    return proposal


@bp.get("/board/<int:village_id>")
def board(village_id: int):
    from app.paging import page_arg

    village = db.session.get(Village, village_id) or abort(404)
    pager = db.paginate(_board_query(village), page=page_arg(), per_page=BOARD_PAGE, max_per_page=BOARD_PAGE,
                        error_out=False)
    return render_template("records/board.html", village=village, proposals=pager.items, pager=pager)


@bp.get("/board/<int:village_id>/<int:proposal_id>")
def board_item(village_id: int, proposal_id: int):
    proposal = _board_item(village_id, proposal_id)
    url = url_for("records.board_item", village_id=village_id, proposal_id=proposal.id, _external=True)
    return render_template("records/board_item.html", village=proposal.village, proposal=proposal, qr=qr_svg(url),
                           url=url)


@bp.get("/board/<int:village_id>/<int:proposal_id>/photos/<int:photo_id>")
def board_photo(village_id: int, proposal_id: int, photo_id: int):
    """A report photo of a posted item, public like the board itself (stored without
    metadata: no position, camera or time)."""
    return _send_board_photo(village_id, proposal_id, photo_id, thumbnail=False)


@bp.get("/board/<int:village_id>/<int:proposal_id>/photos/<int:photo_id>/thumbnail")
def board_photo_thumbnail(village_id: int, proposal_id: int, photo_id: int):
    return _send_board_photo(village_id, proposal_id, photo_id, thumbnail=True)


def _send_board_photo(village_id: int, proposal_id: int, photo_id: int, *, thumbnail: bool):
    from app.records.board import board_photo as find
    from app.records.views import send_photo

    photo = find(_board_item(village_id, proposal_id), photo_id) or abort(404)
    return send_photo(photo, thumbnail=thumbnail, public=True)


@bp.get("/board/<int:village_id>/print")
def board_print(village_id: int):
    """The board for printing at A4, in the board's own pages (20 notices, each with its
    QR code): a village's board grows year by year, its print must not."""
    from app.paging import page_arg

    village = db.session.get(Village, village_id) or abort(404)
    pager = db.paginate(_board_query(village), page=page_arg(), per_page=BOARD_PAGE, max_per_page=BOARD_PAGE,
                        error_out=False)
    items = []
    for p in pager.items:
        url = url_for("records.board_item", village_id=village.id, proposal_id=p.id, _external=True)
        items.append((p, qr_svg(url), url))
    return render_template("records/board_print.html", village=village, items=items, pager=pager)


@bp.app_context_processor
def _board_context():
    from app.records.board import decision_of, photos_of

    return {"board_decision": decision_of, "board_photos": photos_of}
