"""The public notice board (公示栏)."""
from __future__ import annotations

import pytest


@pytest.fixture()
def posted(proposal_in):
    return {"posted": proposal_in("publicized", title="村口道路硬化决议"),
            "done": proposal_in("completed", title="自来水改造结果"),
            "draft": proposal_in("consensus_consultation", title="尚在协商的议题")}


def test_the_board_is_public_and_shows_only_posted_items(cast, posted, client, no_other_areas):
    resp = client.get(f"/board/{cast.village.id}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "村口道路硬化决议" in html and "自来水改造结果" in html and "尚在协商的议题" not in html


def test_each_posted_item_has_a_qr_code_that_opens_it(cast, posted, client):
    p = posted["posted"]
    html = client.get(f"/board/{cast.village.id}/{p.id}").get_data(as_text=True)
    assert "<svg" in html and f"/board/{cast.village.id}/{p.id}" in html
    assert "<script>" not in html  # only the app's own script files, no inline script


def test_an_item_not_yet_posted_is_not_found(cast, posted, client):
    assert client.get(f"/board/{cast.village.id}/{posted['draft'].id}").status_code == 404


def test_an_item_of_another_village_is_not_found_under_this_village(cast, posted, client):
    from tests.factories import make_village

    other = make_village()
    assert client.get(f"/board/{other.id}/{posted['posted'].id}").status_code == 404


def test_the_print_view_is_a4_with_every_posted_item(cast, posted, client):
    html = client.get(f"/board/{cast.village.id}/print").get_data(as_text=True)
    assert html.count("<svg") == 2 and "print-notice" in html


def test_the_board_page_has_no_inline_styles(cast, posted, client):
    html = client.get(f"/board/{cast.village.id}/{posted['posted'].id}").get_data(as_text=True)
    assert ' style="' not in html


@pytest.fixture()
def decided(db, app, tmp_path, monkeypatch):
    """A proposal the villagers' assembly passed at a meeting (26 yes by phone and in the
    hall), now posted, with a progress report and its photo."""
    pytest.importorskip("app.deliberation.engine")
    from app.voting import demo as voting_demo
    from tests.factories import make_user
    from tests.voting.factories import make_voters, ready_proposal

    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    proposal = ready_proposal("villager_resolution", title="村口道路硬化决议")
    voters = make_voters(proposal.village, 5)
    clerk = make_user(["clerk", "villager"], proposal.village)
    online = {v.phone: "yes" for v in voters[:3]}
    hall = {voters[3].phone: "yes", voters[4].phone: "no"}
    poll = voting_demo.run_poll(proposal, proposal.created_by, online, in_hall=hall, clerk=clerk)
    assert proposal.stage == "publicized" and poll.passed
    return proposal, poll


def test_a_posted_item_names_the_result_the_body_and_the_day_of_the_vote(decided, client):
    from flask_babel import format_date

    proposal, poll = decided
    html = client.get(f"/board/{proposal.village_id}/{proposal.id}").get_data(as_text=True)
    assert "表决结果" in html and ">通过<" in html
    assert "村民会议" in html
    assert format_date(poll.meeting.opened_at, "long") in html and "村委会议室" in html
    assert poll.tally.words_zh in html  # 应到…实到…同意…
    listing = client.get(f"/board/{proposal.village_id}").get_data(as_text=True)
    assert "村民会议" in listing and "通过" in listing


def test_the_print_view_carries_the_decision_too(decided, client):
    proposal, poll = decided
    html = client.get(f"/board/{proposal.village_id}/print").get_data(as_text=True)
    assert "表决结果" in html and poll.tally.words_zh in html


def test_a_posted_item_shows_its_report_photos_as_public_thumbnails(decided, client, db):
    from app.deliberation import engine
    from app.records import services
    from tests.records import images

    proposal, _poll = decided
    proposal.stage = "implementing"  # the notice period itself is the engine's test
    db.session.flush()
    report = services.post_report(proposal, proposal.created_by, "路基完成", photos=[images.jpeg()])
    photo = report.photos[0]
    base = f"/board/{proposal.village_id}/{proposal.id}/photos/{photo.id}"
    html = client.get(f"/board/{proposal.village_id}/{proposal.id}").get_data(as_text=True)
    assert f'src="{base}/thumbnail"' in html and f'href="{base}"' in html
    thumb = client.get(base + "/thumbnail")  # anonymous, like the board
    assert thumb.status_code == 200 and max(images.metadata_of(thumb.data)["size"]) <= 320
    full = client.get(base)
    assert full.status_code == 200 and images.metadata_of(full.data)["gps"] == {}
    assert images.CAMERA.encode() not in full.data
    del engine


def test_a_board_photo_is_only_found_under_its_own_posted_proposal(decided, client, db, cast, proposal_in):
    from app.records import services
    from tests.records import images

    proposal, _poll = decided
    proposal.stage = "implementing"
    other = proposal_in("implementing")
    draft = proposal_in("implementing")
    hidden = services.post_report(draft, cast.committee, "进展", photos=[images.png()]).photos[0]
    draft.stage = "consensus_consultation"  # no longer on the board
    own = services.post_report(other, cast.committee, "进展", photos=[images.png()]).photos[0]
    db.session.flush()
    v = proposal.village_id
    assert client.get(f"/board/{v}/{proposal.id}/photos/{own.id}/thumbnail").status_code == 404
    assert client.get(f"/board/{cast.village.id}/{draft.id}/photos/{hidden.id}").status_code == 404
    assert client.get(f"/board/{cast.village.id}/{other.id}/photos/{own.id}/thumbnail").status_code == 200
