"""Signed checkpoints: made at every poll close, every filing and daily; the key kept
outside the database; shown on the board, the printed notice and the exports; and
a printed one checked with the script the docs give."""
from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.records import services
from app.records.models import AuditCheckpoint, Filing

ROOT = Path(__file__).resolve().parents[2]
LINE_RE = re.compile(r'<code class="checkpoint-line">(gongyi-checkpoint:[0-9a-z:]+)</code>')
KEY_RE = re.compile(r'<code class="checkpoint-key">([0-9a-f]{64})</code>')


def _count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditCheckpoint))


def test_closing_a_poll_and_filing_a_record_each_sign_a_checkpoint_of_the_new_head(cast, proposal_in, db):
    from app.records.models import AuditHead
    from app.voting import services as voting
    from tests.voting.factories import make_poll

    poll, voters, opener = make_poll(voters=1, village=cast.village)
    db.session.commit()
    before = _count(db)
    voting.close_poll(poll, opener)
    db.session.commit()
    assert _count(db) == before + 1
    cp = db.session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc())).first()
    head = db.session.get(AuditHead, f"v{cast.village.id}")
    assert (cp.chain, cp.seq, cp.head_hash) == (head.chain, head.seq, head.hash)  # the village's chain

    services.file_record(proposal_in("completed"), cast.overseer, "同意备案")
    db.session.commit()
    assert _count(db) == before + 2


def test_a_filing_keeps_the_checkpoint_the_overseer_saw(cast, proposal_in, db):
    from app.records.checkpoints import current_checkpoint, sign_checkpoint

    chain = f"v{cast.village.id}"
    proposal_in("draft")
    sign_checkpoint(chain)
    seen = current_checkpoint(chain)
    filing = services.file_record(proposal_in("completed"), cast.overseer, "同意备案")
    db.session.commit()
    stored = db.session.get(Filing, filing.id)
    assert (stored.checkpoint_chain, stored.checkpoint_seq, stored.checkpoint_hash) == (chain, seen.seq,
                                                                                       seen.head_hash)
    assert current_checkpoint(chain).seq > seen.seq  # and the filing itself is signed


def test_the_daily_command_signs_and_prints_the_current_checkpoint(runner, db, proposal_in):
    proposal_in("draft")
    db.session.commit()
    signed = runner.invoke(args=["audit", "checkpoint", "--sign"])
    assert signed.exit_code == 0, signed.output
    line = signed.output.splitlines()[0]
    assert line.startswith("gongyi-checkpoint:")
    shown = runner.invoke(args=["audit", "checkpoint"])
    assert shown.exit_code == 0 and shown.output.splitlines()[0] == line


def test_the_key_file_is_made_on_first_use_readable_by_the_owner_only(app, db, tmp_path, monkeypatch):
    from app.records.checkpoints import public_key_hex

    path = tmp_path / "audit_signing_key.pem"
    monkeypatch.setitem(app.config, "AUDIT_SIGNING_KEY_FILE", str(path))
    monkeypatch.setitem(app.config, "AUDIT_SIGNING_KEY", None)
    first = public_key_hex()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert public_key_hex() == first  # the same key the next time


def test_a_key_from_the_environment_is_used_instead_of_the_file(app, db, tmp_path, monkeypatch):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from app.records.checkpoints import public_key_hex

    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    monkeypatch.setitem(app.config, "AUDIT_SIGNING_KEY", raw.hex())
    monkeypatch.setitem(app.config, "AUDIT_SIGNING_KEY_FILE", str(tmp_path / "never-made.pem"))
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
    assert public_key_hex() == public
    assert not (tmp_path / "never-made.pem").exists()


def _script_in_docs() -> str:
    doc = (ROOT / "docs" / "record-format.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- tools/verify_checkpoint.py -->\n```python\n(.*?)```", doc, re.S)
    assert m, "docs/record-format.md must carry tools/verify_checkpoint.py"
    return m.group(1)


def test_the_documented_script_is_the_one_in_tools():
    assert _script_in_docs() == (ROOT / "tools" / "verify_checkpoint.py").read_text(encoding="utf-8")


def test_a_checkpoint_printed_on_an_a4_notice_verifies_with_the_documented_script(cast, proposal_in, db, login_as,
                                                                                   tmp_path):
    from app.records.checkpoints import sign_checkpoint

    proposal = proposal_in("publicized")
    sign_checkpoint(f"v{cast.village.id}")
    page = login_as(cast.committee).get(f"/proposals/{proposal.id}/forms/notice").get_data(as_text=True)
    line, key = LINE_RE.search(page).group(1), KEY_RE.search(page).group(1)
    script = tmp_path / "check.py"
    script.write_text(_script_in_docs(), encoding="utf-8")
    ok = subprocess.run([sys.executable, str(script), key, line], capture_output=True, text=True)
    assert ok.returncode == 0 and "Signature good" in ok.stdout, ok.stdout + ok.stderr
    chain, seq = line.split(":")[1:3]
    assert chain == f"v{cast.village.id}"  # the village's own chain
    forged = line.replace(f":{chain}:{seq}:", f":{chain}:{int(seq) + 1}:", 1)
    bad = subprocess.run([sys.executable, str(script), key, forged], capture_output=True, text=True)
    assert bad.returncode == 1 and "FAILED" in bad.stdout


def test_the_record_exports_carry_the_current_checkpoint(cast, proposal_in, db, login_as):
    from app.records.checkpoints import checkpoint_line, sign_checkpoint

    proposal = proposal_in("publicized")
    cp = sign_checkpoint(f"v{cast.village.id}")
    browser = login_as(cast.overseer)
    record = json.loads(browser.get(f"/api/v1/proposals/{proposal.id}/record").get_data(as_text=True))
    assert record["checkpoint"]["line"] == checkpoint_line(cp)
    assert record["checkpoint"]["public_key"] == cp.public_key
    pdf = browser.client.get(f"/proposals/{proposal.id}/record.pdf")
    if pdf.status_code != 200:
        pytest.skip("no CJK font on this machine for the PDF")
    from io import BytesIO

    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(BytesIO(pdf.data)).pages)
    flat = re.sub(r"[\s\x00]+", "", text)  # fpdf2 + pypdf: a NUL before each character
    assert "审计链检查点" in flat and cp.head_hash in flat and cp.signature in flat


def test_the_notice_board_shows_the_checkpoint_its_qr_code_and_the_public_key(cast, proposal_in, db, client):
    from app.records.checkpoints import checkpoint_line, sign_checkpoint

    proposal_in("publicized")
    cp = sign_checkpoint(f"v{cast.village.id}")
    for url in (f"/board/{cast.village.id}", f"/board/{cast.village.id}/print"):
        page = client.get(url).get_data(as_text=True)
        assert LINE_RE.search(page).group(1) == checkpoint_line(cp)
        assert KEY_RE.search(page).group(1) == cp.public_key
        assert "<svg" in page.split('class="checkpoint-qr"', 1)[1][:400]
