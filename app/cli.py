"""Command-line tools: flask --app wsgi seed-demo | audit verify | …"""
from __future__ import annotations

import sys

import click
from flask import Blueprint

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


audit = click.Group("audit", help="The audit chain.")
bp.cli.add_command(audit)


@audit.command("verify")
def audit_verify():
    """Check every event's hash and link, and the record rows against their events;
    exit 1 naming the first broken event (or the changed rows)."""
    from app.records.audit import verify_chain
    from app.records.integrity import verify_records

    report = verify_chain()
    if not report.ok:
        click.echo(f"Audit chain BROKEN at event seq={report.broken_seq} (id={report.broken_id}): "
                   f"{report.problem}. {report.checked} events before it are intact.", err=True)
        sys.exit(1)
    rows = verify_records()
    if rows:
        for row in rows:
            click.echo(f"Record row {row.table} id={row.row_id} does not match its audit event: {row.problem}",
                       err=True)
        click.echo(f"Audit chain intact ({report.checked} events), but {len(rows)} record row(s) were "
                   "changed or removed after the fact.", err=True)
        sys.exit(1)
    click.echo(f"Audit chain intact: {report.checked} events checked; every objection, report, photo, "
               "filing and stage move matches its event.")


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
