"""
Consultation bookings: what can be booked (types, weekly windows, time off) and the bookings.

Times are aware datetimes stored in UTC. Weekly windows are wall-clock times in the practice's
zone (PracticeSettings.time_zone). A booking blocks [starts_at - buffer before, ends_at + buffer
after]; `blocked_from`/`blocked_until` hold that range so that the database can refuse two active
bookings whose ranges overlap (an exclusion constraint on PostgreSQL, triggers on SQLite; see the
migrations). Status changes happen only in bookings/services.py.
"""

import datetime as dt
import secrets
import uuid

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel

from practice.crypto import EncryptedTextField

MANAGE_TOKEN_SALT = "bookings.manage-link"  # noqa: S105 (a salt, not a secret)
ATTENDANCE_TOKEN_SALT = "bookings.attendance-link"  # noqa: S105 (a salt, not a secret)
ATTENDANCE_LINK_MAX_AGE = dt.timedelta(days=60)  # and never past the consultation's start (see views.attend)
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: easy to read out on the phone


class ConsultationFormat(models.TextChoices):
    VIDEO = "video", "Video call"
    PHONE = "phone", "Phone call"
    IN_PERSON = "in_person", "In person"


class VideoLinkMode(models.TextChoices):
    FIXED = "fixed", "The same room link for every consultation of this type"
    PASTED = "pasted", "A link I paste when I confirm each booking"
    JITSI = "jitsi", "A new private room on my Jitsi Meet server for each booking"


class ConsultationTypeQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True).order_by("sort_order", "name")


class ConsultationType(models.Model):
    name = models.CharField(max_length=80, help_text="What clients see, for example 'Initial consultation'.")
    slug = models.SlugField(
        max_length=80, unique=True, help_text="The short name in the booking address. Lower case, no spaces."
    )
    description = models.TextField(blank=True, help_text="Two or three sentences on what happens in it.")
    what_to_expect = models.TextField(
        blank=True,
        help_text="For the services page: what happens during the consultation, one point per line, for example "
        "'We go through your health history'. Each line is shown as a bullet point.",
    )
    duration_minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(10), MaxValueValidator(480)], help_text="How long it lasts, in minutes."
    )
    price = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Shown to clients only; nothing is charged online. Leave empty to show no price, 0 for free.",
    )
    format = models.CharField(
        max_length=20,
        choices=ConsultationFormat.choices,
        default=ConsultationFormat.VIDEO,
        help_text="How the consultation takes place.",
    )
    video_link_mode = models.CharField(
        "video call link",
        max_length=10,
        choices=VideoLinkMode.choices,
        default=VideoLinkMode.JITSI,
        help_text="For video calls only: where the client joins. The link is emailed once you confirm the "
        "booking, never before. The Jitsi Meet server is set in the practice settings.",
    )
    video_link = models.URLField(
        "room link",
        max_length=500,
        blank=True,
        help_text="Only for 'the same room link': the address of your video room (Zoom, Whereby, Teams …), "
        "starting with https://.",
    )
    arrival_notes = models.TextField(
        blank=True,
        help_text="For consultations in person: how to find you, for example 'Ring the bell marked Studio 2; "
        "the waiting room is on the first floor.' Sent with the confirmation, under your address.",
    )
    buffer_before_minutes = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(240)], help_text="Free time kept before it, for preparation."
    )
    buffer_after_minutes = models.PositiveSmallIntegerField(
        default=10, validators=[MaxValueValidator(240)], help_text="Free time kept after it, for notes and a break."
    )
    minimum_notice_hours = models.PositiveSmallIntegerField(
        default=24,
        validators=[MaxValueValidator(24 * 30)],
        help_text="How many hours ahead clients must book at the latest.",
    )
    horizon_days = models.PositiveSmallIntegerField(
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="How many days ahead clients can book.",
    )
    slot_step_minutes = models.PositiveSmallIntegerField(
        default=30,
        validators=[MinValueValidator(5), MaxValueValidator(240)],
        help_text="How often a start time is offered: every 30 minutes, every 60 minutes…",
    )
    requires_approval = models.BooleanField(
        default=True,
        help_text="If ticked, you confirm each request yourself; if not, the time is confirmed at once.",
    )
    is_active = models.BooleanField(default=True, help_text="Untick to stop offering it without deleting it.")
    sort_order = models.PositiveSmallIntegerField(default=0, help_text="Lower numbers are listed first.")

    objects = ConsultationTypeQuerySet.as_manager()

    panels = [
        FieldPanel("name"),
        FieldPanel("slug"),
        FieldPanel("description"),
        FieldPanel("what_to_expect"),
        FieldRowPanel([FieldPanel("duration_minutes"), FieldPanel("price"), FieldPanel("format")]),
        MultiFieldPanel(
            [FieldPanel("video_link_mode"), FieldPanel("video_link"), FieldPanel("arrival_notes")],
            heading="How the client joins",
        ),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("buffer_before_minutes"), FieldPanel("buffer_after_minutes")]),
                FieldRowPanel([FieldPanel("minimum_notice_hours"), FieldPanel("horizon_days")]),
                FieldPanel("slot_step_minutes"),
            ],
            heading="Scheduling rules",
        ),
        FieldPanel("requires_approval"),
        FieldRowPanel([FieldPanel("is_active"), FieldPanel("sort_order")]),
    ]

    class Meta:
        ordering = ["sort_order", "name"]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if (
            self.format == ConsultationFormat.VIDEO
            and self.video_link_mode == VideoLinkMode.FIXED
            and not self.video_link
        ):
            raise ValidationError({"video_link": "Enter the address of your video room, or choose another option."})

    @property
    def duration(self):
        return dt.timedelta(minutes=self.duration_minutes)

    @property
    def buffer_before(self):
        return dt.timedelta(minutes=self.buffer_before_minutes)

    @property
    def buffer_after(self):
        return dt.timedelta(minutes=self.buffer_after_minutes)


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class AvailabilityWindow(models.Model):
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices, help_text="The day of the week.")
    start_time = models.TimeField(help_text="When you start seeing clients, in your own time zone.")
    end_time = models.TimeField(help_text="When the last consultation must have finished.")

    panels = [FieldPanel("weekday"), FieldRowPanel([FieldPanel("start_time"), FieldPanel("end_time")])]

    class Meta:
        ordering = ["weekday", "start_time"]
        verbose_name = "opening hours"
        verbose_name_plural = "opening hours"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_time__gt=models.F("start_time")), name="window_ends_after_start"
            )
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}–{self.end_time:%H:%M}"

    def clean(self):
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            raise ValidationError({"end_time": "The end must be later than the start."})


