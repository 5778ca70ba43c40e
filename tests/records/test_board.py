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
