import datetime as dt
import uuid

import factory

from bookings import selectors, services
from bookings.models import AvailabilityWindow, ConsultationType
from bookings.services import BookingRequest


class ConsultationTypeFactory(factory.django.DjangoModelFactory):
    name = factory.Sequence(lambda n: f"Consultation {n}")
    slug = factory.Sequence(lambda n: f"consultation-{n}")
    description = "A consultation."
    duration_minutes = 60
    buffer_before_minutes = 0
    buffer_after_minutes = 0
    minimum_notice_hours = 0
    horizon_days = 60
    slot_step_minutes = 30
    requires_approval = True

    class Meta:
        model = ConsultationType


def open_every_day(start=dt.time(9), end=dt.time(17)):
    AvailabilityWindow.objects.bulk_create(
        AvailabilityWindow(weekday=day, start_time=start, end_time=end) for day in range(7)
    )
    selectors.setup_changed()  # bulk_create sends no signal


def visitor_request(**overrides):
    values = {
        "name": "Alex Visitor",
        "email": "alex@example.com",
        "reason": "Bloating after meals and tiredness",
        "consent_privacy": True,
        "consent_health_data": True,
        "acknowledged_not_emergency": True,
        "visitor_time_zone": "Europe/Berlin",
        "idempotency_key": uuid.uuid4(),
    }
    values.update(overrides)
    return BookingRequest(**values)


def book(consultation, *, now, days=3, hour=10, **overrides):
    """A visitor's request for `consultation`, `days` after `now` at `hour`:00 UTC, through the service."""
    start = (now + dt.timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)
    return services.booking_request(
        consultation_type=consultation, starts_at=start, request=visitor_request(**overrides), now=now
    ).booking


def details_form_data(*, now, **overrides):
    """What a visitor's browser posts on the booking details step (add `start` and `src`); None drops a field."""
    from bookings.forms import form_stamp

    data = {
        "name": "Alex Visitor",
        "email": "alex@example.com",
        "phone": "",
        "contact_method": "email",
        "reason": "Tiredness and bloating",
        "heard_about": "article",
        "consent_privacy": "on",
        "consent_health_data": "on",
        "acknowledged_not_emergency": "on",
        "website": "",
        "started": form_stamp(now - dt.timedelta(minutes=2)),
        "idempotency_key": str(uuid.uuid4()),
        "tz": "Europe/Berlin",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}
