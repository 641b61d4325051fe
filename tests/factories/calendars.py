import datetime as dt

import factory

from calendars.models import BusyCalendar, ExtraOpening


class BusyCalendarFactory(factory.django.DjangoModelFactory):
    name = factory.Sequence(lambda n: f"Calendar {n}")
    url = factory.Sequence(lambda n: f"https://calendar.example.com/ical/secret-{n}/basic.ics")
    is_active = True

    class Meta:
        model = BusyCalendar


class ExtraOpeningFactory(factory.django.DjangoModelFactory):
    date = dt.date(2026, 11, 7)  # a Saturday
    start_time = dt.time(10)
    end_time = dt.time(13)
    note = "Saturday clinic"

    class Meta:
        model = ExtraOpening
