"""Static files: compressed, fingerprinted, cached for a year only under the current
fingerprint."""
import pytest

from app.main.static_files import static_url


@pytest.mark.parametrize("name", ["css/app.css", "js/app.js", "js/htmx.min.js"])
def test_fingerprinted_static_file_is_immutable_and_compressed(app, client, name):
    with app.test_request_context():
        url = static_url(name)
    assert "?v=" in url
    resp = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert resp.headers["Content-Encoding"] in ("br", "gzip")


def test_old_or_missing_fingerprint_must_revalidate(client):
    assert client.get("/static/css/app.css").headers["Cache-Control"] == "no-cache"
    assert client.get("/static/css/app.css?v=0123456789").headers["Cache-Control"] == "no-cache"


def test_pages_are_not_cached(client):
    assert client.get("/login").headers["Cache-Control"] == "no-store"


def test_page_loads_htmx_only_through_app_js(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'data-htmx="/static/js/htmx.min.js?v=' in page
    assert '<script src="/static/js/htmx.min.js' not in page