class TimeOff(models.Model):
    title = models.CharField(max_length=120, default="Time off", help_text="For you only, for example 'Holiday'.")
    starts_at = models.DateTimeField(help_text="From when no consultations can be booked.")
    ends_at = models.DateTimeField(help_text="Until when.")

    panels = [FieldPanel("title"), FieldRowPanel([FieldPanel("starts_at"), FieldPanel("ends_at")])]

    class Meta:
        ordering = ["starts_at"]
        verbose_name = "time off"
        verbose_name_plural = "time off"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="time_off_ends_after_start"
            )
        ]

    def __str__(self):
        return f"{self.title} ({self.starts_at:%d %b %Y} – {self.ends_at:%d %b %Y})"

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The end must be later than the start."})


class BookingStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    CONFIRMED = "confirmed", "Confirmed"
    DECLINED = "declined", "Declined"
    CANCELLED_BY_CLIENT = "cancelled_client", "Cancelled by client"
    CANCELLED_BY_PRACTICE = "cancelled_practice", "Cancelled by practice"
    COMPLETED = "completed", "Completed"
    NO_SHOW = "no_show", "No-show"


ACTIVE_STATUSES = (BookingStatus.PENDING, BookingStatus.CONFIRMED)


class ContactMethod(models.TextChoices):
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"


class BookingQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status__in=ACTIVE_STATUSES)

    def overlapping(self, start, end):
        return self.filter(blocked_from__lt=end, blocked_until__gt=start)

    def upcoming(self, *, now):
        return self.active().filter(starts_at__gte=now).order_by("starts_at")


def new_reference():
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


