"""A refusal that no view caught becomes a message and a way back, never a server error."""
from app import create_app
from app.config import TestConfig
from app.deliberation.services import DeliberationError
from app.errors import Refused


def test_an_uncaught_refusal_rolls_back_and_says_why():
    app = create_app(TestConfig)
    app.config["WTF_CSRF_ENABLED"] = False

    @app.post("/_refuse")
    def _refuse():
        raise DeliberationError("只有草稿可以直接修改。")

    client = app.test_client()
    resp = client.post("/_refuse", headers={"Referer": "http://localhost/villages/1/proposals"})
    assert resp.status_code == 303 and resp.location == "/villages/1/proposals"
    with client.session_transaction() as session:
        assert ("error", "只有草稿可以直接修改。") in session["_flashes"]


def test_a_refusal_never_redirects_to_another_site():
    app = create_app(TestConfig)
    app.config["WTF_CSRF_ENABLED"] = False

    @app.post("/_refuse")
    def _refuse():
        raise Refused("不行")

    resp = app.test_client().post("/_refuse", headers={"Referer": "https://evil.example/x"})
    assert resp.status_code == 303 and resp.location == "/"
