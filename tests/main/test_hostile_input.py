"""Input answered, never a 500: ids beyond the database's integer, control characters,
invalid UTF-8, over-long passwords (issue 12 findings 5–7, 9)."""
import hypothesis.strategies as st
import pytest
from hypothesis import given, settings
from sqlalchemy import select

from app.consultation.models import Post
from app.deliberation.models import Proposal, Suggestion
from app.inputs import MAX_DB_INT, parse_id
from tests.consultation.factories import make_post
from tests.factories import make_proposal, make_user, make_village

HUGE = [str(2**31), str(2**63), str(2**64 + 7), "9" * 40]


@pytest.mark.parametrize("n", HUGE)
@pytest.mark.parametrize("path", ["/board/{n}", "/board/1/{n}", "/proposals/{n}", "/polls/{n}", "/photos/{n}",
                                  "/suggestions/{n}", "/villages/{n}/proposals", "/api/v1/proposals/{n}/record"])
def test_ids_beyond_the_database_integer_are_simply_not_found(client, path, n):
    resp = client.get(path.format(n=n))
    assert resp.status_code == 404
    assert "找不到" in resp.get_data(as_text=True) or resp.is_json


def test_the_largest_database_id_is_still_an_id(client):
    assert client.get(f"/board/{MAX_DB_INT}").status_code == 404  # looked up, simply absent
    assert parse_id(str(MAX_DB_INT)) == MAX_DB_INT
    for raw in ("0", "-1", "²", "１２", "1e3", " 7 ", "", None, str(MAX_DB_INT + 1)):
        assert parse_id(raw) in (None, 7)


def test_a_nul_byte_in_a_proposal_is_refused_with_the_field_named_and_the_text_kept(db, login_as):
    chair = make_user(["committee_member"], make_village())
    b = login_as(chair)
    b.get(f"/villages/{chair.village_id}/proposals/new")
    resp = b.post(f"/villages/{chair.village_id}/proposals/new", {
        "title": "修路\x00方案", "body": "第一段\x00第二段", "deciding_body": "villagers_assembly"})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "“标题”里有无法保存的不可见控制字符" in html and "第一段" in html
    assert db.session.scalar(select(Proposal).where(Proposal.village_id == chair.village_id)) is None


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85"])
def test_control_characters_in_a_suggestion_are_refused(db, login_as, char):
    villager = make_user(["villager"], make_village())
    b = login_as(villager)
    b.get(f"/villages/{villager.village_id}/suggestions")
    resp = b.post(f"/villages/{villager.village_id}/suggestions", {"title": "修井", "body": f"井水{char}浑浊"})
    assert resp.status_code == 400 and "不可见控制字符" in resp.get_data(as_text=True)
    assert db.session.scalar(select(Suggestion)) is None


def test_line_breaks_and_tabs_are_text(db, login_as):
    villager = make_user(["villager"], make_village())
    b = login_as(villager)
    b.get(f"/villages/{villager.village_id}/suggestions")
    resp = b.post(f"/villages/{villager.village_id}/suggestions", {"title": "修井", "body": "第一行\r\n第二行\t完"})
    assert resp.status_code == 302
    assert db.session.scalar(select(Suggestion)).body.startswith("第一行")