class Booking(models.Model):
    reference = models.CharField(max_length=12, unique=True, default=new_reference, editable=False)
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    consultation_type = models.ForeignKey(ConsultationType, on_delete=models.PROTECT, related_name="bookings")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    blocked_from = models.DateTimeField(editable=False)
    blocked_until = models.DateTimeField(editable=False)
    status = models.CharField(max_length=20, choices=BookingStatus.choices, default=BookingStatus.PENDING)
    sequence = models.PositiveIntegerField(default=0, help_text="Calendar revision number; rises on each change.")

    name = models.CharField(max_length=120)
    email = models.EmailField()
    phone = models.CharField(max_length=32, blank=True)
    contact_method = models.CharField(max_length=10, choices=ContactMethod.choices, default=ContactMethod.EMAIL)
    reason = EncryptedTextField(help_text="Health details: visible to practice admins only; stored encrypted.")
    heard_about = models.CharField(max_length=120, blank=True)
    source_page = models.CharField(max_length=300, blank=True, help_text="The page the visitor came from.")
    visitor_time_zone = models.CharField(max_length=64, blank=True)

    consent_privacy = models.BooleanField(default=False)
    consent_health_data = models.BooleanField(default=False)
    acknowledged_not_emergency = models.BooleanField(default=False)
    consent_text_version = models.CharField(max_length=20, blank=True)
    consent_given_at = models.DateTimeField(null=True, blank=True)
    policy_version = models.CharField(
        max_length=20, blank=True, help_text="A fingerprint of the booking policy text the client was shown."
    )
    meeting_url = models.URLField(
        max_length=500, blank=True, help_text="The video call link, set when the booking is confirmed."
    )
    attendance_confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the client said, from the reminder email, that they will be there."
    )

    idempotency_key = models.UUIDField(unique=True, null=True, blank=True, editable=False)
    client_address_hash = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        db_index=True,
        help_text="A keyed hash of the address the request came from, to cap the requests from one address.",
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    health_details_erased_at = models.DateTimeField(
        null=True, blank=True, help_text="When the reason and notes were erased (retention or a request)."
    )
    anonymised_at = models.DateTimeField(
        null=True, blank=True, help_text="When the client's details were erased; the anonymous facts remain."
    )

    objects = BookingQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="booking_ends_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(blocked_from__lte=models.F("starts_at"), blocked_until__gte=models.F("ends_at")),
                name="booking_block_covers_booking",
            ),
        ]
        indexes = [models.Index(fields=["status", "blocked_from", "blocked_until"], name="booking_active_range")]

    def __str__(self):
        return f"{self.reference} ({self.get_status_display()})"

    @property
    def is_active(self):
        return self.status in ACTIVE_STATUSES

    def set_times(self, starts_at):
        """Place the booking at `starts_at`, with the length and buffers of its consultation type."""
        consultation = self.consultation_type
        self.starts_at = starts_at
        self.ends_at = starts_at + consultation.duration
        self.blocked_from = starts_at - consultation.buffer_before
        self.blocked_until = self.ends_at + consultation.buffer_after

    @property
    def manage_token(self) -> str:
        """The secret in the visitor's manage link: the booking's id signed with the site's secret key."""
        return signing.Signer(salt=MANAGE_TOKEN_SALT).sign(self.uid.hex)

    @classmethod
    def uid_from_manage_token(cls, token: str) -> uuid.UUID | None:
        try:
            return uuid.UUID(hex=signing.Signer(salt=MANAGE_TOKEN_SALT).unsign(token))
        except (signing.BadSignature, ValueError):
            return None

    @property
    def attendance_token(self) -> str:
        """
        The secret in the reminder's "I'll be there" link: the booking's id and calendar revision, signed
        with a time stamp. A move raises the revision, so a link for the old time stops working.
        """
        return signing.TimestampSigner(salt=ATTENDANCE_TOKEN_SALT).sign(f"{self.uid.hex}.{self.sequence}")

    @classmethod
    def from_attendance_token(cls, token: str) -> tuple[uuid.UUID, int] | None:
        """(uid, sequence) of a genuine attendance link younger than ATTENDANCE_LINK_MAX_AGE, else None."""
        if not token or len(token) > 120:
            return None
        try:
            value = signing.TimestampSigner(salt=ATTENDANCE_TOKEN_SALT).unsign(token, max_age=ATTENDANCE_LINK_MAX_AGE)
            uid, sequence = value.split(".")
            return uuid.UUID(hex=uid), int(sequence)
        except (signing.BadSignature, ValueError):
            return None


class EnquiryTopic(models.TextChoices):
    GENERAL = "general", "A general question"
    BOOKING = "booking", "A question about booking"
    OTHER = "other", "Something else"


class EnquiryStatus(models.TextChoices):
    NEW = "new", "New"
    ANSWERED = "answered", "Answered"
    CLOSED = "closed", "Closed"


class EnquiryQuerySet(models.QuerySet):
    def unanswered(self):
        return self.filter(status=EnquiryStatus.NEW)


