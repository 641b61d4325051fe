"""The outbox after a crash: a worker killed mid-send is replaced in time, and its re-send is the same email."""

import datetime as dt
import email
import socket

from django.core import mail
from django.test import override_settings

import pytest
import time_machine
from aiosmtpd.controller import Controller

from bookings import notifications
from bookings.models import Notification, NotificationKind, NotificationStatus
from tests.factories.bookings import book

NOW = dt.datetime(2026, 6, 1, 7, 0, tzinfo=dt.UTC)


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def deliver_at(moment):
    """One round of the worker with the real clock at `moment` (claims are stamped with the real time)."""
    with time_machine.travel(moment, tick=False):
        return notifications.deliver_due(now=moment)


def killed_after_the_server_accepted(monkeypatch):
    """The worker dies once, right after the mail server accepted an email and before the row is marked sent."""
    record = notifications._record

    def die_once(notification, event, *, now):
        monkeypatch.setattr(notifications, "_record", record)
        raise KeyboardInterrupt  # what a killed process amounts to: no `except Exception` catches it

    monkeypatch.setattr(notifications, "_record", die_once)


@pytest.mark.django_db
def test_a_worker_killed_mid_send_is_replaced_after_the_window_and_the_resend_has_the_same_message_id(
    consultation, monkeypatch
):
    port = free_port()
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": port,
        "EMAIL_USE_TLS": False,
        "EMAIL_TIMEOUT": 10,
    }
    server.start()
    try:
        with override_settings(**smtp):
            booking = book(consultation, now=NOW)
            killed_after_the_server_accepted(monkeypatch)
            with pytest.raises(KeyboardInterrupt):
                deliver_at(NOW)
            stuck = Notification.objects.get(status=NotificationStatus.SENDING)
            assert len(inbox.messages) == 1

            window = notifications.stale_after()
            assert window == dt.timedelta(minutes=3)  # 12 SMTP steps × 10 s + 1 minute
            assert deliver_at(NOW + window - dt.timedelta(seconds=1)) == {
                "sent": 1,  # the other email, never claimed by the dead worker
                "skipped": 0,
                "retry": 0,
                "failed": 0,
            }
            stuck.refresh_from_db()
            assert stuck.status == NotificationStatus.SENDING

            assert deliver_at(NOW + window)["sent"] == 1
            stuck.refresh_from_db()
            assert stuck.status == NotificationStatus.SENT
    finally:
        server.stop()

    assert stuck.kind == NotificationKind.REQUEST_RECEIVED
    assert len(inbox.messages) == 3
    first, resent = [message for message in inbox.messages if message["To"] == booking.email]
    assert first["Message-ID"] == resent["Message-ID"] == notifications.message_id(stuck)
    assert first["Message-ID"].startswith(f"<notification-{stuck.pk}.")
    assert first["Message-ID"].endswith("@testserver>")
    (practice_copy,) = [message for message in inbox.messages if message["To"] != booking.email]
    assert practice_copy["Message-ID"] != first["Message-ID"]


@pytest.mark.django_db
def test_every_notification_has_its_own_message_id_and_keeps_it(consultation):
    first = book(consultation, now=NOW, hour=10)
    second = book(consultation, now=NOW, hour=12, email="sam@example.com")
    rows = list(Notification.objects.filter(booking__in=[first, second]).select_related("booking", "enquiry"))
    ids = {notifications.message_id(row) for row in rows}
    assert len(ids) == len(rows) == 4
    again = {notifications.message_id(row) for row in Notification.objects.select_related("booking", "enquiry")}
    assert again == ids

    deliver_at(NOW)
    assert {message.extra_headers["Message-ID"] for message in mail.outbox} == ids
    assert {message.message()["Message-ID"] for message in mail.outbox} == ids


@pytest.mark.django_db
@override_settings(EMAIL_TIMEOUT=30)
def test_the_reclaim_window_follows_the_smtp_timeout(consultation):
    window = notifications.stale_after()
    assert window == dt.timedelta(seconds=12 * 30 + 60)
    book(consultation, now=NOW)
    Notification.objects.update(status=NotificationStatus.SENDING, next_attempt_at=NOW)

    assert deliver_at(NOW + window - dt.timedelta(seconds=1))["sent"] == 0
    assert not mail.outbox
    assert deliver_at(NOW + window)["sent"] == 2
    assert len(mail.outbox) == 2


@pytest.mark.django_db
@override_settings(EMAIL_TIMEOUT=None)
def test_without_an_smtp_timeout_the_window_is_a_quarter_of_an_hour():
    assert notifications.stale_after() == dt.timedelta(minutes=15)
