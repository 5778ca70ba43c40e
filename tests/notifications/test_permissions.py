from types import SimpleNamespace

from app.notifications.permissions import can_open_notification


class Anonymous:
    is_authenticated = False


def _user(uid):
    return SimpleNamespace(id=uid, is_authenticated=True)


def test_only_the_owner_opens_a_message():
    note = SimpleNamespace(person_id=7)
    assert can_open_notification(_user(7), note)
    assert not can_open_notification(_user(8), note)
    assert not can_open_notification(Anonymous(), note)
