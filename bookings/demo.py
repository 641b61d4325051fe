"""
Demo booking set-up: three consultation types, weekly opening hours and a holiday. Safe to repeat.

How each type takes place: the discovery call by phone (the practitioner calls the client), the
consultations by video in a new private room on the practice's Jitsi Meet server for each booking.
"""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from . import selectors
from .models import AvailabilityWindow, ConsultationFormat, ConsultationType, TimeOff, VideoLinkMode

TYPES = [
    {
        "slug": "discovery-call",
        "name": "Free discovery call",
        "description": "A short, free call to talk about what you are looking for and whether working together suits you.",
        "what_to_expect": "A phone call from Naomi at the time you choose\nA few questions about what you are looking for\nAn honest view on whether working together suits you",
        "duration_minutes": 15,
        "price": Decimal("0"),
        "format": ConsultationFormat.PHONE,
        "buffer_after_minutes": 5,
        "minimum_notice_hours": 12,
        "slot_step_minutes": 15,
        "requires_approval": False,
        "sort_order": 0,
    },
    {
        "slug": "initial-consultation",
        "name": "Initial consultation",
        "description": "A full hour to go through your history, daily routine and goals, and agree first steps.",
        "what_to_expect": "We go through your health history and the care you have now\nWe look at your daily routine: food, sleep, movement and stress\nWe agree on two or three realistic first steps",
        "duration_minutes": 60,
        "price": Decimal("120"),
        "format": ConsultationFormat.VIDEO,
        "video_link_mode": VideoLinkMode.JITSI,
        "buffer_after_minutes": 15,
        "minimum_notice_hours": 48,
        "slot_step_minutes": 30,
        "requires_approval": True,
        "sort_order": 1,
    },
    {
        "slug": "follow-up",
        "name": "Follow-up consultation",
        "description": "Thirty minutes to review how things are going and adjust the plan.",
        "what_to_expect": "We look at how the first steps went\nWe adjust the plan to fit your life\nWe agree when, or whether, to meet again",
        "duration_minutes": 30,
        "price": Decimal("60"),
        "format": ConsultationFormat.VIDEO,
        "video_link_mode": VideoLinkMode.JITSI,
        "buffer_after_minutes": 10,
        "minimum_notice_hours": 24,
        "slot_step_minutes": 30,
        "requires_approval": True,
        "sort_order": 2,
    },
]

WEEK = (
    [(day, dt.time(9, 0), dt.time(12, 30)) for day in range(4)]
    + [(day, dt.time(13, 30), dt.time(17, 0)) for day in range(4)]
    + [(4, dt.time(9, 0), dt.time(13, 0))]
)


def load_bookings(*, zone: ZoneInfo):
    for data in TYPES:
        ConsultationType.objects.get_or_create(slug=data["slug"], defaults=data)
    if not AvailabilityWindow.objects.exists():
        AvailabilityWindow.objects.bulk_create(
            AvailabilityWindow(weekday=day, start_time=start, end_time=end) for day, start, end in WEEK
        )
        selectors.setup_changed()  # bulk_create sends no signal
    TimeOff.objects.get_or_create(
        title="Winter holiday",
        defaults={
            "starts_at": dt.datetime(2026, 12, 24, 0, 0, tzinfo=zone),
            "ends_at": dt.datetime(2027, 1, 4, 0, 0, tzinfo=zone),
        },
    )