class Enquiry(models.Model):
    """A message sent through the contact page. The message may hold health details: admins only."""

    reference = models.CharField(max_length=12, unique=True, default=new_reference, editable=False)
    name = models.CharField(max_length=120)
    email = models.EmailField()
    phone = models.CharField(max_length=32, blank=True)
    topic = models.CharField(max_length=20, choices=EnquiryTopic.choices, default=EnquiryTopic.GENERAL)
    message = EncryptedTextField(
        help_text="May hold health details: visible to practice admins only; stored encrypted."
    )
    status = models.CharField(max_length=10, choices=EnquiryStatus.choices, default=EnquiryStatus.NEW)
    source_page = models.CharField(max_length=300, blank=True, help_text="The page the visitor came from.")
    consent_privacy = models.BooleanField(default=False)
    consent_text_version = models.CharField(max_length=20, blank=True)
    consent_given_at = models.DateTimeField(null=True, blank=True)
    idempotency_key = models.UUIDField(unique=True, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    health_details_erased_at = models.DateTimeField(
        null=True, blank=True, help_text="When the message, replies and notes were erased."
    )
    anonymised_at = models.DateTimeField(
        null=True, blank=True, help_text="When the sender's details were erased; the anonymous facts remain."
    )

    objects = EnquiryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "enquiry"
        verbose_name_plural = "enquiries"
        indexes = [models.Index(fields=["status", "created_at"], name="enquiry_status_created")]

    def __str__(self):
        return f"{self.reference} ({self.get_status_display()})"


class Note(models.Model):
    """A practice admin's private note on a booking or an enquiry: never emailed, never in a calendar file."""

    booking = models.ForeignKey(Booking, null=True, blank=True, on_delete=models.CASCADE, related_name="notes")
    enquiry = models.ForeignKey(Enquiry, null=True, blank=True, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = EncryptedTextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(booking__isnull=False, enquiry__isnull=True)
                | models.Q(booking__isnull=True, enquiry__isnull=False),
                name="note_has_one_subject",
            )
        ]

    def __str__(self):
        return f"Note of {self.created_at:%d %b %Y %H:%M}"


class NotificationKind(models.TextChoices):
    REQUEST_RECEIVED = "request_received", "Request received (to the client)"
    CONFIRMED = "confirmed", "Confirmed (to the client)"
    DECLINED = "declined", "Declined (to the client)"
    CANCELLED = "cancelled", "Cancelled (to the client)"
    MOVED = "moved", "Moved (to the client)"
    REMINDER = "reminder", "Reminder (to the client)"
    PRACTICE_NEW_REQUEST = "practice_new_request", "New request (to the practice)"
    PRACTICE_CHANGED = "practice_changed", "Moved or cancelled by the client (to the practice)"
    ENQUIRY_RECEIVED = "enquiry_received", "Enquiry received (to the sender)"
    ENQUIRY_REPLY = "enquiry_reply", "Reply (to the sender)"
    PRACTICE_NEW_ENQUIRY = "practice_new_enquiry", "New enquiry (to the practice)"
    REBOOK_OFFER = "rebook_offer", "Offer of a new time (to the client)"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "Not needed any more"
    FAILED = "failed", "Gave up"


class NotificationQuerySet(models.QuerySet):
    def due(self, *, now):
        return self.filter(status=NotificationStatus.PENDING, next_attempt_at__lte=now).order_by(
            "next_attempt_at", "pk"
        )


class Notification(models.Model):
    """
    The outbox: one row per email to send, written in the same transaction as the change it
    announces, so nothing is lost when the mail server is down. The worker
    (`manage.py send_notifications`) sends due rows, retrying with backoff. The email is built when
    it is sent, from the booking as it is then, and never contains the reason for the consultation.
    """

    booking = models.ForeignKey(Booking, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    enquiry = models.ForeignKey(Enquiry, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=30, choices=NotificationKind.choices)
    sequence = models.PositiveIntegerField(default=0, help_text="The booking's calendar revision it announces.")
    copy = models.PositiveSmallIntegerField(default=0, help_text="0 for the first email; 1, 2 … for each resend.")
    message = EncryptedTextField(
        blank=True, help_text="The practice's own words in the email: a personal message or a reply; encrypted."
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "kind", "sequence", "copy"],
                condition=models.Q(booking__isnull=False),
                name="one_notification_per_change",
            ),
            models.UniqueConstraint(
                fields=["enquiry", "kind", "sequence"],
                condition=models.Q(enquiry__isnull=False),
                name="one_notification_per_enquiry_event",
            ),
            models.CheckConstraint(
                condition=models.Q(booking__isnull=False, enquiry__isnull=True)
                | models.Q(booking__isnull=True, enquiry__isnull=False),
                name="notification_has_one_subject",
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notification_due")]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.subject.reference}"

    @property
    def subject(self):
        """The booking or the enquiry this email is about."""
        return self.booking if self.booking_id else self.enquiry


class ErasureRecord(models.Model):
    """
    That a person's details were erased, kept without any personal data: a keyed hash of their email
    address (so that an erasure can be applied again to a restored backup), when, and who did it.
    """

    email_hash = models.CharField(max_length=64, db_index=True)
    erased_at = models.DateTimeField()
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    bookings = models.PositiveIntegerField(default=0, help_text="How many bookings were anonymised.")
    enquiries = models.PositiveIntegerField(default=0, help_text="How many enquiries were anonymised.")

    class Meta:
        ordering = ["-erased_at"]
        verbose_name = "erasure record"

    def __str__(self):
        return f"Erasure of {self.erased_at:%d %b %Y %H:%M}"