def test_invalid_utf8_is_refused_not_stored_as_a_replacement_character(db, login_as):
    villager = make_user(["villager"], make_village())
    b = login_as(villager)
    b.get(f"/villages/{villager.village_id}/suggestions")
    raw = f"csrf_token={b.token}&title=%E4%BF%AE%FF%FE&body=abc".encode()
    resp = b.client.post(f"/villages/{villager.village_id}/suggestions", data=raw,
                         content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 400 and "不是有效的文字" in resp.get_data(as_text=True)
    assert db.session.scalar(select(Suggestion)) is None
    assert b.client.get("/board/1?q=%FF").status_code == 400


def test_a_password_over_the_maximum_is_refused_before_zxcvbn(db, login_as):
    person = make_user(["villager"], make_village())
    b = login_as(person)
    b.get("/password")
    long = "village-road-before-the-rainy-season-2026-east-gate-by-the-old-well-tree-and-the-school-Q9!"
    assert 72 < len(long) <= 128  # allowed, and longer than zxcvbn itself accepts
    resp = b.post("/password", {"password": long, "confirm": long})
    assert resp.status_code == 302
    too_long = "a1B!" * 40  # 160 characters
    resp = b.post("/password", {"password": too_long, "confirm": too_long})
    assert resp.status_code == 400 and "密码最多 128 个字符" in resp.get_data(as_text=True)


@pytest.mark.parametrize("raw", ["²", "99999999999999999999", str(2**31), "abc"])
def test_on_behalf_of_must_be_a_villager_of_this_village(db, login_as, raw):
    proposal = make_proposal(stage="topic_consultation")
    clerk = make_user(["villager", "clerk"], proposal.village)
    b = login_as(clerk)
    b.get(f"/proposals/{proposal.id}/consultation/topic")
    resp = b.post(f"/proposals/{proposal.id}/consultation/topic/posts",
                  {"stance": "support", "body": "路修平了好，老人出门方便", "on_behalf_of": raw})
    assert resp.status_code == 400
    assert "路修平了好" in resp.get_data(as_text=True)
    assert db.session.scalar(select(Post)) is None


def test_on_behalf_of_a_person_of_another_village_is_refused(db, login_as):
    proposal = make_proposal(stage="topic_consultation")
    stranger = make_user(["villager"], make_village(proposal.village.township))
    clerk = make_user(["villager", "clerk"], proposal.village)
    b = login_as(clerk)
    b.get(f"/proposals/{proposal.id}/consultation/topic")
    resp = b.post(f"/proposals/{proposal.id}/consultation/topic/posts",
                  {"stance": "support", "body": "路修平了好", "on_behalf_of": str(stranger.id)})
    assert resp.status_code == 400 and "不是本村村民" in resp.get_data(as_text=True)
    assert db.session.scalar(select(Post)) is None


@pytest.mark.parametrize("raw", ["²", "99999999999999999999", "other-proposal"])
def test_an_amendment_names_only_a_disagreement_of_its_own_proposal(db, login_as, raw):
    from app.consultation import services as consultation

    proposal = make_proposal(stage="consensus_consultation")
    other = make_proposal(stage="consensus_consultation", village=proposal.village)
    item = consultation.register_disagreement(make_post(other, thread="consensus"), other.created_by, title="宽度")
    b = login_as(proposal.created_by)
    b.get(f"/proposals/{proposal.id}/consultation/disagreements")
    resp = b.post(f"/proposals/{proposal.id}/consultation/amendments",
                  {"body": "路面宽5米。", "note": "加宽", "disagreement_id": str(item.id) if raw == "other-proposal" else raw})
    assert resp.status_code == 404
    assert not item.amendments


@pytest.mark.parametrize("raw", ["²", "99999999999999999999", str(2**31), "other-village"])
def test_a_meeting_signs_in_only_a_person_of_its_own_village(db, login_as, raw):
    from tests.voting.factories import make_poll

    poll, people, _ = make_poll()
    clerk = make_user(["clerk"], poll.village)
    stranger = make_user(["villager"], make_village())
    b = login_as(clerk)
    assert b.post(f"/polls/{poll.id}/meeting/open", {"place": "村委会"}).status_code == 302
    b.get(f"/polls/{poll.id}/meeting")
    value = str(stranger.id) if raw == "other-village" else raw
    for action in ("sign-in", "ballot"):
        resp = b.post(f"/polls/{poll.id}/meeting/{action}", {"person_id": value, "choice": "yes"})
        assert resp.status_code == 400, action


_PIECES = [b"a", b"=", b"&", b";", b"+", b"%", b"%E4", b"%B8%AD", b"%E4%B8%AD", b"%FF", b"%26", b"%3D", b"%2",
           b"%zz", "中".encode(), b"\xff", b"\xe4\xb8", b"x%C3", b"%A9"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=12))
def test_a_text_is_refused_exactly_when_one_of_its_names_or_values_is_not_utf8(pieces):
    """The whole-text check of invalid UTF-8 agrees with splitting the text into its
    names and values and decoding each one."""
    from urllib.parse import unquote_to_bytes

    from app.inputs import _undecodable

    raw = b"".join(pieces)

    def bad(part):
        try:
            unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            return True
        return False

    one_by_one = any(bad(part) for pair in raw.replace(b";", b"&").split(b"&") for part in pair.split(b"=", 1))
    assert _undecodable(raw) == one_by_one
