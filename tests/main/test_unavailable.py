"""A database that does not answer: one retry for a page, then our own 503 page in the
person's language that says truthfully that nothing was saved (issue 12 findings 4, 8)."""
import pytest
from sqlalchemy import event, text

from app import create_app, resilience
from app.config import TestConfig
from app.extensions import db as _db
from tests.conftest import ON_POSTGRES


class RefusingDatabase(TestConfig):
    # Nothing listens on port 1: every connection is refused, as during a restart.
    SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://postgres@127.0.0.1:1/gongyi?connect_timeout=2"
    WTF_CSRF_ENABLED = False


@pytest.fixture()
def refusing(monkeypatch):
    monkeypatch.setattr(resilience, "RETRY_PAUSE_SECONDS", 0)
    app = create_app(RefusingDatabase)
    attempts = []
    with app.app_context():
        event.listen(_db.engine, "do_connect", lambda *a, **k: attempts.append(1))
    return app, attempts


def test_a_page_is_tried_twice_then_answered_by_our_503_page(refusing):
    app, attempts = refusing
    resp = app.test_client().get("/board/1")
    assert resp.status_code == 503 and len(attempts) == 2
    html = resp.get_data(as_text=True)
    assert "系统正忙，请稍后再试。" in html and "Internal Server Error" not in html
    assert "没有丢失" not in html and resp.headers["Retry-After"]


def test_a_vote_is_not_retried_and_the_page_says_the_choice_was_not_saved(refusing):
    app, attempts = refusing
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1:token"  # a signed-in voter: loading them needs the database
    resp = client.post("/polls/1/cast", data={"choice": "yes", "request_key": "k" * 22})
    assert resp.status_code == 503 and len(attempts) == 1
    html = resp.get_data(as_text=True)
    assert "系统正忙，您的投票没有保存" in html and "再投一次" in html and "没有丢失" not in html
    # The same submission is sent again, its request key hidden (it is not typed text).
    assert '<input type="hidden" name="request_key" value="kkkkkkkkkkkkkkkkkkkkkk">' in html
    assert '<input type="hidden" name="choice" value="yes">' in html and "<textarea" not in html


def test_a_choice_being_confirmed_says_the_choice_was_not_saved(refusing):
    app, _ = refusing
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1:token"
    resp = client.post("/polls/1/confirm", data={"choice": "yes"})
    assert resp.status_code == 503
    assert "系统正忙，请稍后再试；您的选择没有保存" in resp.get_data(as_text=True)


def test_typed_text_is_on_the_503_page_and_it_says_it_was_not_saved(refusing):
    app, _ = refusing
    client = app.test_client()
    client.set_cookie("lang", "en")
    with client.session_transaction() as session:
        session["_user_id"] = "1:token"
    opinion = "The road should be wider so that the tractors can pass the school."
    resp = client.post("/proposals/1/consultation/topic/posts", data={"stance": "concern", "body": opinion})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 503 and "what you just did was not saved" in html and opinion in html


def test_an_error_outside_the_error_pages_still_gets_our_page():
    app = create_app(TestConfig)
    app.config["LAST_RESORT_IN_TESTS"] = True

    def broken(*args, **kwargs):
        raise RuntimeError("an error page that fails itself")

    app.wsgi_app.wsgi_app = broken
    resp = app.test_client().get("/")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 500 and "系统暂时出错" in html and "Internal Server Error" not in html


def test_the_generic_error_page_does_not_claim_nothing_was_lost(app):
    from app.main.views import ERRORS

    with app.test_request_context():
        assert "lost" not in str(ERRORS[500][1]).replace("may not have been saved", "")


@pytest.mark.skipif(not ON_POSTGRES, reason="a real PostgreSQL connection to cut")
def test_a_connection_cut_by_postgresql_is_retried_once_for_a_page(committing_app, monkeypatch):
    """The server terminates our own pooled connections (as a restart does); the next
    page request meets a dead connection, and its one retry gets a fresh one. Only this
    test's own backends are terminated, never anyone else's."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    monkeypatch.setattr(resilience, "RETRY_PAUSE_SECONDS", 0)
    client = committing_app.test_client()
    assert client.get("/board/1").status_code == 404
    with committing_app.app_context():
        engine = _db.engine
        pooled = [engine.raw_connection() for _ in range(engine.pool.checkedin())]
        own = [conn.cursor().execute("SELECT pg_backend_pid()").fetchone()[0] for conn in pooled]
        for conn in pooled:
            conn.close()  # back to the pool, still open
        assert own
        killer = create_engine(engine.url, poolclass=NullPool)
        with killer.connect() as conn:
            for pid in own:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        killer.dispose()
    assert client.get("/board/1").status_code == 404  # answered, not 503: the retry reconnected
