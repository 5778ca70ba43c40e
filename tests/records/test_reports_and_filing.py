"""Implementation reports with photos, the supervision committee's opinion, and filing."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from app.records import api, services
from tests.factories import make_user
from app.records.models import Report
from app.records.services import RecordsError
from tests.records import images

JPEG = images.jpeg()
PNG = images.png()
WEBP = images.webp()
GIF = b"GIF89a" + b"\0" * 100


@pytest.fixture(autouse=True)
def _uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))


def test_progress_and_final_reports_are_counted_for_the_engine(cast, proposal_in):
    p = proposal_in("implementing")
    assert api.report_counts(p) == (0, False)
    services.post_report(p, cast.committee, "路基已完成")
    services.post_report(p, cast.committee, "路面硬化完成")
    assert api.report_counts(p) == (2, False)
    services.post_report(p, cast.committee, "全部完工，验收合格", final=True)
    assert api.report_counts(p) == (2, True)


def test_a_second_final_report_is_refused(cast, proposal_in):
    p = proposal_in("implementing")
    services.post_report(p, cast.committee, "完工", final=True)
    with pytest.raises(RecordsError):
        services.post_report(p, cast.committee, "再次完工", final=True)


def test_the_database_itself_refuses_a_second_final_report(cast, proposal_in, db):
    p = proposal_in("implementing")
    db.session.add(Report(proposal_id=p.id, kind="final", body="a", author_id=cast.committee.id))
    db.session.flush()
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.add(Report(proposal_id=p.id, kind="final", body="b", author_id=cast.committee.id))
            db.session.flush()


@pytest.mark.parametrize("stage", ["publicized", "completed", "archived", "draft"])
def test_reports_outside_implementation_are_refused(cast, proposal_in, stage):
    with pytest.raises(RecordsError):
        services.post_report(proposal_in(stage), cast.committee, "进展")


@pytest.mark.parametrize("who", ["villager", "supervisor", "overseer"])
def test_only_the_committee_posts_reports(cast, proposal_in, who):
    with pytest.raises(RecordsError):
        services.post_report(proposal_in("implementing"), getattr(cast, who), "进展")


@pytest.mark.parametrize("data,ctype", [(JPEG, "image/jpeg"), (PNG, "image/png"), (WEBP, "image/webp")])
def test_photos_are_typed_by_content_and_stored_under_generated_names(cast, proposal_in, app, data, ctype):
    r = services.post_report(proposal_in("implementing"), cast.committee, "进展", photos=[data])
    (photo,) = r.photos
    path = services.photo_path(photo)
    stored = path.read_bytes()
    assert photo.content_type == ctype and photo.size == len(stored)
    assert images.metadata_of(stored)["format"] == images.metadata_of(data)["format"]
    assert Path(app.config["UPLOAD_DIR"]) == path.parent
    assert "static" not in path.parts


@pytest.mark.parametrize("data", [JPEG, PNG, WEBP], ids=["jpeg", "png", "webp"])
def test_a_stored_photo_keeps_no_gps_camera_or_text_metadata(cast, proposal_in, data):
    assert images.metadata_of(data)["gps"]  # the upload carries a position
    r = services.post_report(proposal_in("implementing"), cast.committee, "进展", photos=[data])
    (photo,) = r.photos
    stored = services.photo_path(photo).read_bytes()
    meta = images.metadata_of(stored)
    assert meta["gps"] == {} and meta["exif"] == {} and meta["info"] == {}
    assert images.CAMERA.encode() not in stored and b"Exif" not in stored
    assert meta["size"] == images.metadata_of(data)["size"]
    import hashlib
    assert photo.sha256 == hashlib.sha256(stored).hexdigest()  # the chain holds what is served


def test_a_turned_camera_photo_is_stored_upright(cast, proposal_in):
    r = services.post_report(proposal_in("implementing"), cast.committee, "进展",
                             photos=[images.jpeg((1600, 1200), orientation=6)])
    meta = images.metadata_of(services.photo_path(r.photos[0]).read_bytes())
    assert meta["size"] == (1200, 1600) and meta["exif"] == {}


@pytest.mark.parametrize("data", [JPEG, PNG, WEBP], ids=["jpeg", "png", "webp"])
def test_each_photo_gets_a_small_jpeg_thumbnail(cast, proposal_in, data):
    r = services.post_report(proposal_in("implementing"), cast.committee, "进展", photos=[data])
    thumb = services.thumbnail_path(r.photos[0]).read_bytes()
    meta = images.metadata_of(thumb)
    assert meta["format"] == "JPEG" and meta["size"][0] <= 320 and meta["size"][1] <= 240
    assert meta["gps"] == {} and len(thumb) < 20_000


@pytest.mark.parametrize("data", [GIF, b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"", b"\xff\xd8",
                                  b"\xff\xd8\xff\xe0" + b"\0" * 100, b"\x89PNG\r\n\x1a\n" + b"\0" * 100],
                         ids=["gif", "svg", "empty", "two-bytes", "jpeg-magic-only", "png-magic-only"])
def test_photos_of_other_types_are_refused(cast, proposal_in, data):
    p = proposal_in("implementing")
    with pytest.raises(RecordsError):
        services.post_report(p, cast.committee, "进展", photos=[data or b"x"])
    assert api.report_counts(p) == (0, False)


def test_a_picture_with_a_mismatched_type_is_refused(cast, proposal_in):
    """PNG magic bytes in front of a JPEG's body: what the name-free sniff says must be what Pillow reads."""
    with pytest.raises(RecordsError):
        services.post_report(proposal_in("implementing"), cast.committee, "进展",
                             photos=[b"\x89PNG\r\n\x1a\n" + JPEG])


