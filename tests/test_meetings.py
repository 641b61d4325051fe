"""
How a consultation takes place (video link, phone, address) and the reminders that close the loop:
"I'll be there", attendance on the dashboard, the offer of a new time after a no-show, and the
booking policy the client saw.
"""

import datetime as dt
import re
import uuid

from django.core import mail

from wagtail.models import ModelLogEntry

import icalendar
import pytest
import time_machine

from bookings import meetings, notifications, services
from bookings.forms import BookingDetailsForm, form_stamp
from bookings.models import (
    Booking,
    BookingStatus,
    ConsultationFormat,
    Notification,
    NotificationKind,
    VideoLinkMode,
)
from tests.factories.bookings import ConsultationTypeFactory, book
from tests.workspace import act

NOW = dt.datetime(2026, 3, 3, 10, 0, tzinfo=dt.UTC)  # a Tuesday; London is on UTC until 29 March
REASON = "Bloating after meals and tiredness"  # what book() sends as the reason
ROOM = "https://video.example.com/naomi-room"
PASTED = "https://zoom.example.com/j/5550123"
ADDRESS = "12 Garden Row\nBath BA1 1AA"
ARRIVAL = "Ring the bell marked Studio 2."
POLICY = "<p>Cancel at least <b>24 hours</b> ahead &amp; missed consultations are charged.</p>"
POLICY_TEXT = "Cancel at least 24 hours ahead & missed consultations are charged."


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def texts(message) -> list[str]:
    """The text and HTML parts of an email and its attachments, decoded."""
    parts = []
    for part in message.message().walk():
        payload = part.get_payload(decode=True)
        if payload:
            parts.append(payload.decode("utf-8", errors="replace"))
    return parts


def sent(kind_in_subject: str, *, now=NOW):
    """The email whose subject contains `kind_in_subject`, after the outbox is delivered at `now`."""
    notifications.deliver_due(now=now)
    return next(message for message in mail.outbox if kind_in_subject in message.subject)


def ics_event(message):
    content = next(content for name, content, _ in message.attachments if name.endswith(".ics"))
    return next(iter(icalendar.Calendar.from_ical(content).walk("VEVENT")))


def html_part(message) -> str:
    return next(content for content, kind in message.alternatives if kind == "text/html")


@pytest.fixture
def in_person_practice(practice_settings):
    practice_settings.address = ADDRESS
    practice_settings.save()
    return practice_settings


