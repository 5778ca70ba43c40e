"""Tampering as someone with write access to the database would try it: raw SQL on the
tables (or a file replaced on disk), never the app's services. `audit verify` must exit
non-zero and name the table and row (or the chain and event) for each kind in CASES;
cutting a chain's end and rewriting history with recomputed hashes are caught with the
village chain's checkpoint a villager copied from the notice board before the tampering."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select, text

from app.accounts.models import utcnow
from app.records import services
from app.records.audit import hash_of
from app.records.models import AuditEvent
from tests.conftest import ON_POSTGRES
from tests.records import images

CHECKPOINT_RE = re.compile(r'<code class="checkpoint-line">(gongyi-checkpoint:[0-9a-z:]+)</code>')


@dataclass
class World:
    checkpoint: str  # as copied from the notice board
    checkpoint_seq: int
    ids: dict  # every id, seq and chain key a case names


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
    chain = f"v{cast.village.id}"
    ids.update(chain=chain, township_chain=f"t{cast.village.township_id}",
               checkpoint_seq=int(line.split(":")[2]))
    for kind in ("objection.filed", "poll_tallied"):
        ev = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == kind)).one()
        assert ev.chain == chain  # a village's events are in its own chain
        ids[kind.replace(".", "_") + "_id"], ids[kind.replace(".", "_") + "_seq"] = ev.id, ev.seq
    ids["last_seq"] = db.session.scalar(text("SELECT max(seq) FROM audit_event WHERE chain = :c"), {"c": chain})
    ids["last_id"] = db.session.scalar(text("SELECT id FROM audit_event WHERE chain = :c AND seq = :s"),
                                       {"c": chain, "s": ids["last_seq"]})
    ids["township_last_seq"] = db.session.scalar(text("SELECT max(seq) FROM audit_event WHERE chain = :c"),
                                                 {"c": ids["township_chain"]})
    assert ids["township_last_seq"]  # the overseer's role grant is on the township's chain
    return World(line, ids["checkpoint_seq"], ids)


APPEND_ONLY = ("audit_event", "audit_checkpoint")  # PostgreSQL's triggers, lifted as a forger would


def _sql(db, statement, **params):
    if ON_POSTGRES:
        for table in APPEND_ONLY:
            db.session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"))
    db.session.execute(text(statement), params)
    if ON_POSTGRES:
        for table in APPEND_ONLY:
            db.session.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only"))
    db.session.expire_all()


def _rehash_from(db, chain: str, seq: int) -> None:
    """What a forger without any key can do: recompute every hash of a chain from `seq`
    on, move its head, and remove the signed checkpoints kept in the database."""
    columns = [c for c in AuditEvent.__table__.c]
    events = db.session.execute(select(*columns).where(AuditEvent.chain == chain).order_by(AuditEvent.seq)).all()
    prev = events[seq - 2].hash if seq > 1 else "0" * 64
    for ev in events[seq - 1:]:
        digest = hash_of(SimpleNamespace(**{**ev._asdict(), "prev_hash": prev}))
        _sql(db, "UPDATE audit_event SET prev_hash = :p, hash = :h WHERE id = :i", p=prev, h=digest, i=ev.id)
        prev = digest
    _sql(db, "UPDATE audit_head SET hash = :h WHERE chain = :c", h=prev, c=chain)
    _sql(db, "DELETE FROM audit_checkpoint")


def cut_the_end(db, w):
    ids = w.ids
    _sql(db, "DELETE FROM audit_event WHERE id = :i", i=ids["last_id"])
    _sql(db, "UPDATE audit_head SET seq = :s, hash = (SELECT hash FROM audit_event WHERE chain = :c AND seq = :s) "
             "WHERE chain = :c", s=ids["last_seq"] - 1, c=ids["chain"])
    _sql(db, "DELETE FROM audit_checkpoint")


def rewrite_a_tally(db, w):
    seq = w.ids["poll_tallied_seq"]
    payload = json.loads(db.session.scalar(text("SELECT payload FROM audit_event WHERE id = :i"),
                                           {"i": w.ids["poll_tallied_id"]}))
    payload["yes"] += 100
    _sql(db, "UPDATE audit_event SET payload = :p WHERE id = :i",
         p=json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")), i=w.ids["poll_tallied_id"])
    _rehash_from(db, w.ids["chain"], seq)


def change_the_stored_tally(db, w):
    tally = json.loads(db.session.scalar(text("SELECT tally_json FROM poll WHERE id = :p"), {"p": w.ids["poll"]}))
    tally["yes"] += 100
    _sql(db, "UPDATE poll SET tally_json = :t WHERE id = :p", t=json.dumps(tally), p=w.ids["poll"])


def replace_a_photo_on_disk(db, w):
    with open(w.ids["photo_file"], "wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n" + b"\1" * 20)


def insert_a_role_grant(db, w):
    _sql(db, "INSERT INTO role_grant (person_id, role, village_id, granted_at) VALUES (:villager, "
             "'committee_member', :village, :t)", t=utcnow(), villager=w.ids["villager"], village=w.ids["village"])
    w.ids["grant"] = db.session.scalar(text("SELECT max(id) FROM role_grant"))


def swap_two_events(db, w):
    ids = w.ids
    nxt = db.session.scalar(text("SELECT id FROM audit_event WHERE chain = :c AND seq = :s"),
                            {"c": ids["chain"], "s": ids["objection_filed_seq"] + 1})
    _sql(db, "UPDATE audit_event SET seq = -1 WHERE id = :i", i=ids["objection_filed_id"])
    _sql(db, "UPDATE audit_event SET seq = :s WHERE id = :i", s=ids["objection_filed_seq"], i=nxt)
    _sql(db, "UPDATE audit_event SET seq = :s WHERE id = :i", s=ids["objection_filed_seq"] + 1,
         i=ids["objection_filed_id"])


def move_and_rehash(db, w):
    """The village chain's last event put at the end of the township's chain, with a
    hash that is right for its new place (as a forger without the key can make it)."""
    ids = w.ids
    ids["moved_to_seq"] = ids["township_last_seq"] + 1
    _sql(db, "UPDATE audit_event SET chain = :c, seq = :s WHERE id = :i", c=ids["township_chain"],
         s=ids["moved_to_seq"], i=ids["last_id"])
    _rehash_from(db, ids["township_chain"], ids["moved_to_seq"])
    _sql(db, "UPDATE audit_head SET seq = :s WHERE chain = :c", s=ids["moved_to_seq"], c=ids["township_chain"])


@dataclass(frozen=True)
class Case:
    """One way of tampering: SQL (its :names taken from the world's ids) or a function of
    (db, world), and what `audit verify` must name ({names} from the world's ids)."""

    id: str
    change: object  # str (one statement) or callable
    named: tuple[str, ...]
    needs_a_kept_checkpoint: bool = False

    def apply(self, db, w: World) -> None:
        if callable(self.change):
            self.change(db, w)
        else:
            names = set(re.findall(r"(?<!:):(\w+)", self.change))
            _sql(db, self.change, **{n: w.ids[n] for n in names})


KEPT = "checkpoint {chain}:{checkpoint_seq}:"
CASES = [
    # Caught only with a checkpoint kept outside the database.
    Case("cut_the_end", cut_the_end, (KEPT,), needs_a_kept_checkpoint=True),
    Case("rewrite_a_tally", rewrite_a_tally, (KEPT,), needs_a_kept_checkpoint=True),
    # Rows a decision rests on.
    Case("flip_a_secret_ballot", "UPDATE ballot SET choice = 'yes' WHERE id = (SELECT id FROM ballot "
                                 "WHERE poll_id = :poll AND choice = 'no' LIMIT 1)", ("ballot id=poll {poll}",)),
    Case("change_the_stored_tally", change_the_stored_tally, ("poll id={poll}",)),
    Case("flip_passed", "UPDATE poll SET passed = NOT passed WHERE id = :poll", ("poll id={poll}",)),
    Case("archive_a_proposal", "UPDATE proposal SET stage = 'archived' WHERE id = :moved", ("proposal id={moved}",)),
    Case("edit_the_voted_text", "UPDATE proposal_version SET body = '每户出资 5300 元' WHERE id = :version",
         ("proposal_version id={version}",)),
    Case("insert_a_role_grant", insert_a_role_grant, ("role_grant id={grant}",)),
    Case("delete_a_participation", "DELETE FROM poll_participation WHERE id = :participation",
         ("poll_participation id={participation}",)),
    Case("delete_a_stage_move", "DELETE FROM stage_change WHERE id = :move", ("stage_change id={move}",)),
    Case("edit_a_post", "UPDATE consultation_post SET body = '我反对修路。' WHERE id = :post",
         ("consultation_post id={post}",)),
    Case("move_the_announcement", "UPDATE proposal SET assembly_announced_at = CURRENT_TIMESTAMP WHERE id = :voted",
         ("proposal id={voted}",)),
    Case("replace_a_photo_on_disk", replace_a_photo_on_disk, ("report_photo id={photo}",)),
    Case("edit_an_objection", "UPDATE objection SET body = '改过的异议' WHERE id = :objection",
         ("objection id={objection}",)),
    Case("uphold_an_objection", "UPDATE objection SET upheld = NOT upheld WHERE id = :objection",
         ("objection id={objection}",)),
    Case("edit_a_report", "UPDATE report SET body = '改过的报告' WHERE id = :report", ("report id={report}",)),
    Case("edit_an_opinion", "UPDATE report SET opinion = '改过的意见' WHERE id = :report", ("report id={report}",)),
    Case("edit_a_filing", "UPDATE filing SET comment = '改过的备案意见' WHERE id = :filing", ("filing id={filing}",)),
    Case("edit_a_move_reason", "UPDATE stage_change SET reason = '改过的理由' WHERE id = :move",
         ("stage_change id={move}",)),
    # The village's chain itself.
    Case("edit_an_event", "UPDATE audit_event SET payload = '{{}}' WHERE id = :objection_filed_id",
         ("chain={chain} seq={objection_filed_seq} (id={objection_filed_id})",)),
    Case("delete_an_event_from_the_middle", "DELETE FROM audit_event WHERE id = :objection_filed_id",
         ("chain={chain} seq={objection_filed_seq}", "missing")),
    Case("delete_the_last_event_of_the_village_chain", "DELETE FROM audit_event WHERE id = :last_id",
         ("chain={chain} seq={last_seq}", "removed from the end")),
    Case("swap_two_events", swap_two_events, ("chain={chain} seq={objection_filed_seq}",)),
    Case("move_an_event_to_the_township_chain",
         "UPDATE audit_event SET chain = :township_chain, seq = :township_last_seq + 1 WHERE id = :objection_filed_id",
         ("chain={chain} seq={objection_filed_seq}", "chain={township_chain} seq=")),
    Case("move_an_event_to_the_township_chain_and_rehash_it", move_and_rehash,
         ("chain={chain} seq={last_seq}", "chain={township_chain} seq={moved_to_seq} (id={last_id}): its village "
                                          "or township belongs to another chain")),
]


def test_the_check_page_names_a_changed_row_in_words_and_in_chinese(world, db, cast, login_as):
    """The overseer's check page says what was changed and why in the page's language,
    without the table names and English of the command."""
    _sql(db, "UPDATE consultation_post SET body = '我反对修路。' WHERE id = :post", post=world.ids["post"])
    page = login_as(cast.overseer).get("/oversight/audit").get_data(as_text=True)
    assert f"协商意见 {world.ids['post']}：其内容与审计事件记录的不一致" in page
    assert "consultation_post" not in page and "differ from its audit event" not in page


def test_an_untouched_record_verifies_with_the_board_checkpoint(world, runner):
    result = runner.invoke(args=["audit", "verify", "--checkpoint", world.checkpoint])
    assert result.exit_code == 0, result.output
    assert re.search(r"\b([2-9]|\d\d+) checkpoint\(s\) verified", result.output)  # the given one and the stored ones


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_tampering_fails_verify_and_names_the_row(world, db, runner, case):
    case.apply(db, world)
    result = runner.invoke(args=["audit", "verify", "--checkpoint", world.checkpoint])
    assert result.exit_code == 1, result.output
    for needle in case.named:
        assert needle.format(**world.ids) in result.output, result.output


@pytest.mark.parametrize("case", [c for c in CASES if c.needs_a_kept_checkpoint],
                         ids=[c.id for c in CASES if c.needs_a_kept_checkpoint])
def test_cutting_or_rewriting_the_chain_is_only_seen_with_a_kept_checkpoint(world, db, runner, case):
    """Without a copy kept outside the database the forged chain is consistent: this is
    what the checkpoints are for."""
    case.apply(db, world)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    chain, seq, head = world.checkpoint.split(":")[1:4]
    assert runner.invoke(args=["audit", "verify", "--checkpoint", f"{chain}:{seq}:{head}"]).exit_code == 1


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
    next(c for c in CASES if c.id == "edit_a_post").apply(db, world)
    old = db.session.scalar(text("SELECT max(id) FROM consultation_post"))
    assert f"consultation_post id={old}" in runner.invoke(args=["audit", "verify"]).output
    adopted = runner.invoke(args=["audit", "bind-existing"])
    assert adopted.exit_code == 0 and "1 row(s)" in adopted.output, adopted.output
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"consultation_post id={old}" not in result.output
    assert f"consultation_post id={world.ids['post']}" in result.output  # the edited one is still named
    assert db.session.scalar(text("SELECT count(*) FROM audit_event WHERE kind = 'records.adopted'")) == 1
