"""The one clock: Beijing time shown, legal periods counted in Beijing calendar days
(民法典 arts. 201–203), ISO 8601 with the offset in the record."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from app import clock
from app.accounts.models import RuleProfile


def utc(*args) -> datetime:
    return datetime(*args)


@pytest.mark.parametrize("moment, zh, en", [
    (utc(2026, 12, 1, 18, 27, 20), "2026年12月2日 02:27", "2 Dec 2026, 02:27"),
    (utc(2026, 12, 9, 10, 27, 59), "2026年12月9日 18:27", "9 Dec 2026, 18:27"),
    (utc(2026, 12, 31, 16, 0), "2027年1月1日 00:00", "1 Jan 2027, 00:00"),
])
def test_times_are_shown_in_beijing_time_to_the_minute(app, moment, zh, en):
    with app.app_context():
        assert clock.format_time(moment, "zh_Hans") == zh
        assert clock.format_time(moment, "en") == en


def test_an_objection_filed_on_2_december_beijing_time_shows_2_december(app):
    # 01:30 on 2 December in Beijing is still 1 December in UTC.
    filed = utc(2026, 12, 1, 17, 30)
    with app.app_context():
        assert clock.format_day(filed, "zh_Hans") == "2026年12月2日"
        assert clock.format_day(filed, "en") == "2 Dec 2026"
        assert clock.local_date(filed) == date(2026, 12, 2)


def test_the_zone_is_a_setting(app):
    with app.app_context():
        app.config["GONGYI_TIMEZONE"] = "UTC"
        try:
            assert clock.format_time(utc(2026, 12, 1, 18, 27), "en") == "1 Dec 2026, 18:27"
            assert clock.isoformat(utc(2026, 12, 1, 18, 27)) == "2026-12-01T18:27:00+00:00"
        finally:
            app.config["GONGYI_TIMEZONE"] = "Asia/Shanghai"


def test_the_record_format_is_iso_8601_with_the_offset(app):
    with app.app_context():
        assert clock.isoformat(utc(2026, 12, 1, 18, 27, 20, 123456)) == "2026-12-02T02:27:20+08:00"
        assert clock.isoformat(date(2026, 12, 2)) == "2026-12-02"
        assert clock.isoformat(None) is None


@pytest.mark.parametrize("event, last_day", [
    # 23:59 Beijing on 1 December: the day of the event is 1 December, not counted.
    (utc(2026, 12, 1, 15, 59), date(2026, 12, 8)),
    # 00:00 Beijing on 2 December (16:00 UTC on the 1st): the event's day is the 2nd.
    (utc(2026, 12, 1, 16, 0), date(2026, 12, 9)),
    # The example: posted at 18:27 UTC on 1 December, 02:27 on the 2nd in Beijing.
    (utc(2026, 12, 1, 18, 27, 20), date(2026, 12, 9)),
    # Month ends: from 24 January the seven days run into February.
    (utc(2027, 1, 24, 4, 0), date(2027, 1, 31)),
    (utc(2027, 1, 25, 4, 0), date(2027, 2, 1)),
    # February of a common year, and the year's end.
    (utc(2027, 2, 22, 4, 0), date(2027, 3, 1)),
    (utc(2026, 12, 25, 4, 0), date(2027, 1, 1)),
])
def test_seven_day_period_counts_beijing_calendar_days(app, event, last_day):
    with app.app_context():
        assert clock.period_last_day(event, 7) == last_day
        end = clock.period_end(event, 7)
        # It ends at 24:00 of its last day in Beijing: 16:00 UTC of that day.
        assert end == datetime(last_day.year, last_day.month, last_day.day, 16, 0)
        assert clock.to_local(end).date() == date.fromordinal(last_day.toordinal() + 1)


def test_the_period_end_is_named_as_the_law_names_it(app):
    with app.app_context():
        end = clock.period_end(utc(2026, 12, 1, 18, 27, 20), 7)
        assert clock.period_end_text(end, "zh_Hans") == "2026年12月9日24时"
        assert clock.period_end_text(end, "en") == "end of 9 Dec 2026 (24:00)"


def test_a_last_day_on_a_holiday_moves_to_the_next_working_day_only_when_the_profile_says_so(app):
    # Posted on 24 September 2026: 7 days end on 1 October, National Day; the holiday runs
    # to 7 October, so the period ends on 8 October. 10 October is a moved working day (a
    # Saturday that is worked), so a period ending then does not move.
    with app.app_context():
        event = utc(2026, 9, 24, 4, 0)
        assert clock.period_last_day(event, 7) == date(2026, 10, 1)
        assert clock.period_last_day(event, 7, holiday_shift=True) == date(2026, 10, 8)
        assert clock.period_last_day(utc(2026, 10, 3, 4, 0), 7, holiday_shift=True) == date(2026, 10, 10)
        # A plain Sunday moves to Monday.
        assert clock.period_last_day(utc(2026, 11, 29, 4, 0), 7, holiday_shift=True) == date(2026, 12, 7)
        profile = RuleProfile(holiday_shift=True)
        assert clock.profile_period_end(profile, event, 7) == clock.end_of_day(date(2026, 10, 8))
        profile.holiday_shift = False
        assert clock.profile_period_end(profile, event, 7) == clock.end_of_day(date(2026, 10, 1))


def test_a_date_typed_on_a_page_is_a_beijing_day_not_0800_utc(app):
    with app.app_context():
        moment = clock.moment_of_day(date(2026, 11, 20))
        assert moment == utc(2026, 11, 19, 16, 0)
        assert clock.format_day(moment, "zh_Hans") == "2026年11月20日"


def test_the_assembly_notice_of_ten_days_gives_the_earliest_vote_day(app):
    # Announced on 1 December (Beijing): 2–11 December are the ten days; the vote may be on the 12th.
    with app.app_context():
        earliest = clock.notice_earliest(RuleProfile(holiday_shift=False), utc(2026, 12, 1, 2, 0), 10)
        assert clock.local_date(earliest) == date(2026, 12, 12)
        assert clock.to_local(earliest).hour == 0


def test_the_browser_tests_clock_does_not_exist_in_an_ordinary_app(client):
    assert client.post("/_e2e/clock", data={"days": "30"}).status_code in (404, 405)
    assert abs((clock.utcnow() - datetime.utcnow()).total_seconds()) < 60
    with pytest.raises(RuntimeError):
        clock.set_offset(__import__("datetime").timedelta(days=30))


def test_the_browser_tests_clock_cannot_be_switched_on_for_a_site_over_https(tmp_path, monkeypatch):
    from app import create_app
    from app.config import TestConfig

    class E2EOverHttps(TestConfig):
        E2E_CLOCK = True
        SESSION_COOKIE_SECURE = True

    with pytest.raises(RuntimeError):
        create_app(E2EOverHttps)


def test_the_browser_tests_clock_moves_every_worker_through_one_file(tmp_path, monkeypatch):
    from datetime import timedelta

    monkeypatch.setattr(clock, "_offset_file", tmp_path / "offset")
    before = clock.utcnow()
    clock.set_offset(timedelta(days=11))
    assert timedelta(days=11) <= clock.utcnow() - before < timedelta(days=11, minutes=1)
    clock.set_offset(timedelta(0))
    assert clock.utcnow() - before < timedelta(minutes=1)
