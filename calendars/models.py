"""
The practitioner's own calendars, read so that her busy times block consultation slots, and the
one-off openings she adds outside her weekly hours.

BusyCalendar: a private iCalendar address (Google, Apple, Outlook) that the worker reads every
BUSY_CALENDAR_SYNC_MINUTES (calendars/sync.py). Each read keeps the last copy that parsed and, in
one transaction, replaces the calendar's BusyInterval rows: aware datetimes in UTC, from now to the
longest booking horizon. A read that fails keeps both and records why, without the address.

ExtraOpening: a date with opening hours in the practice's zone, offered exactly like weekly opening
hours. Time off, busy times and existing bookings still win over it.
"""

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils import timezone

from wagtail.admin.panels import FieldPanel, FieldRowPanel

from practice.crypto import EncryptedTextField

URL_SCHEMES = ["https", "http", "webcal"]


class BusyCalendar(models.Model):
    name = models.CharField(max_length=80, help_text="For you only, for example 'Personal (Google)'.")
    url = models.CharField(
        "secret address in iCal format",
        max_length=2000,
        validators=[URLValidator(schemes=URL_SCHEMES)],
        help_text=(
            "The calendar's private address ending in .ics. Google Calendar: Settings, choose the calendar, "
            "'Integrate calendar', then copy 'Secret address in iCal format'. Apple (iCloud): in Calendar, "
            "share the calendar, tick 'Public Calendar' and copy the link (webcal://…). Outlook: Settings, "
            "Calendar, 'Shared calendars', publish the calendar ('Can view when I'm busy' is enough) and copy "
            "the ICS link. Anyone with this address can see the calendar: never share it."
        ),
    )
    is_active = models.BooleanField(
        default=True, help_text="Untick to stop reading this calendar; its busy times then stop blocking slots."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # What the last read left: the server's validators for the next conditional request, the last
    # copy that parsed, and when reads were tried and last worked.
    etag = models.CharField(max_length=255, blank=True, editable=False)
    last_modified = models.CharField(max_length=64, blank=True, editable=False)
    # Event titles may name clients, so the copy is encrypted like other health details.
    content = EncryptedTextField(blank=True, editable=False)
    fetched_at = models.DateTimeField("last tried", null=True, blank=True, editable=False)
    last_success_at = models.DateTimeField("last worked", null=True, blank=True, editable=False)
    last_error = models.CharField("problem", max_length=255, blank=True, editable=False)

    panels = [FieldPanel("name"), FieldPanel("url"), FieldPanel("is_active")]

    class Meta:
        ordering = ["name"]
        verbose_name = "busy calendar"
        verbose_name_plural = "busy calendars"

    def __str__(self):
        return self.name

    @property
    def fetch_url(self) -> str:
        """The address to request: Apple's webcal:// links are served over HTTPS."""
        if self.url.lower().startswith("webcal://"):
            return "https://" + self.url[len("webcal://") :]
        return self.url

    @property
    def masked_url(self) -> str:
        """The address without its secret part, for listings: the scheme and host only."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.hostname or ''}/…"


class BusyInterval(models.Model):
    calendar = models.ForeignKey(BusyCalendar, on_delete=models.CASCADE, related_name="busy_intervals")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["starts_at", "ends_at"], name="busy_interval_span")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="busy_interval_ends_after_start"
            )
        ]

    def __str__(self):
        return f"{self.calendar}: {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%Y-%m-%d %H:%M} UTC"


class ExtraOpening(models.Model):
    date = models.DateField(help_text="The day you are open, for example a Saturday clinic.")
    start_time = models.TimeField(help_text="When you start seeing clients that day, in your own time zone.")
    end_time = models.TimeField(help_text="When the last consultation must have finished.")
    note = models.CharField(max_length=120, blank=True, help_text="For you only, for example 'Saturday clinic'.")

    panels = [FieldPanel("date"), FieldRowPanel([FieldPanel("start_time"), FieldPanel("end_time")]), FieldPanel("note")]

    class Meta:
        ordering = ["date", "start_time"]
        verbose_name = "extra opening"
        verbose_name_plural = "extra openings"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_time__gt=models.F("start_time")), name="extra_opening_ends_after_start"
            )
        ]

    def __str__(self):
        label = f"{self.date:%a %d %b %Y} {self.start_time:%H:%M}–{self.end_time:%H:%M}"
        return f"{label} ({self.note})" if self.note else label

    def clean(self):
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            raise ValidationError({"end_time": "The end must be later than the start."})
