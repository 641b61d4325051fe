import datetime as dt

from django.contrib.auth.models import Permission

from wagtail.models import ModelLogEntry

import pytest

from bookings import services
from bookings.models import Booking, BookingStatus, Notification, NotificationKind
from tests.factories.bookings import ConsultationTypeFactory, open_every_day, visitor_request


@pytest.fixture
def pending(practice_settings):
    open_every_day()
    consultation = ConsultationTypeFactory(name="Initial consultation")
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
    return services.booking_request(
        consultation_type=consultation,
        starts_at=start,
        request=visitor_request(reason="Joint pain in the mornings"),
        now=dt.datetime.now(dt.UTC),
    ).booking


@pytest.mark.django_db
def test_admin_sees_waiting_requests_and_the_reason_only_in_the_detail(admin_client, pending):
    inbox = admin_client.get("/admin/bookings/").content.decode()
    assert "Waiting for you (1)" in inbox
    assert pending.reference in inbox
    assert "Joint pain" not in inbox
    detail = admin_client.get(f"/admin/bookings/{pending.pk}/").content.decode()
    assert "Joint pain in the mornings" in detail
    assert ">Confirm</button>" in detail and ">Decline</button>" in detail
    found = admin_client.get("/admin/bookings/", {"show": "all", "q": pending.reference}).content.decode()
    assert pending.reference in found


@pytest.mark.django_db
def test_admin_confirms_a_request_with_an_audit_entry_a_message_and_an_email(admin_client, admin_user, pending):
    response = admin_client.post(f"/admin/bookings/{pending.pk}/confirm/", follow=True)
    pending.refresh_from_db()
    assert pending.status == BookingStatus.CONFIRMED
    assert f"Booking {pending.reference} confirmed" in response.content.decode()
    assert Notification.objects.filter(booking=pending, kind=NotificationKind.CONFIRMED).exists()
    entry = ModelLogEntry.objects.get(action="bookings.confirm")
    assert entry.user_id == admin_user.pk and entry.object_id == str(pending.pk)
    again = admin_client.post(f"/admin/bookings/{pending.pk}/confirm/", follow=True).content.decode()
    assert "cannot become confirmed" in again
    assert ModelLogEntry.objects.filter(action="bookings.confirm").count() == 1


@pytest.mark.django_db
def test_admin_declines_and_cancels(admin_client, pending):
    admin_client.post(f"/admin/bookings/{pending.pk}/decline/")
    pending.refresh_from_db()
    assert pending.status == BookingStatus.DECLINED
    assert ModelLogEntry.objects.filter(action="bookings.decline").exists()


@pytest.mark.django_db
def test_closing_waits_for_the_appointment(admin_client, pending):
    admin_client.post(f"/admin/bookings/{pending.pk}/confirm/")
    response = admin_client.post(f"/admin/bookings/{pending.pk}/completed/", follow=True)
    assert "only be closed once it has started" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == BookingStatus.CONFIRMED


@pytest.mark.django_db
def test_staff_without_the_booking_permission_see_nothing(client, django_user_model, pending):
    editor = django_user_model.objects.create_user("editor", password="a-long-editor-passphrase")
    editor.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(editor)
    assert client.get("/admin/bookings/").status_code in (302, 403)
    assert client.get(f"/admin/bookings/{pending.pk}/").status_code in (302, 403)
    assert client.post(f"/admin/bookings/{pending.pk}/confirm/").status_code in (302, 403)
    assert Booking.objects.get(pk=pending.pk).status == BookingStatus.PENDING
    assert "Joint pain" not in client.get("/admin/").content.decode()


@pytest.mark.django_db
def test_unknown_actions_and_get_requests_change_nothing(admin_client, pending):
    assert admin_client.post(f"/admin/bookings/{pending.pk}/delete/").status_code in (302, 403)
    assert admin_client.get(f"/admin/bookings/{pending.pk}/confirm/").status_code == 405
    assert Booking.objects.get(pk=pending.pk).status == BookingStatus.PENDING
