"""Command-line tools: flask --app wsgi seed-demo | audit verify | …"""
from __future__ import annotations

import sys

import click
from flask import Blueprint
from flask_babel import force_locale

from app import clock
from app.extensions import db

bp = Blueprint("cli", __name__, cli_group=None)


@bp.cli.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only when the database has nobody in it yet.")
def seed_demo_command(if_empty: bool):
    """Load the demo township, villages, people and proposals (idempotent)."""
    from app.demo import database_is_empty, seed_demo

    if if_empty and not database_is_empty():
        click.echo("Demo data not loaded: the database already has people in it.")
        return
    result = seed_demo()
    db.session.commit()
    click.echo(f"Demo data loaded ({result['created']} new people).")


@bp.cli.command("backup")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
def backup_command(path):
    """Write a consistent copy of the database to PATH while the site keeps serving
    (default: BACKUP_DIR, instance/backups/gongyi-<UTC time>.sqlite3 or .dump). docs/deploy.md says
    how to restore it."""
    from flask import current_app

    from app.backup import BackupError, backup_database

    try:
        written = backup_database(db.engine, path, current_app.config["BACKUP_DIR"], current_app.config["PG_DUMP"])
    except BackupError as exc:
        click.echo(f"Backup NOT written: {exc}", err=True)
        sys.exit(1)
    click.echo(f"Backup written: {written} ({written.stat().st_size} bytes).")


audit = click.Group("audit", help="The audit chain.")
bp.cli.add_command(audit)


@audit.command("verify")
@click.option("--checkpoint", "checkpoints", multiple=True, metavar="[CHAIN:]SEQ:HASH",
              help="A checkpoint kept outside the database (CHAIN:SEQ:HASH such as v12:40:…, SEQ:HASH for the "
                   "installation chain, or the whole printed line); repeatable.")
@click.option("--checkpoint-file", type=click.File("r", encoding="utf-8"),
              help="A file of checkpoints, one a line (blank lines and # comments are skipped).")
def audit_verify(checkpoints, checkpoint_file):
    """Check every chain's hashes and links, every bound row and derived state against
    the events, and each checkpoint; exit 1 naming each chain's first broken event, and
    every row that does not match."""
    from app.records.checkpoints import CheckpointError, Claim
    from app.records.integrity import verify_everything

    texts = list(checkpoints)
    if checkpoint_file is not None:
        texts += [line for line in checkpoint_file.read().splitlines() if line.strip() and not line.startswith("#")]
    try:
        claims = [Claim.parse(t) for t in texts]
    except CheckpointError as exc:
        raise click.BadParameter(str(exc), param_hint="--checkpoint")
    with force_locale("en"):  # the command speaks English (its lines are what operators search for)
        _print_verification(verify_everything(claims))


def _print_verification(result) -> None:
    report = result.chain
    for broken in report.breaks:
        click.echo(f"Audit chain {broken.chain} BROKEN at event chain={broken.chain} seq={broken.seq}"
                   + (f" (id={broken.event_id})" if broken.event_id is not None else "")
                   + f": {broken.problem}.", err=True)
    if not report.ok:
        click.echo(f"{report.checked} events of the intact chains and before each break are intact.", err=True)
    for problem in result.checkpoints:
        click.echo(f"Checkpoint FAILED: {problem}", err=True)
    for row in result.rows:
        click.echo(f"Record row {row.table} id={row.row_id} does not match the audit chain: {row.problem}"
                   + (f" (event chain={row.chain} seq={row.seq})" if row.seq else ""), err=True)
    if not result.ok:
        if report.ok and result.rows:
            click.echo(f"Audit chain intact ({report.checked} events), but {len(result.rows)} record row(s) "
                       "were changed, added or removed after the fact.", err=True)
        sys.exit(1)
    click.echo(f"Audit chain intact: {report.checked} events checked in {report.chains} chain(s); "
               "every bound row matches its latest "
               f"event; {result.checkpoints_checked} checkpoint(s) verified.")


@audit.command("bind-existing")
def audit_bind_existing():
    """Once, after upgrading an installation whose rows predate their binding to the
    chain: bind every row that no event records yet (one audited event)."""
    from app.records.integrity import bind_unbound_rows

    try:
        n = bind_unbound_rows()
    except ValueError as exc:
        with force_locale("en"):
            click.echo(f"Audit chain broken, nothing bound: {exc}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"{n} row(s) bound to the audit chain.")


@audit.command("checkpoint")
@click.option("--sign", is_flag=True, help="First sign a checkpoint of every chain whose head moved since its "
                                            "last one (daily, from cron).")
@click.option("--chain", "chain", metavar="CHAIN", help="Only this chain (v12, t3, i).")
def audit_checkpoint(sign: bool, chain: str | None):
    """Print the latest signed checkpoint of every chain (or one), and the public key
    that verifies them."""
    from app.records.audit import CHAIN_RE
    from app.records.checkpoints import (checkpoint_line, current_checkpoint, latest_checkpoints, public_key_hex,
                                         sign_checkpoints)
    from app.records.models import AuditHead
    from sqlalchemy import select

    if chain is not None and not CHAIN_RE.match(chain):
        raise click.BadParameter("a chain is v<village id>, t<township id> or i", param_hint="--chain")
    if sign:
        signed = sign_checkpoints([chain] if chain else None)
        if not signed and db.session.scalar(select(AuditHead.chain).where(AuditHead.seq > 0).limit(1)) is None:
            click.echo("The audit chain is empty: nothing to sign.", err=True)
            sys.exit(1)
        db.session.commit()
    if chain is not None:
        found = [cp for cp in [current_checkpoint(chain)] if cp is not None]
    else:
        found = latest_checkpoints()
    if not found:
        click.echo("No checkpoint has been signed yet (run: flask --app wsgi audit checkpoint --sign).", err=True)
        sys.exit(1)
    for cp in found:
        click.echo(checkpoint_line(cp))
    for cp in found:
        click.echo(f"chain={cp.chain} seq={cp.seq} head={cp.head_hash} signed_at={clock.isoformat(cp.signed_at)}",
                   err=True)
    click.echo(f"public_key={public_key_hex()}")


@bp.cli.command("worker")
@click.option("--workers", default=2, show_default=True, help="Jobs run at the same time.")
def worker_command(workers: int):
    """Run the job queue's worker (huey): CSV imports and the text-message outbox."""
    from flask import current_app

    from app import jobs

    jobs.use_app(current_app._get_current_object())
    consumer = jobs.huey.create_consumer(workers=workers, worker_type="thread", periodic=True)
    click.echo(f"Worker started ({workers} at a time, queue: {type(jobs.huey.storage).__name__}).")
    consumer.run()
