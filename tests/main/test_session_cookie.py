"""The session cookie's serializer is built once (app.security.SessionInterface): it must
read and write exactly the cookie Flask's own interface does, refuse a changed one and
follow a key rotation (SECRET_KEY_FALLBACKS) at once."""
import pytest
from flask import Flask, session
from flask.sessions import SecureCookieSessionInterface
from markupsafe import Markup

from app.security import SessionInterface


def _site(ours: bool, key: str = "a-long-secret-key") -> Flask:
    site = Flask(f"site-{ours}")
    site.secret_key = key
    site.session_interface = SessionInterface() if ours else SecureCookieSessionInterface()

    @site.get("/set/<value>")
    def put(value):
        session["v"] = value
        return "ok"

    @site.get("/get")
    def get():
        return session.get("v", "nothing")

    return site


def _cookie(site: Flask, value: str) -> str:
    resp = site.test_client().get(f"/set/{value}")
    return resp.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]


def _read(site: Flask, cookie: str) -> str:
    client = site.test_client()
    client.set_cookie("session", cookie)
    return client.get("/get").get_data(as_text=True)


@pytest.mark.parametrize("writer,reader", [(False, True), (True, False), (True, True)])
def test_a_cookie_reads_the_same_through_flasks_interface_and_ours(writer, reader):
    assert _read(_site(reader), _cookie(_site(writer), "村民")) == "村民"


LONG = "村民大会" * 300  # past the length from which a payload is compressed


@pytest.mark.parametrize("writer,reader", [(False, True), (True, False)])
def test_a_long_compressed_cookie_reads_the_same_through_both(writer, reader):
    cookie = _cookie(_site(writer), LONG)
    assert cookie.startswith(".")  # compressed, as Flask's own interface would write it
    assert _read(_site(reader), cookie) == LONG


def test_a_short_cookie_is_not_compressed():
    assert not _cookie(_site(True), "yes").startswith(".")


TAGGED = [("flash", ("error", "投票已结束")), {" t": "a dict that looks like a tag"}, b"\x00bytes",
          Markup("<b>粗体</b>"), {"nested": [{"k": ("a", 1)}]}, {" di": 1}, [1, 2.5, None, True, "文"]]


@pytest.mark.parametrize("value", TAGGED, ids=range(len(TAGGED)))
@pytest.mark.parametrize("writer,reader", [(False, True), (True, False), (True, True)])
def test_values_flask_tags_come_back_as_they_went_in(value, writer, reader):
    """A tuple, bytes, Markup or a dict that looks like one of Flask's tags keeps its type
    both ways: only plain JSON skips the tags."""
    def site(ours):
        s = _site(ours)

        @s.get("/put-value")
        def put_value():
            session["value"] = value
            return "ok"

        @s.get("/get-value")
        def get_value():
            got = session.get("value")
            return {"same": got == value and type(got) is type(value), "repr": repr(got)}

        return s

    resp = site(writer).test_client().get("/put-value")
    cookie = resp.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    client = site(reader).test_client()
    client.set_cookie("session", cookie)
    assert client.get("/get-value").get_json()["same"], client.get("/get-value").get_json()["repr"]


def test_a_changed_cookie_is_refused_after_a_good_one_was_read():
    site = _site(True)
    cookie = _cookie(site, "yes")
    assert _read(site, cookie) == "yes"
    assert _read(site, cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")) == "nothing"


def test_a_new_secret_key_takes_effect_at_once_and_the_old_one_only_as_a_fallback():
    site = _site(True)
    old = _cookie(site, "yes")
    assert _read(site, old) == "yes"  # the serializer of the old key is now built
    site.secret_key = "another-long-secret-key"
    assert _read(site, old) == "nothing"
    site.config["SECRET_KEY_FALLBACKS"] = ["a-long-secret-key"]
    assert _read(site, old) == "yes"
    assert _read(_site(False, "another-long-secret-key"), _cookie(site, "new")) == "new"