def test_a_photo_over_5_mb_is_refused(cast, proposal_in):
    big = JPEG + b"\0" * (5 * 1024 * 1024)
    with pytest.raises(RecordsError):
        services.post_report(proposal_in("implementing"), cast.committee, "进展", photos=[big])


def test_a_photo_with_too_many_pixels_is_refused_before_decoding(cast, proposal_in, monkeypatch):
    monkeypatch.setattr(services, "MAX_PHOTO_PIXELS", 1000 * 1000)
    with pytest.raises(RecordsError):
        services.post_report(proposal_in("implementing"), cast.committee, "进展", photos=[images.jpeg((1200, 1000))])


def test_the_supervision_committee_gives_its_opinion_once(cast, proposal_in):
    r = services.post_report(proposal_in("implementing"), cast.committee, "完工", final=True)
    with pytest.raises(RecordsError):
        services.give_opinion(r, cast.committee, "很好")
    services.give_opinion(r, cast.supervisor, "已现场查看，属实")
    assert r.opinion == "已现场查看，属实"
    with pytest.raises(RecordsError):
        services.give_opinion(r, cast.supervisor, "再说一次")


def test_the_overseer_files_a_completed_record_which_archives_it(cast, proposal_in, db):
    pytest.importorskip("app.deliberation.engine")
    from app.records.record import filing_of

    p = proposal_in("completed")
    services.file_record(p, cast.overseer, "资料齐全，同意备案")
    assert p.stage == "archived"
    assert filing_of(p).comment == "资料齐全，同意备案"
    assert p.history[-1].reason == "资料齐全，同意备案"


@pytest.mark.parametrize("who", ["committee", "supervisor", "villager"])
def test_only_the_township_overseer_files(cast, proposal_in, who):
    with pytest.raises(RecordsError):
        services.file_record(proposal_in("completed"), getattr(cast, who), "备案")


def test_an_overseer_of_another_township_cannot_file(cast, proposal_in):
    from tests.factories import make_user

    other = make_user(["overseer"])
    with pytest.raises(RecordsError):
        services.file_record(proposal_in("completed"), other, "备案")


def test_a_record_not_completed_cannot_be_filed(cast, proposal_in):
    with pytest.raises(RecordsError):
        services.file_record(proposal_in("implementing"), cast.overseer, "备案")


def test_posting_a_report_with_a_photo_through_the_page(cast, proposal_in, login_as, app):
    from app.records.record import reports_of

    p = proposal_in("implementing")
    b = login_as(cast.committee)
    b.get(f"/proposals/{p.id}/publication")
    resp = b.post(f"/proposals/{p.id}/reports", data={"body": "路面完工", "photos": (io.BytesIO(PNG), "x.png")},
                  content_type="multipart/form-data")
    assert resp.status_code == 302
    (report,) = reports_of(p)
    photo_url = f"/photos/{report.photos[0].id}"
    served = b.client.get(photo_url).data
    assert served == services.photo_path(report.photos[0]).read_bytes()
    assert images.metadata_of(served)["gps"] == {} and images.CAMERA.encode() not in served
    thumb = b.client.get(photo_url + "/thumbnail")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert max(images.metadata_of(thumb.data)["size"]) <= 320 and len(thumb.data) < len(served)
    assert app.test_client().get(photo_url + "/thumbnail").status_code == 302
    assert app.test_client().get(photo_url).status_code == 302  # anonymous: to the sign-in page
    neighbour = make_user(["committee_member"])
    assert login_as(neighbour).client.get(photo_url).status_code == 404
    assert login_as(neighbour).client.get(photo_url + "/thumbnail").status_code == 404


def test_a_photo_stored_before_thumbnails_gets_one_when_first_asked(cast, proposal_in, login_as):
    r = services.post_report(proposal_in("implementing"), cast.committee, "进展", photos=[JPEG])
    path = services.thumbnail_path(r.photos[0])
    path.unlink()
    resp = login_as(cast.committee).client.get(f"/photos/{r.photos[0].id}/thumbnail")
    assert resp.status_code == 200 and path.is_file() and max(images.metadata_of(resp.data)["size"]) == 320


def test_the_report_shows_thumbnails_that_open_the_photo(cast, proposal_in, login_as):
    p = proposal_in("implementing")
    r = services.post_report(p, cast.committee, "进展", photos=[JPEG])
    html = login_as(cast.committee).get(f"/proposals/{p.id}/publication").get_data(as_text=True)
    pid = r.photos[0].id
    assert f'src="/photos/{pid}/thumbnail"' in html and f'href="/photos/{pid}"' in html
    assert f'src="/photos/{pid}"' not in html
