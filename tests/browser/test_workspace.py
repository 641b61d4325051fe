"""A practice admin's morning in the workspace, in a real browser, as she would go through it."""

import csv
import datetime as dt
import uuid

from django.contrib.auth.models import Group, User
from django.core import mail
from django.utils import timezone

from bookings import selectors, services
from bookings.models import Booking, BookingStatus, ConsultationType, Enquiry, EnquiryStatus, Note
from bookings.notifications import deliver_due
from tests.browser.conftest import axe_violations, log_in
from tests.browser.test_booking import open_every_day
from tests.conftest import app_device
from tests.factories.bookings import visitor_request

PASSWORD = "a-long-assistant-passphrase"
REASONS = ["Hair falling out in patches", "Bloating after every meal", "Eczema that flares in winter"]
ENQUIRY_MESSAGE = "Do you see people with Hashimoto's thyroiditis?"


def _morning_data():
    open_every_day()
    user = User.objects.create_user("sam", password=PASSWORD, first_name="Sam", last_name="Assistant")
    user.groups.add(Group.objects.get(name="Practice admins"))
    app_device(user)  # health details: she signs in with a code from her authenticator app
    consultation = ConsultationType.objects.get(slug="initial-consultation")
    now = timezone.now()
    zone = selectors.practice_zone()
    starts = selectors.next_free_slots(
        consultation_type=consultation, after=now + dt.timedelta(days=2), now=now, zone=zone, count=40
    )[::6]
    bookings = [
        services.booking_request(
            consultation_type=consultation,
            starts_at=start,
            request=visitor_request(name=name, email=f"client{n}@example.com", reason=reason, source_page="/articles/"),
            now=now - dt.timedelta(hours=3 - n),
        ).booking
        for n, (start, name, reason) in enumerate(
            zip(starts, ["Ada Client", "Ben Client", "Cleo Client"], REASONS, strict=False)
        )
    ]
    enquiry = services.enquiry_submit(
        request=services.EnquiryRequest(
            name="Jo Sender",
            email="jo@example.com",
            message=ENQUIRY_MESSAGE,
            topic="general",
            consent_privacy=True,
            idempotency_key=uuid.uuid4(),
        ),
        now=now,
    )
    return bookings, enquiry, starts


def test_a_practice_admins_morning(demo_site, open_page, tmp_path):
    (first, second, third), enquiry, starts = _morning_data()
    deliver_due()
    mail.outbox.clear()

    visit = open_page(width=1280)
    page = visit.page
    log_in(visit, "sam", PASSWORD)

    # The dashboard: what waits, in the menu and in the panel.
    page.get_by_role("link", name="Bookings (3 waiting)").wait_for()
    page.get_by_role("link", name="Enquiries (1 waiting)").wait_for()
    page.get_by_role("heading", name="Waiting for you (3)").wait_for()
    page.get_by_role("heading", name="Unanswered enquiries (1)").wait_for()

    # Open the oldest waiting request from the panel and confirm it.
    page.locator("#practice-waiting-section a[href*='/admin/bookings/inspect/']").first.click()
    page.wait_for_url(f"**/admin/bookings/inspect/{first.pk}/")
    page.get_by_text(REASONS[0]).wait_for()
    page.get_by_role("link", name="Confirm").click()  # a video call: the page offers a meeting link
    page.get_by_role("button", name="Confirm").click()
    page.get_by_text(f"Booking {first.reference} confirmed").wait_for()

    # Move the second to another free time.
    visit.goto(f"/admin/bookings/inspect/{second.pk}/")
    page.get_by_role("link", name="Move to another time").click()
    new_day = (starts[1] + dt.timedelta(days=1)).astimezone(selectors.practice_zone()).date()
    page.get_by_label("Show free times on").fill(new_day.isoformat())
    page.get_by_role("button", name="Show times").click()
    page.locator("input[name='new_start']").first.check()
    chosen = page.locator("input[name='new_start']:checked").get_attribute("value")
    page.get_by_role("button", name="Move to another time").click()
    page.get_by_text(f"Booking {second.reference} moved").wait_for()

    # Decline the third with a personal message, and add a note.
    visit.goto(f"/admin/bookings/inspect/{third.pk}/")
    page.get_by_role("link", name="Decline").click()
    page.get_by_label("Personal message (optional)").fill("I am fully booked that week; please choose January.")
    page.get_by_role("button", name="Decline").click()
    page.get_by_text(f"Booking {third.reference} declined").wait_for()
    page.locator("textarea[name='text']").fill("Suggested January by email.")
    page.get_by_role("button", name="Add note").click()
    page.get_by_text(f"Note added to {third.reference}").wait_for()

    # Today's agenda, checked with axe.
    visit.goto("/admin/bookings/agenda/")
    page.get_by_role("heading", level=1).wait_for()
    violations, report = axe_violations(page)
    assert violations == [], report

    # Answer the enquiry.
    page.get_by_role("link", name="Enquiries (1 waiting)").click()
    page.locator(f"a[href='/admin/enquiries/inspect/{enquiry.pk}/']").first.click()
    page.get_by_text(ENQUIRY_MESSAGE).wait_for()
    page.get_by_role("link", name="Reply").click()
    page.get_by_label("Your reply").fill("Yes, often. A discovery call is a good first step.")
    page.get_by_role("button", name="Reply").click()
    page.get_by_text(f"Your reply to {enquiry.reference}").wait_for()

    # Export the bookings as CSV and read the file.
    visit.goto("/admin/bookings/")
    page.get_by_role("button", name="Actions", exact=True).click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    path = tmp_path / "bookings.csv"
    download.value.save_as(path)
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert {row["Reference"] for row in rows} == {first.reference, second.reference, third.reference}
    assert all(reason not in path.read_text() for reason in REASONS)

    # What happened, in the database.
    first.refresh_from_db(), second.refresh_from_db(), third.refresh_from_db(), enquiry.refresh_from_db()
    assert first.status == BookingStatus.CONFIRMED
    assert second.starts_at.isoformat() == dt.datetime.fromisoformat(chosen).isoformat()
    assert third.status == BookingStatus.DECLINED
    assert Note.objects.get(booking=third).text == "Suggested January by email."
    assert enquiry.status == EnquiryStatus.ANSWERED

    # The clients' emails: one for each step, none with a reason or the enquiry's message.
    deliver_due()
    sent = {(message.to[0], message.subject) for message in mail.outbox}
    assert any(to == "client0@example.com" and "confirmed" in subject.lower() for to, subject in sent)
    assert any(to == "client1@example.com" and "new time" in subject.lower() for to, subject in sent)
    assert any(to == "client2@example.com" for to, _ in sent)
    assert any(to == "jo@example.com" and subject.startswith("Re:") for to, subject in sent)
    declined = next(message for message in mail.outbox if message.to == ["client2@example.com"])
    assert "fully booked that week" in declined.body
    for message in mail.outbox:
        content = message.body + "".join(str(part[0]) for part in getattr(message, "alternatives", []))
        for attachment in message.attachments:
            content += attachment[1].decode() if isinstance(attachment[1], bytes) else str(attachment[1])
        assert all(reason not in content for reason in REASONS), message.subject
        assert ENQUIRY_MESSAGE not in content and "Suggested January" not in content, message.subject
    assert Booking.objects.count() == 3 and Enquiry.objects.count() == 1
    assert visit.foreign_requests() == []