FORMATS = {
    # name: (consultation type fields, what shows once confirmed, its calendar LOCATION, its calendar URL)
    "video-fixed": (
        {"format": ConsultationFormat.VIDEO, "video_link_mode": VideoLinkMode.FIXED, "video_link": ROOM},
        [ROOM],
        ROOM,
        ROOM,
    ),
    "phone": (
        {"format": ConsultationFormat.PHONE},
        ["will phone you at the time of the consultation", "07700 900123"],
        "Phone call: we will call you",
        None,
    ),
    "in-person": (
        {"format": ConsultationFormat.IN_PERSON, "arrival_notes": ARRIVAL},
        ["12 Garden Row", ARRIVAL],
        "12 Garden Row, Bath BA1 1AA",
        None,
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", FORMATS)
def test_meeting_details_reach_the_client_only_once_confirmed(client, clock, consultation, in_person_practice, name):
    fields, shown, location, url = FORMATS[name]
    kind = ConsultationTypeFactory(**fields)
    booking = book(kind, now=NOW, phone="07700 900123")
    manage = f"/book/manage/{booking.manage_token}/"

    received = sent("We have your request")
    pending_page = client.get(manage).content.decode()
    for text in shown:
        if text != "12 Garden Row":  # the address is in every page's footer anyway
            assert text not in pending_page
        assert all(text not in part for part in texts(received))
    assert client.get(f"{manage}calendar.ics").status_code == 404

    services.booking_confirm(booking=booking, now=NOW)
    confirmed = sent("is confirmed")
    event = ics_event(confirmed)
    assert str(event["location"]) == location
    assert (str(event["url"]) if "url" in event else None) == url
    for text in shown:
        assert text in confirmed.body and text in html_part(confirmed)
        assert text in client.get(manage).content.decode()
    assert (
        str(icalendar.Calendar.from_ical(client.get(f"{manage}calendar.ics").content).walk("VEVENT")[0]["location"])
        == location
    )

    mail.outbox.clear()
    notifications.queue_reminders(now=booking.starts_at - dt.timedelta(hours=12))
    reminder = sent("Reminder", now=booking.starts_at - dt.timedelta(hours=12))
    for text in shown:
        assert text in reminder.body and text in html_part(reminder)
    for message in (received, confirmed, reminder):
        assert all(REASON not in part for part in texts(message))


@pytest.mark.django_db
def test_a_phone_number_is_not_part_of_the_calendar_file(consultation):
    phone = ConsultationTypeFactory(format=ConsultationFormat.PHONE)
    booking = book(phone, now=NOW, phone="07700 900123")
    services.booking_confirm(booking=booking, now=NOW)
    calendar = notifications.calendar_file(Booking.objects.get(pk=booking.pk), now=NOW).decode()
    assert "07700" not in calendar and REASON not in calendar


@pytest.mark.django_db
def test_a_pasted_link_is_required_when_confirming_and_then_sent(practice_client, clock, consultation):
    kind = ConsultationTypeFactory(format=ConsultationFormat.VIDEO, video_link_mode=VideoLinkMode.PASTED)
    booking = book(kind, now=NOW)
    form = practice_client.get(f"/admin/bookings/{booking.pk}/confirm/").content.decode()
    assert "Video call link" in form

    missing = act(practice_client, booking, "confirm")
    assert missing.status_code == 400
    assert "Paste the link of the video call" in missing.content.decode()
    insecure = act(practice_client, booking, "confirm", meeting_url="http://zoom.example.com/j/1")
    assert insecure.status_code == 400
    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING and booking.meeting_url == ""

    act(practice_client, booking, "confirm", meeting_url=PASTED)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED and booking.meeting_url == PASTED
    confirmed = sent("is confirmed")
    assert PASTED in confirmed.body and PASTED in html_part(confirmed)
    assert str(ics_event(confirmed)["location"]) == PASTED
    entry = ModelLogEntry.objects.get(action="bookings.confirm")
    assert PASTED not in str(entry.data)


@pytest.mark.django_db
def test_confirming_a_phone_consultation_asks_for_no_link(practice_client, consultation):
    phone = ConsultationTypeFactory(format=ConsultationFormat.PHONE)
    booking = book(phone, now=NOW, phone="07700 900123")
    assert "Video call link" not in practice_client.get(f"/admin/bookings/{booking.pk}/confirm/").content.decode()
    act(practice_client, booking, "confirm")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED and booking.meeting_url == ""


@pytest.mark.django_db
def test_each_jitsi_booking_gets_its_own_unguessable_room_that_stays_the_same(consultation, practice_settings):
    practice_settings.jitsi_server = "https://video.practice.example/"
    practice_settings.save()
    first, second = book(consultation, now=NOW), book(consultation, now=NOW, days=4)
    assert first.meeting_url == ""  # nothing before confirmation
    rooms = []
    for booking in (first, second):
        services.booking_confirm(booking=booking, now=NOW)
        booking.refresh_from_db()
        prefix = "https://video.practice.example/" + meetings.ROOM_PREFIX
        assert booking.meeting_url.startswith(prefix)
        token = booking.meeting_url.removeprefix(prefix)
        # token_urlsafe: 6 bits per character; 22 characters would be 128 bits.
        assert re.fullmatch(r"[A-Za-z0-9_-]{32,}", token), token
        assert len(token) * 6 >= 128
        rooms.append(booking.meeting_url)
    assert rooms[0] != rooms[1]

    services.booking_move(booking=first, new_start=first.starts_at + dt.timedelta(hours=2), by_client=False, now=NOW)
    services.booking_resend_confirmation(booking=first, now=NOW)
    first.refresh_from_db()
    assert first.meeting_url == rooms[0]
    notifications.deliver_due(now=NOW)
    confirmations = [m for m in mail.outbox if f"confirmed ({first.reference})" in m.subject]
    assert len(confirmations) == 2 and all(rooms[0] in m.body for m in confirmations)


@pytest.mark.django_db
def test_an_automatically_confirmed_video_booking_gets_its_room_at_once(practice_settings, consultation):
    instant = ConsultationTypeFactory(requires_approval=False)
    booking = book(instant, now=NOW)
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.meeting_url.startswith("https://meet.jit.si/" + meetings.ROOM_PREFIX)
    assert booking.meeting_url in sent("is confirmed").body


def _details_data(**overrides):
    data = {
        "name": "Alex Visitor",
        "email": "alex@example.com",
        "phone": "",
        "contact_method": "email",
        "reason": "Tiredness",
        "consent_privacy": "on",
        "consent_health_data": "on",
        "acknowledged_not_emergency": "on",
        "started": form_stamp(NOW - dt.timedelta(minutes=2)),
        "idempotency_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_a_phone_consultation_needs_the_number_to_call(client, clock, consultation):
    phone = ConsultationTypeFactory(format=ConsultationFormat.PHONE, slug="call")
    form = BookingDetailsForm(_details_data(), now=NOW, consultation=phone)
    assert not form.is_valid()
    assert form.errors["phone"] == ["Please give the phone number we should call you on for the consultation."]
    assert BookingDetailsForm(_details_data(), now=NOW, consultation=consultation).is_valid()
    assert BookingDetailsForm(_details_data(phone="07700 900123"), now=NOW, consultation=phone).is_valid()

    start = (NOW + dt.timedelta(days=2)).replace(hour=11)
    url = f"/book/call/details/?start={start.isoformat().replace('+', '%2B')}&tz=Europe/London"
    page = client.get(url).content.decode()
    assert "We call you on this number" in page
    refused = client.post("/book/call/details/", {**_details_data(), "start": start.isoformat(), "tz": "Europe/London"})
    assert "Please give the phone number we should call you on" in refused.content.decode()
    assert not Booking.objects.exists()
    accepted = client.post(
        "/book/call/details/",
        {**_details_data(phone="07700 900123"), "start": start.isoformat(), "tz": "Europe/London"},
    )
    assert accepted.status_code == 302
    assert Booking.objects.get().phone == "07700 900123"


@pytest.fixture
def confirmed(consultation):
    booking = book(consultation, now=NOW)
    services.booking_confirm(booking=booking, now=NOW)
    booking.refresh_from_db()
    return booking


def _attend_url(booking):
    return f"/book/attend/{booking.attendance_token}/"


@pytest.mark.django_db
def test_ill_be_there_marks_attendance_once_without_signing_in(client, clock, confirmed):
    notifications.queue_reminders(now=confirmed.starts_at - dt.timedelta(hours=12))
    reminder = sent("Reminder", now=confirmed.starts_at - dt.timedelta(hours=12))
    link = re.search(r"https?://\S+/book/attend/\S+/", reminder.body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    assert "I'll be there" in reminder.body and "I need to change" in reminder.body
    assert confirmed.manage_token in reminder.body
    assert "I’ll be there" in html_part(reminder)

    page = client.get("/" + path)
    assert page.status_code == 200
    assert "Yes, I’ll be there" in page.content.decode()
    confirmed.refresh_from_db()
    assert confirmed.attendance_confirmed_at is None  # opening the link (or a mail scanner) changes nothing

    thanks = client.post("/" + path, follow=True).content.decode()
    assert "We have noted that you will be there" in thanks
    confirmed.refresh_from_db()
    assert confirmed.attendance_confirmed_at == NOW
    clock.shift(dt.timedelta(hours=1))
    client.post("/" + path)
    confirmed.refresh_from_db()
    assert confirmed.attendance_confirmed_at == NOW
    entries = ModelLogEntry.objects.filter(action="bookings.attendance", object_id=str(confirmed.pk))
    assert entries.count() == 1 and entries.get().user is None


@pytest.mark.django_db
def test_a_forged_mangled_stale_or_expired_attendance_link_is_a_404(client, clock, confirmed, consultation):
    token = confirmed.attendance_token
    assert client.get(f"/book/attend/{token[:-1]}{'A' if token[-1] != 'A' else 'B'}/").status_code == 404
    assert client.get(f"/book/attend/{confirmed.manage_token}/").status_code == 404
    assert client.get("/book/attend/nothing-here/").status_code == 404
    assert client.post(f"/book/attend/{token[:-2]}/").status_code == 404
    pending = book(consultation, now=NOW, days=5)
    assert client.get(_attend_url(pending)).status_code == 404  # not confirmed: nothing to attend yet

    services.booking_move(
        booking=confirmed, new_start=confirmed.starts_at + dt.timedelta(hours=2), by_client=False, now=NOW
    )
    assert client.get(f"/book/attend/{token}/").status_code == 404  # for the old time
    confirmed.refresh_from_db()
    fresh = _attend_url(confirmed)
    assert client.get(fresh).status_code == 200

    clock.move_to(confirmed.starts_at + dt.timedelta(minutes=1))
    assert client.get(fresh).status_code == 404
    assert client.post(fresh).status_code == 404
    confirmed.refresh_from_db()
    assert confirmed.attendance_confirmed_at is None


def _week_rows(html):
    section = re.search(r'<section [^>]*id="practice-week-section".*?</section>', html, re.S).group(0)
    return {row.split("</a>")[0].rsplit(">", 1)[-1]: row for row in section.split("<tr>")[1:]}


@pytest.mark.django_db
def test_dashboard_shows_confirmed_attendance_and_flags_silence_close_to_the_start(
    practice_client, clock, consultation, practice_settings
):
    soon = book(consultation, now=NOW, days=1, hour=9, name="Sam Soon")  # 23 hours ahead
    answered = book(consultation, now=NOW, days=0, hour=14, name="Ann Answered", email="ann@example.com")
    later = book(consultation, now=NOW, days=4, name="Lee Later", email="lee@example.com")
    waiting = book(consultation, now=NOW, days=0, hour=15, name="Pat Pending", email="pat@example.com")
    for booking in (soon, answered, later):
        services.booking_confirm(booking=booking, now=NOW)
    services.booking_attendance_confirm(booking=answered, now=NOW)

    rows = _week_rows(practice_client.get("/admin/").content.decode())
    by_name = {name: next(row for row in rows.values() if name in row) for name in ("Sam", "Ann", "Lee", "Pat")}
    assert "✓ confirmed attendance" in by_name["Ann"] and "not confirmed" not in by_name["Ann"]
    assert "not confirmed" in by_name["Sam"] and "✓" not in by_name["Sam"]
    assert "not confirmed" not in by_name["Lee"] and "✓" not in by_name["Lee"]
    assert "not confirmed" not in by_name["Pat"]  # a request not yet confirmed is not asked
    assert waiting.status == BookingStatus.PENDING

    practice_settings.attendance_flag_hours = 120
    practice_settings.save()
    rows = _week_rows(practice_client.get("/admin/").content.decode())
    assert "not confirmed" in next(row for row in rows.values() if "Lee" in row)


@pytest.mark.django_db
def test_inspect_page_says_whether_the_client_confirmed_attendance(practice_client, clock, confirmed):
    page = practice_client.get(f"/admin/bookings/inspect/{confirmed.pk}/").content.decode()
    assert "Not confirmed yet" in page
    services.booking_attendance_confirm(booking=confirmed, now=NOW)
    page = practice_client.get(f"/admin/bookings/inspect/{confirmed.pk}/").content.decode()
    assert "Confirmed by the client on 3 Mar 2026, 10:00" in page
    assert "Attendance confirmed by the client" in page  # the history


@pytest.mark.django_db
def test_a_no_show_is_offered_a_new_time_kindly_without_the_reason(practice_client, clock, confirmed, consultation):
    clock.move_to(confirmed.starts_at + dt.timedelta(minutes=20))
    act(practice_client, confirmed, "no_show")
    confirmed.refresh_from_db()
    assert confirmed.status == BookingStatus.NO_SHOW
    assert Notification.objects.filter(booking=confirmed, kind=NotificationKind.REBOOK_OFFER).count() == 1
    notifications.deliver_due(now=confirmed.starts_at + dt.timedelta(minutes=21))
    offer = next(message for message in mail.outbox if "new time" in message.subject)
    assert offer.to == [confirmed.email]
    assert f"/book/{consultation.slug}/" in offer.body and f"/book/{consultation.slug}/" in html_part(offer)
    for part in texts(offer):
        assert REASON not in part
    assert not offer.attachments


@pytest.mark.django_db
def test_no_rebook_offer_when_the_practice_turned_it_off_or_after_a_completed_consultation(
    confirmed, consultation, practice_settings
):
    practice_settings.send_rebook_offer = False
    practice_settings.save()
    after = confirmed.starts_at + dt.timedelta(minutes=20)
    services.booking_no_show(booking=confirmed, now=after)
    completed = book(consultation, now=NOW, days=5)
    services.booking_confirm(booking=completed, now=NOW)
    practice_settings.send_rebook_offer = True
    practice_settings.save()
    services.booking_complete(booking=completed, now=completed.starts_at + dt.timedelta(minutes=20))
    assert not Notification.objects.filter(kind=NotificationKind.REBOOK_OFFER).exists()


@pytest.mark.django_db
def test_the_policy_is_shown_when_booking_confirmed_and_managing_and_its_version_kept(
    client, practice_client, clock, consultation, practice_settings
):
    practice_settings.booking_policy = POLICY
    practice_settings.save()
    start = (NOW + dt.timedelta(days=2)).replace(hour=11)
    slug = consultation.slug
    details = client.get(f"/book/{slug}/details/?start={start.isoformat().replace('+', '%2B')}&tz=Europe/London")
    assert "missed consultations are charged" in details.content.decode()

    response = client.post(
        f"/book/{slug}/details/", {**_details_data(), "start": start.isoformat(), "tz": "Europe/London"}
    )
    assert response.status_code == 302
    booking = Booking.objects.get()
    assert booking.policy_version == meetings.policy_version(POLICY) and len(booking.policy_version) == 12
    assert "missed consultations are charged" in client.get(response["Location"]).content.decode()

    services.booking_confirm(booking=booking, now=NOW)
    confirmed = sent("is confirmed")
    assert POLICY_TEXT in confirmed.body
    assert "<b>24 hours</b> ahead &amp; missed consultations are charged" in html_part(confirmed)
    inspect = practice_client.get(f"/admin/bookings/inspect/{booking.pk}/").content.decode()
    assert f"Booking policy version {booking.policy_version}" in inspect

    practice_settings.booking_policy = "<p>A new policy.</p>"
    practice_settings.save()
    later = book(consultation, now=NOW, days=5)
    assert later.policy_version not in ("", booking.policy_version)
    booking.refresh_from_db()
    assert booking.policy_version == meetings.policy_version(POLICY)


@pytest.mark.django_db
def test_the_practitioner_sets_how_a_type_takes_place_and_a_fixed_room_needs_its_link(admin_client, consultation):
    url = f"/admin/snippets/bookings/consultationtype/edit/{consultation.pk}/"
    page = admin_client.get(url).content.decode()
    assert "How the client joins" in page and "Jitsi Meet server" in page
    data = {
        "name": consultation.name,
        "slug": consultation.slug,
        "description": "",
        "duration_minutes": "60",
        "price": "",
        "format": ConsultationFormat.VIDEO,
        "video_link_mode": VideoLinkMode.FIXED,
        "video_link": "",
        "arrival_notes": "",
        "buffer_before_minutes": "0",
        "buffer_after_minutes": "0",
        "minimum_notice_hours": "0",
        "horizon_days": "60",
        "slot_step_minutes": "30",
        "requires_approval": "on",
        "is_active": "on",
        "sort_order": "0",
    }
    refused = admin_client.post(url, data)
    assert refused.status_code == 200
    assert "Enter the address of your video room" in refused.content.decode()
    assert admin_client.post(url, {**data, "video_link": ROOM}).status_code == 302
    consultation.refresh_from_db()
    assert consultation.video_link_mode == VideoLinkMode.FIXED and consultation.video_link == ROOM
