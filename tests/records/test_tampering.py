"""Tampering as someone with write access to the database would try it: raw SQL on the
tables (or a file replaced on disk), never the app's services. `audit verify` must exit
non-zero and name the table and row (or the event) for each of the 21 kinds; cutting
the chain's end and rewriting history with recomputed hashes are caught with a
checkpoint a villager copied from the notice board before the tampering."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select, text

from app.accounts.models import utcnow
from app.records import services
from app.records.audit import event_hash
from app.records.models import AuditEvent
from tests.conftest import ON_POSTGRES
from tests.records import images

CHECKPOINT_RE = re.compile(r'<code class="checkpoint-line">(gongyi-checkpoint:[0-9a-f:]+)</code>')


@dataclass
class World:
    checkpoint: str  # as copied from the notice board
    checkpoint_seq: int
    ids: dict


@pytest.fixture()
def world(cast, proposal_in, db, app, tmp_path, monkeypatch, runner, client):
    """One proposal moved by the engine with an opinion; a secret villagers' vote cast and
    closed; an objection answered, a final report with a photo and an opinion, a filing;
    committed as the views would; then the daily checkpoint, read off the notice board."""
    from app.consultation import services as consultation
    from app.deliberation import engine
    from app.voting import services as voting
    from tests.voting.factories import make_poll

    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    moved = proposal_in("draft")
    engine.transition(moved, "topic_consultation", cast.committee)
    post = consultation.add_post(moved, cast.villager, thread="topic", stance="support", body="我同意修路。")
    poll, voters, opener = make_poll(secret=True, voters=3, village=cast.village)
    for voter, choice in zip(voters, ["yes", "yes", "no"]):
        voting.cast_ballot(poll, voter, choice)
    voting.close_poll(poll, opener)
    pub = proposal_in("publicized")
    objection = services.answer_objection(services.file_objection(pub, cast.villager, "异议"), cast.supervisor,
                                          "答复", upheld=False)
    imp = proposal_in("implementing")
    report = services.post_report(imp, cast.committee, "完工", final=True,
                                  photos=[images.png((40, 30))])
    services.give_opinion(report, cast.supervisor, "属实")
    filing = services.file_record(proposal_in("completed"), cast.overseer, "同意备案")
    for fmt in ("json", "pdf"):
        services.note_export(pub, cast.overseer, fmt)  # the last event binds no row
    db.session.commit()
    signed = runner.invoke(args=["audit", "checkpoint", "--sign"])  # the daily cron job
    assert signed.exit_code == 0, signed.output
    page = client.get(f"/board/{cast.village.id}").get_data(as_text=True)
    line = CHECKPOINT_RE.search(page).group(1)
    ids = {
        "moved": moved.id, "post": post.id, "poll": poll.id, "voted": poll.proposal_id,
        "version": poll.version_id, "villager": cast.villager.id, "village": cast.village.id,
        "objection": objection.id, "report": report.id, "photo": report.photos[0].id,
        "photo_file": str(tmp_path / report.photos[0].stored_name), "filing": filing.id,
        "move": db.session.scalar(text("SELECT id FROM stage_change WHERE proposal_id = :p"), {"p": moved.id}),
        "participation": db.session.scalar(text("SELECT min(id) FROM poll_participation WHERE poll_id = :p"),
                                           {"p": poll.id}),
    }
    for kind in ("objection.filed", "poll_tallied"):
        ids[kind] = db.session.scalar(select(AuditEvent.seq).where(AuditEvent.kind == kind))
    return World(line, int(line.split(":")[1]), ids)


def _sql(db, statement, **params):
    if ON_POSTGRES:
        db.session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
    db.session.execute(text(statement), params)
    if ON_POSTGRES:
        db.session.execute(text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only"))
    db.session.expire_all()


def _rehash_from(db, seq: int) -> None:
    """What a forger without any key can do: recompute every hash from `seq` on, move the
    head, and remove the signed checkpoints kept in the database."""
    events = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
    prev = events[seq - 2].hash if seq > 1 else "0" * 64
    for ev in events[seq - 1:]:
        digest = event_hash(prev, ev.seq, ev.at, ev.kind, ev.village_id, ev.township_id, ev.actor_id,
                            ev.object_type, ev.object_id, ev.payload)
        _sql(db, "UPDATE audit_event SET prev_hash = :p, hash = :h WHERE id = :i", p=prev, h=digest, i=ev.id)
        prev = digest
    _sql(db, "UPDATE audit_head SET hash = :h", h=prev)
    _sql(db, "DELETE FROM audit_checkpoint")


def cut_the_end(db, w):
    last = db.session.scalar(text("SELECT max(seq) FROM audit_event"))
    _sql(db, "DELETE FROM audit_event WHERE seq = :s", s=last)
    _sql(db, "UPDATE audit_head SET seq = :s, hash = (SELECT hash FROM audit_event WHERE seq = :s)", s=last - 1)
    _sql(db, "DELETE FROM audit_checkpoint")
    return f"checkpoint {w.checkpoint_seq}:"


def rewrite_a_tally(db, w):
    seq = w.ids["poll_tallied"]
    payload = json.loads(db.session.scalar(text("SELECT payload FROM audit_event WHERE seq = :s"), {"s": seq}))
    payload["yes"] += 100
    _sql(db, "UPDATE audit_event SET payload = :p WHERE seq = :s",
         p=json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")), s=seq)
    _rehash_from(db, seq)
    return f"checkpoint {w.checkpoint_seq}:"


def flip_a_secret_ballot(db, w):
    _sql(db, "UPDATE ballot SET choice = 'yes' WHERE id = (SELECT id FROM ballot WHERE poll_id = :p "
             "AND choice = 'no' LIMIT 1)", p=w.ids["poll"])
    return f"ballot id=poll {w.ids['poll']}"


def change_the_stored_tally(db, w):
    tally = json.loads(db.session.scalar(text("SELECT tally_json FROM poll WHERE id = :p"), {"p": w.ids["poll"]}))
    tally["yes"] += 100
    _sql(db, "UPDATE poll SET tally_json = :t WHERE id = :p", t=json.dumps(tally), p=w.ids["poll"])
    return f"poll id={w.ids['poll']}"


def flip_passed(db, w):
    _sql(db, "UPDATE poll SET passed = NOT passed WHERE id = :p", p=w.ids["poll"])
    return f"poll id={w.ids['poll']}"


def archive_a_proposal(db, w):
    _sql(db, "UPDATE proposal SET stage = 'archived' WHERE id = :p", p=w.ids["moved"])
    return f"proposal id={w.ids['moved']}"


def edit_the_voted_text(db, w):
    _sql(db, "UPDATE proposal_version SET body = '每户出资 5300 元' WHERE id = :v", v=w.ids["version"])
    return f"proposal_version id={w.ids['version']}"


def insert_a_role_grant(db, w):
    _sql(db, "INSERT INTO role_grant (person_id, role, village_id, granted_at) VALUES (:p, 'committee_member', "
             ":v, :t)", p=w.ids["villager"], v=w.ids["village"], t=utcnow())
    grant = db.session.scalar(text("SELECT max(id) FROM role_grant"))
    return f"role_grant id={grant}"


def delete_a_participation(db, w):
    _sql(db, "DELETE FROM poll_participation WHERE id = :i", i=w.ids["participation"])
    return f"poll_participation id={w.ids['participation']}"


def delete_a_stage_move(db, w):
    _sql(db, "DELETE FROM stage_change WHERE id = :i", i=w.ids["move"])
    return f"stage_change id={w.ids['move']}"


def edit_a_post(db, w):
    _sql(db, "UPDATE consultation_post SET body = '我反对修路。' WHERE id = :i", i=w.ids["post"])
    return f"consultation_post id={w.ids['post']}"


def move_the_announcement(db, w):
    _sql(db, "UPDATE proposal SET assembly_announced_at = :t WHERE id = :p", t=utcnow(), p=w.ids["voted"])
    return f"proposal id={w.ids['voted']}"


def replace_a_photo_on_disk(db, w):
    with open(w.ids["photo_file"], "wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n" + b"\1" * 20)
    return f"report_photo id={w.ids['photo']}"


def edit_an_event(db, w):
    _sql(db, "UPDATE audit_event SET payload = '{}' WHERE seq = :s", s=w.ids["objection.filed"])
    return f"seq={w.ids['objection.filed']}"


def delete_an_event(db, w):
    seq = w.ids["objection.filed"]
    _sql(db, "DELETE FROM audit_event WHERE seq = :s", s=seq)
    return f"seq={seq}"


def swap_two_events(db, w):
    seq = w.ids["objection.filed"]
    _sql(db, "UPDATE audit_event SET seq = -1 WHERE seq = :s", s=seq)
    _sql(db, "UPDATE audit_event SET seq = :s WHERE seq = :n", s=seq, n=seq + 1)
    _sql(db, "UPDATE audit_event SET seq = :n WHERE seq = -1", n=seq + 1)
    return f"seq={seq}"


def edit_an_objection(db, w):
    _sql(db, "UPDATE objection SET body = '改过的异议' WHERE id = :i", i=w.ids["objection"])
    return f"objection id={w.ids['objection']}"


def uphold_an_objection(db, w):
    _sql(db, "UPDATE objection SET upheld = NOT upheld WHERE id = :i", i=w.ids["objection"])
    return f"objection id={w.ids['objection']}"


def edit_a_report(db, w):
    _sql(db, "UPDATE report SET body = '改过的报告' WHERE id = :i", i=w.ids["report"])
    return f"report id={w.ids['report']}"


def edit_an_opinion(db, w):
    _sql(db, "UPDATE report SET opinion = '改过的意见' WHERE id = :i", i=w.ids["report"])
    return f"report id={w.ids['report']}"


def edit_a_filing(db, w):
    _sql(db, "UPDATE filing SET comment = '改过的备案意见' WHERE id = :i", i=w.ids["filing"])
    return f"filing id={w.ids['filing']}"


def edit_a_move_reason(db, w):
    _sql(db, "UPDATE stage_change SET reason = '改过的理由' WHERE id = :i", i=w.ids["move"])
    return f"stage_change id={w.ids['move']}"


# The 12 that verify missed, then the 9 it already caught.
TAMPERING = [cut_the_end, rewrite_a_tally, flip_a_secret_ballot, change_the_stored_tally, flip_passed,
             archive_a_proposal, edit_the_voted_text, insert_a_role_grant, delete_a_participation,
             delete_a_stage_move, edit_a_post, move_the_announcement, replace_a_photo_on_disk,
             edit_an_event, delete_an_event, swap_two_events, edit_an_objection, uphold_an_objection,
             edit_a_report, edit_an_opinion, edit_a_filing, edit_a_move_reason]
NEEDS_A_KEPT_CHECKPOINT = {cut_the_end, rewrite_a_tally}


def test_an_untouched_record_verifies_with_the_board_checkpoint(world, runner):
    result = runner.invoke(args=["audit", "verify", "--checkpoint", world.checkpoint])
    assert result.exit_code == 0, result.output
    assert re.search(r"\b([2-9]|\d\d+) checkpoint\(s\) verified", result.output)  # the given one and the stored ones


@pytest.mark.parametrize("tamper", TAMPERING, ids=[t.__name__ for t in TAMPERING])
def test_tampering_fails_verify_and_names_the_row(world, db, runner, tamper):
    needle = tamper(db, world)
    result = runner.invoke(args=["audit", "verify", "--checkpoint", world.checkpoint])
    assert result.exit_code == 1, result.output
    assert needle in result.output, result.output


@pytest.mark.parametrize("tamper", sorted(NEEDS_A_KEPT_CHECKPOINT, key=lambda t: t.__name__))
def test_cutting_or_rewriting_the_chain_is_only_seen_with_a_kept_checkpoint(world, db, runner, tamper):
    """Without a copy kept outside the database the forged chain is consistent: this is
    what the checkpoints are for."""
    tamper(db, world)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    seq, head = world.checkpoint.split(":")[1:3]
    assert runner.invoke(args=["audit", "verify", "--checkpoint", f"{seq}:{head}"]).exit_code == 1


def test_a_checkpoint_with_a_forged_signature_fails(world, runner):
    parts = world.checkpoint.split(":")
    parts[-1] = ("0" if parts[-1][0] != "0" else "1") + parts[-1][1:]
    result = runner.invoke(args=["audit", "verify", "--checkpoint", ":".join(parts)])
    assert result.exit_code == 1 and "signature" in result.output


def test_a_checkpoint_file_is_read_line_by_line(world, runner, tmp_path):
    kept = tmp_path / "kept.txt"
    kept.write_text(f"# from the notice board\n{world.checkpoint}\n\n", encoding="utf-8")
    assert runner.invoke(args=["audit", "verify", "--checkpoint-file", str(kept)]).exit_code == 0
    kept.write_text("not-a-checkpoint\n", encoding="utf-8")
    result = runner.invoke(args=["audit", "verify", "--checkpoint-file", str(kept)])
    assert result.exit_code == 2 and "not a checkpoint" in result.output


def test_verify_runs_a_fixed_number_of_queries_whatever_the_number_of_rows(world, db, app, cast):
    """Statements are counted on the engine; doubling every kind of row adds none."""
    from app.consultation.models import Post
    from app.deliberation.models import Proposal
    from app.records.integrity import verify_everything

    def count() -> int:
        seen = []
        conn = db.session.connection()

        def _count(*_a, **_k):
            seen.append(1)
        sa_event.listen(conn, "before_cursor_execute", _count)
        try:
            assert verify_everything().ok
        finally:
            sa_event.remove(conn, "before_cursor_execute", _count)
        return len(seen)

    before = count()
    proposal = db.session.get(Proposal, world.ids["moved"])
    for i in range(40):
        db.session.add(Post(proposal=proposal, thread="topic", stance="support", body=f"意见 {i}",
                            author=cast.villager))
        db.session.flush()
        services.note_export(proposal, cast.overseer, "json")
    db.session.commit()
    assert count() == before



def test_binding_existing_rows_once_adopts_rows_that_predate_the_binding_but_not_changed_ones(world, db, runner):
    """An installation upgraded from before the binding has rows no event records."""
    _sql(db, "INSERT INTO consultation_post (proposal_id, thread, author_id, stance, body, created_at) "
             "VALUES (:p, 'topic', :a, 'support', '升级前的意见', :t)", p=world.ids["moved"], a=world.ids["villager"],
         t=utcnow())
    edit_a_post(db, world)
    old = db.session.scalar(text("SELECT max(id) FROM consultation_post"))
    assert f"consultation_post id={old}" in runner.invoke(args=["audit", "verify"]).output
    adopted = runner.invoke(args=["audit", "bind-existing"])
    assert adopted.exit_code == 0 and "1 row(s)" in adopted.output, adopted.output
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"consultation_post id={old}" not in result.output
    assert f"consultation_post id={world.ids['post']}" in result.output  # the edited one is still named
    assert db.session.scalar(text("SELECT count(*) FROM audit_event WHERE kind = 'records.adopted'")) == 1
