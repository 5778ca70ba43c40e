import io

import pytest

from app.accounts.models import Person
from tests.conftest import Browser
from tests.conftest import code_from
from tests.factories import PASSWORD, make_user, make_village


def test_login_page_is_chinese_by_default(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'lang="zh-Hans"' in html
    assert "登录" in html


def test_sign_in_and_home_shows_village_and_roles(client, db):
    village = make_village(name="杏花村")
    person = make_user(["villager", "representative"], village, name="孙桂兰")
    b = Browser(client)
    b.get("/login")
    resp = b.post("/login", {"phone": person.phone, "password": PASSWORD})
    assert resp.status_code == 302
    html = b.get("/").get_data(as_text=True)
    assert "孙桂兰" in html and "杏花村" in html and "村民代表" in html


def test_wrong_password_is_refused_with_message(client, db):
    person = make_user()
    b = Browser(client)
    b.get("/login")
    resp = b.post("/login", {"phone": person.phone, "password": "wrong-password"})
    assert resp.status_code == 400
    assert "手机号或密码不对" in resp.get_data(as_text=True)
    assert "_user_id" not in (client.get_cookie("session") and "" or "")


def test_login_without_csrf_token_is_refused(client, db):
    person = make_user()
    client.get("/login")
    resp = client.post("/login", data={"phone": person.phone, "password": PASSWORD})
    assert resp.status_code == 400
    assert client.get("/").get_data(as_text=True).count(person.name) == 0


def test_htmx_post_with_header_token_passes_csrf(client, db):
    b = Browser(client)
    b.get("/login")
    resp = client.post("/language", data={"lang": "en", "next": "/"}, headers={"X-CSRFToken": b.token, "HX-Request": "true"})
    assert resp.status_code == 302
    resp = client.post("/language", data={"lang": "en", "next": "/"}, headers={"HX-Request": "true"})
    assert resp.status_code == 400


def test_logout_makes_old_cookie_useless(app, db, login_as):
    person = make_user(name="退出测试")
    b = login_as(person)
    stolen = b.client.get_cookie("session").value
    remember = b.client.get_cookie("remember_token")
    assert "退出测试" in b.get("/").get_data(as_text=True)
    resp = b.post("/logout")
    assert resp.status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    if remember is not None:
        thief.set_cookie("remember_token", remember.value)
    assert "退出测试" not in thief.get("/").get_data(as_text=True)


def test_logout_needs_post(client, db, login_as):
    b = login_as(make_user())
    assert b.client.get("/logout").status_code == 405


def test_login_rate_limited_per_account(client, db):
    person = make_user()
    b = Browser(client)
    b.get("/login")
    codes = [b.post("/login", {"phone": person.phone, "password": "bad-password-x"},
                    environ_base={"REMOTE_ADDR": f"10.0.0.{i}"}).status_code for i in range(7)]
    assert codes[:5] == [400] * 5
    assert codes[5] == 429
    assert "尝试次数太多" in b.post("/login", {"phone": person.phone, "password": PASSWORD}).get_data(as_text=True)


def test_login_rate_limited_per_address(client, db):
    b = Browser(client)
    b.get("/login")
    codes = [b.post("/login", {"phone": f"1370000{i:04d}", "password": "bad-password-x"}).status_code
             for i in range(31)]
    assert 429 not in codes[:30]
    assert codes[30] == 429


def test_two_hundred_correct_sign_ins_from_one_address_all_succeed(app, db):
    """A village hall on shared Wi-Fi on voting day: only failures count per address."""
    people = [make_user() for _ in range(200)]
    db.session.commit()
    codes = []
    for person in people:
        b = Browser(app.test_client())
        b.get("/login")
        codes.append(b.post("/login", {"phone": person.phone, "password": PASSWORD},
                            environ_base={"REMOTE_ADDR": "10.1.1.1"}).status_code)
    assert codes == [302] * 200


def test_a_new_sign_in_makes_every_older_cookie_useless(app, db):
    person = make_user(name="轮换测试")
    db.session.commit()
    old = Browser(app.test_client())
    old.get("/login")
    old.post("/login", {"phone": person.phone, "password": PASSWORD})
    assert "轮换测试" in old.get("/").get_data(as_text=True)
    new = Browser(app.test_client())
    new.get("/login")
    new.post("/login", {"phone": person.phone, "password": PASSWORD})
    assert "轮换测试" in new.get("/").get_data(as_text=True)
    assert "轮换测试" not in old.get("/").get_data(as_text=True)


def test_the_phone_number_never_appears_in_a_url(client, db, outbox):
    person = make_user()
    b = Browser(client)
    b.get("/code")
    resp = b.post("/code", {"phone": person.phone})
    assert resp.status_code == 302 and person.phone not in resp.location
    page = b.get(resp.location).get_data(as_text=True)
    assert f'value="{person.phone}"' in page  # the number is filled in from the session


def test_wrong_codes_count_toward_the_account_limit(client, db, outbox):
    person = make_user()
    b = Browser(client)
    b.get("/code")
    b.post("/code", {"phone": person.phone})
    b.get("/code/enter")
    codes = [b.post("/code/enter", {"phone": person.phone, "code": "000000"},
                    environ_base={"REMOTE_ADDR": f"10.2.0.{i}"}).status_code for i in range(6)]
    assert codes == [400] * 5 + [429]


def test_first_sign_in_with_code_then_set_password(client, db, outbox):
    person = make_user(password="unused-initial-pass")
    person.password_hash = None
    b = Browser(client)
    b.get("/code")
    assert b.post("/code", {"phone": person.phone}).status_code == 302
    text = outbox[-1][1]
    code = code_from(text)
    b.get("/code/enter")
    resp = b.post("/code/enter", {"phone": person.phone, "code": code})
    assert resp.status_code == 302 and resp.location.endswith("/password")
    b.get("/password")
    resp = b.post("/password", {"password": "12345678", "confirm": "12345678"})
    assert resp.status_code == 400 and "太常见" in resp.get_data(as_text=True)
    resp = b.post("/password", {"password": "门前大河-2026", "confirm": "门前大河-2026"})
    assert resp.status_code == 302
    assert db.session.get(Person, person.id).password_hash


def test_language_switch_to_english_and_back(client, db):
    b = Browser(client)
    b.get("/login")
    b.post("/language", {"lang": "en", "next": "/login"})
    html = b.get("/login").get_data(as_text=True)
    assert 'lang="en"' in html and "Sign in" in html
    b.post("/language", {"lang": "zh_Hans", "next": "/login"})
    assert "登录" in b.get("/login").get_data(as_text=True)


def test_language_switch_refuses_offsite_redirect(client, db):
    b = Browser(client)
    b.get("/login")
    resp = b.post("/language", {"lang": "en", "next": "https://evil.example/"})
    assert resp.location == "/"


@pytest.mark.parametrize("path", ["/", "/login", "/code", "/healthz", "/nonexistent"])
def test_security_headers_on_every_page(client, path):
    resp = client.get(path)
    csp = resp.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"]


def test_session_cookie_flags(client):
    resp = client.get("/login")
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_healthz(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.get_json() == {"status": "ok"}


@pytest.mark.parametrize("lang,text", [("zh_Hans", "页面不存在"), ("en", "This page does not exist")])
def test_404_page_in_both_languages(client, lang, text):
    client.set_cookie("lang", lang)
    resp = client.get("/no-such-page")
    assert resp.status_code == 404 and text in resp.get_data(as_text=True)


def test_htmx_is_served_from_own_static(client):
    html = client.get("/login").get_data(as_text=True)
    assert "/static/js/htmx.min.js" in html
    assert "https://" not in html.split("<body")[0]
    resp = client.get("/static/js/htmx.min.js")
    assert resp.status_code == 200


# The village register ---------------------------------------------------------------------

def test_people_page_access(client, db, login_as):
    village = make_village()
    assert client.get(f"/villages/{village.id}/people").status_code == 302  # anonymous → sign in
    b = login_as(make_user(["villager"], village))
    assert b.get(f"/villages/{village.id}/people").status_code == 403


def test_committee_of_other_village_cannot_see_register(client, db, login_as):
    village, other = make_village(), make_village()
    b = login_as(make_user(["committee_member"], other))
    assert b.get(f"/villages/{village.id}/people").status_code == 403
    assert b.get("/villages/999999/people").status_code == 404


def test_committee_registers_one_villager(client, db, login_as):
    village = make_village()
    b = login_as(make_user(["committee_member"], village))
    b.get(f"/villages/{village.id}/people")
    resp = b.post(f"/villages/{village.id}/people", {"name": "钱多多", "phone": "138 0000 7777",
                                                     "household": "3-001", "roles": ["villager"]})
    assert resp.status_code == 302
    person = db.session.query(Person).filter_by(phone="13800007777").one()
    assert person.village_id == village.id


def test_register_with_bad_phone_keeps_what_was_typed(client, db, login_as):
    village = make_village()
    b = login_as(make_user(["committee_member"], village))
    b.get(f"/villages/{village.id}/people")
    resp = b.post(f"/villages/{village.id}/people", {"name": "钱多多", "phone": "12345", "household": "3-009"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "11 位" in html and "钱多多" in html and "3-009" in html


def test_csv_upload_with_bad_rows_reports_lines_and_stores_nothing(client, db, login_as):
    village = make_village()
    b = login_as(make_user(["committee_member"], village))
    b.get(f"/villages/{village.id}/people")
    csv = "name,phone\n甲,13800008881\n乙,bad\n".encode()
    resp = b.post(f"/villages/{village.id}/people/import",
                  {"file": (io.BytesIO(csv), "people.csv")}, content_type="multipart/form-data")
    assert resp.status_code == 302 and "/people/imports/" in resp.location  # the job queue checks it
    html = b.get(resp.location).get_data(as_text=True)
    assert "第 3 行" in html and "一个都没有登记" in html
    assert db.session.query(Person).filter_by(phone="13800008881").first() is None
