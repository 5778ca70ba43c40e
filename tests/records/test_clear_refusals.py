"""A refused objection or report keeps its text; each refused photo is named (issue 12
findings 13–14)."""
import io

from app.records.models import Objection, Report


def test_a_long_objection_is_refused_with_its_limit_and_the_text_stays(db, cast, proposal_in, login_as):
    p = proposal_in("publicized")
    b = login_as(cast.villager)
    b.get(f"/proposals/{p.id}/publication")
    text = "我反对这个补偿标准。" + "理" * 3995
    assert len(text) == 4005
    resp = b.post(f"/proposals/{p.id}/objections", {"body": text})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "最多 4000 个字" in html and "我反对这个补偿标准。" in html
    assert db.session.query(Objection).count() == 0


def _report(b, p, files, body="路基已经完成。"):
    b.get(f"/proposals/{p.id}/publication")
    return b.post(f"/proposals/{p.id}/reports", data={"body": body, "photos": files},
                  content_type="multipart/form-data")


def test_an_empty_photo_is_named_not_dropped(db, cast, proposal_in, login_as):
    p = proposal_in("implementing")
    b = login_as(cast.committee)
    resp = _report(b, p, [(io.BytesIO(b""), "路面.jpg")])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "“路面.jpg”" in html and "照片是空的" in html
    assert "路基已经完成。" in html and db.session.query(Report).count() == 0


def test_a_photo_of_the_wrong_type_or_too_large_is_named(db, cast, proposal_in, login_as):
    p = proposal_in("implementing")
    b = login_as(cast.committee)
    resp = _report(b, p, [(io.BytesIO(b"%PDF-1.4 not a photo"), "发票.pdf")])
    assert resp.status_code == 400 and "“发票.pdf”" in resp.get_data(as_text=True)
    big = b"\xff\xd8\xff\xe0" + b"\0" * (5 * 1024 * 1024 + 10)
    resp = _report(b, p, [(io.BytesIO(big), "大图.jpg")])
    assert resp.status_code == 400 and "“大图.jpg”" in resp.get_data(as_text=True)
    assert db.session.query(Report).count() == 0
