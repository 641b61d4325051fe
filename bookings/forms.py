"""Validation of what visitors send. Forms never change a booking; bookings/services.py does."""

import datetime as dt
import re
import uuid
import zoneinfo

from django import forms
from django.core import signing
from django.utils import timezone

from .models import ConsultationFormat, ContactMethod, EnquiryTopic, VideoLinkMode

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A line break in a name or an address is how an email header is forged: on a single line nothing
# below a space is allowed (tabs and line breaks included), nor DEL, the C1 controls or the Unicode
# line and paragraph separators.
NOT_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
PHONE_ALLOWED = re.compile(r"^\+?[0-9 ()\-.]{7,24}$")
MINIMUM_FILL_SECONDS = 3
FORM_STAMP_SALT = "bookings.form-started"
MESSAGE_MAX_LENGTH = 3000

# Common slips in the part after the @, mapped to what was probably meant.
EMAIL_DOMAIN_TYPOS = {
    "gmial.com": "gmail.com",
    "gmal.com": "gmail.com",
    "gmaill.com": "gmail.com",
    "gamil.com": "gmail.com",
    "gmail.co": "gmail.com",
    "gmail.con": "gmail.com",
    "googlemail.co": "googlemail.com",
    "hotmial.com": "hotmail.com",
    "hotmai.com": "hotmail.com",
    "hotmail.co": "hotmail.co.uk",
    "hotmal.com": "hotmail.com",
    "outlok.com": "outlook.com",
    "outloo.com": "outlook.com",
    "yaho.com": "yahoo.com",
    "yahoo.co": "yahoo.co.uk",
    "yahooo.com": "yahoo.com",
    "icloud.co": "icloud.com",
    "iclod.com": "icloud.com",
    "btinternet.co": "btinternet.com",
}

HEARD_ABOUT_CHOICES = [
    ("", "Prefer not to say"),
    ("article", "An article on this website"),
    ("search", "A search engine"),
    ("social", "Social media"),
    ("recommendation", "A friend or family member"),
    ("professional", "A health professional"),
    ("other", "Somewhere else"),
]

ZONE_NAMES = frozenset(zoneinfo.available_timezones())


def suggest_email(address: str) -> str | None:
    local, _, domain = address.rpartition("@")
    fixed = EMAIL_DOMAIN_TYPOS.get(domain.lower())
    return f"{local}@{fixed}" if local and fixed else None


def form_stamp(now: dt.datetime) -> str:
    return signing.dumps(now.timestamp(), salt=FORM_STAMP_SALT)


def clean_text(value: str, label: str) -> str:
    if CONTROL_CHARACTERS.search(value):
        raise forms.ValidationError(f"{label} contains characters that cannot be used. Please retype it.")
    return value.strip()


def single_line(value: str, label: str) -> str:
    """`value` trimmed; refused if it holds a line break, a tab or any other control character."""
    if NOT_SINGLE_LINE.search(value):
        raise forms.ValidationError(
            f"{label} cannot contain line breaks or other special characters that cannot be used here. "
            "Please type it on one line."
        )
    return value.strip()


class VisitorFormMixin(forms.Form):
    """
    What every form a visitor sends shares: name, email (with a hint for a likely typo) and an optional
    phone number, the spam defences (a field people never see, and a signed stamp of when the form was
    shown, so a form filled faster than a person can is spotted) and a key that makes sending the same
    form twice harmless. It subclasses Form because Django only collects declared fields from forms.
    """

    name = forms.CharField(label="Your name", max_length=120, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    phone = forms.CharField(
        label="Phone number (optional)",
        required=False,
        max_length=24,
        help_text="Only if you would like us to phone you, with the country code if outside the UK.",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    # Hidden: set when the typo hint was shown, so that sending the form again keeps the address.
    email_checked = forms.CharField(required=False, widget=forms.HiddenInput)
    website = forms.CharField(required=False, label="Leave this field empty")
    started = forms.CharField(widget=forms.HiddenInput)
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)

    HIDDEN_FIELDS = ("email_checked", "website", "started", "idempotency_key")
    email_help_text = ""

    def __init__(self, *args, now=None, **kwargs):
        self.now = now or timezone.now()
        super().__init__(*args, **kwargs)
        self.fields["email"].help_text = self.email_help_text
        for name in self.HIDDEN_FIELDS:  # after the visible fields, so errors are listed in reading order
            self.fields[name] = self.fields.pop(name)
        if not self.is_bound:
            self.initial.setdefault("started", form_stamp(self.now))
            self.initial.setdefault("idempotency_key", uuid.uuid4())

    def clean_name(self):
        return single_line(self.cleaned_data["name"], "Your name")

    def clean_phone(self):
        phone = single_line(self.cleaned_data["phone"], "The phone number")
        if phone and (not PHONE_ALLOWED.match(phone) or sum(ch.isdigit() for ch in phone) < 7):
            raise forms.ValidationError("Enter a phone number using digits, spaces and an optional + at the start.")
        return phone

    def clean_email(self):
        email = single_line(self.cleaned_data["email"], "The email address")
        suggestion = suggest_email(email)
        if suggestion and self.data.get("email_checked", "") != email:
            # The form shown again remembers the hint was given: sending it as it is keeps the address.
            self.data = self.data.copy()
            self.data["email_checked"] = email
            raise forms.ValidationError(
                f"Did you mean {suggestion}? If {email} is right, send the form again as it is."
            )
        return email

    def looks_automated(self) -> bool:
        """True for a honeypot filled in, a missing or forged time stamp, or a complete form sent too fast."""
        if self.data.get("website"):
            return True
        try:
            started = signing.loads(self.data.get("started", ""), salt=FORM_STAMP_SALT, max_age=60 * 60 * 24)
        except signing.SignatureExpired:
            return False  # a genuine form left open for a day: old enough to be a person
        except signing.BadSignature:
            return True
        # Someone pressing "send" at once on an empty form gets the usual messages; only a form that
        # would be accepted, filled faster than a person can, is treated as a bot.
        return self.now.timestamp() - float(started) < MINIMUM_FILL_SECONDS and self.is_valid()


class BookingDetailsForm(VisitorFormMixin):
    email_help_text = "We send the confirmation and the link to change your booking here."

    contact_method = forms.ChoiceField(
        label="How should we contact you?",
        choices=ContactMethod.choices,
        initial=ContactMethod.EMAIL,
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label="What would you like help with?",
        max_length=2000,
        help_text="A few sentences are enough. Only the practitioner and her assistant can read this; "
        "it is never included in emails.",
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    heard_about = forms.ChoiceField(
        label="How did you hear about us? (optional)", required=False, choices=HEARD_ABOUT_CHOICES
    )
    consent_privacy = forms.BooleanField(
        label="I have read the privacy policy and agree that my details are used to arrange this consultation.",
        error_messages={"required": "Please agree to the privacy policy so that we can arrange the consultation."},
    )
    consent_health_data = forms.BooleanField(
        label="I agree that the practice keeps the health information I give here, to prepare for the consultation.",
        error_messages={"required": "Please agree so that we can keep what you tell us about your health."},
    )
    acknowledged_not_emergency = forms.BooleanField(
        label="I understand this is not an emergency service. If I need urgent help I will call 999 or NHS 111.",
        error_messages={"required": "Please confirm that you understand this is not an emergency service."},
    )

    def __init__(self, *args, consultation=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.by_phone = consultation is not None and consultation.format == ConsultationFormat.PHONE
        if self.by_phone:  # the practitioner calls this number for the consultation itself
            phone = self.fields["phone"]
            phone.required = True
            phone.label = "Phone number"
            phone.help_text = (
                "We call you on this number at the time of the consultation. "
                "Include the country code if outside the UK."
            )
            phone.error_messages["required"] = (
                "Please give the phone number we should call you on for the consultation."
            )

    def clean_reason(self):
        return clean_text(self.cleaned_data["reason"].replace("\t", " "), "This answer")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("contact_method") == ContactMethod.PHONE and not cleaned.get("phone") and not self.by_phone:
            self.add_error("phone", "Please give a phone number if you would like us to phone you.")
        return cleaned


class EnquiryForm(VisitorFormMixin):
    """A message through the contact page."""

    email_help_text = "We reply to this address."

    topic = forms.ChoiceField(
        label="What is your message about?",
        choices=EnquiryTopic.choices,
        initial=EnquiryTopic.GENERAL,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose one of the topics."},
    )
    message = forms.CharField(
        label="Your message",
        max_length=MESSAGE_MAX_LENGTH,
        help_text=f"Up to {MESSAGE_MAX_LENGTH:,} characters. Only the practitioner and her assistant read it, "
        "and it is never emailed.",
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    consent_privacy = forms.BooleanField(
        label="I have read the privacy policy and agree that my details are used to answer my message.",
        error_messages={"required": "Please agree to the privacy policy so that we can answer your message."},
    )

    def clean_message(self):
        return clean_text(self.cleaned_data["message"].replace("\t", " "), "Your message")

    def enquiry_request(self, *, source_page: str):
        """The validated form as the request that `services.enquiry_submit` takes."""
        from .services import EnquiryRequest  # services imports this module

        data = self.cleaned_data
        return EnquiryRequest(
            name=data["name"],
            email=data["email"],
            phone=data["phone"],
            topic=data["topic"],
            message=data["message"],
            source_page=source_page,
            consent_privacy=data["consent_privacy"],
            idempotency_key=data["idempotency_key"],
        )


def parse_zone(value: str | None, default: zoneinfo.ZoneInfo) -> zoneinfo.ZoneInfo:
    if value and value in ZONE_NAMES:
        return zoneinfo.ZoneInfo(value)
    return default


START_WINDOW = (dt.timedelta(days=1), dt.timedelta(days=400))


def parse_start(value: str | None, *, now: dt.datetime) -> dt.datetime | None:
    """
    An ISO start time sent back by the slot picker, as an aware UTC datetime; None if it is not one,
    or if it lies so far from `now` that no booking rule could allow it.
    """
    if not value or len(value) > 40:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            return None
        parsed = parsed.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        return None
    if not now - START_WINDOW[0] <= parsed <= now + START_WINDOW[1]:
        return None
    return parsed


def parse_day(value: str | None) -> dt.date | None:
    if not value or len(value) > 10:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


# The practice's forms in the admin: what each booking or enquiry action asks for.


class ActionForm(forms.Form):
    """Base for the forms of admin actions; each gets the record, `now` and the page's query."""

    def __init__(self, *args, instance=None, now=None, params=None, **kwargs):
        self.instance = instance
        self.now = now or timezone.now()
        self.params = params or {}
        super().__init__(*args, **kwargs)


class PersonalMessageForm(ActionForm):
    message = forms.CharField(
        label="Personal message (optional)",
        required=False,
        max_length=2000,
        help_text="Added to the email the client receives. Do not write health details here: email is not private.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def clean_message(self):
        return clean_text(self.cleaned_data["message"].replace("\t", " "), "The message")


class ConfirmForm(ActionForm):
    """
    Confirming a booking. A video consultation may take the link of its call here; it must when its
    type says the practice pastes a link for each booking. Other formats ask nothing.
    """

    meeting_url = forms.URLField(
        label="Video call link (optional)",
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text="Leave empty to use the consultation type's own setting.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        consultation = self.instance.consultation_type if self.instance is not None else None
        if consultation is None or consultation.format != ConsultationFormat.VIDEO:
            del self.fields["meeting_url"]
            return
        field = self.fields["meeting_url"]
        if consultation.video_link_mode == VideoLinkMode.PASTED:
            field.required = True
            field.label = "Video call link"
            field.help_text = (
                "The address where the client joins the call, starting with https://. "
                "It is emailed with the confirmation."
            )
            field.error_messages["required"] = "Paste the link of the video call: this consultation type needs one."
        elif consultation.video_link_mode == VideoLinkMode.JITSI:
            field.help_text = "Leave empty and a new private room on your Jitsi Meet server is made for this booking."
        else:
            field.help_text = "Leave empty to use this consultation type's room link."

    def clean_meeting_url(self):
        url = self.cleaned_data["meeting_url"]
        if url and not url.lower().startswith("https://"):
            raise forms.ValidationError("Use a secure link that starts with https://.")
        return url


class NoteForm(ActionForm):
    text = forms.CharField(
        label="Note",
        max_length=5000,
        help_text="Only practice admins can read notes. They are never emailed or put in calendar files.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def clean_text(self):
        return clean_text(self.cleaned_data["text"].replace("\t", " "), "The note")


class ReplyForm(ActionForm):
    text = forms.CharField(
        label="Your reply",
        max_length=5000,
        help_text="Emailed to the sender as you write it, and kept with the enquiry.",
        widget=forms.Textarea(attrs={"rows": 8}),
    )

    def clean_text(self):
        return clean_text(self.cleaned_data["text"].replace("\t", " "), "The reply")


class MoveForm(ActionForm):
    """A new free time on one day, offered by the same slot engine that serves visitors."""

    new_start = forms.ChoiceField(label="New time", widget=forms.RadioSelect)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from . import selectors  # reads only

        self.zone = selectors.practice_zone()
        booking = self.instance
        posted = parse_start(self.data.get("new_start"), now=self.now) if self.is_bound else None
        asked = parse_day(self.params.get("day"))
        earliest, latest = (self.now - START_WINDOW[0]).date(), (self.now + START_WINDOW[1]).date()
        if asked is not None and not earliest <= asked <= latest:
            asked = None  # a day no booking rule could allow: show the usual one
        self.chosen_day = (
            (posted and posted.astimezone(self.zone).date())
            or asked
            or max(booking.starts_at.astimezone(self.zone).date(), self.now.astimezone(self.zone).date())
        )
        starts = selectors.slots_available(
            consultation_type=booking.consultation_type,
            first_day=self.chosen_day,
            last_day=self.chosen_day,
            now=self.now,
            zone=self.zone,
            ignore_booking=booking,
        )
        self.fields["new_start"].choices = [
            (start.isoformat(), f"{start.astimezone(self.zone):%H:%M}")
            for start in starts
            if start != booking.starts_at
        ]
        self.fields["new_start"].label = f"New time on {self.chosen_day:%A %-d %B %Y} ({self.zone.key})"

    def clean_new_start(self):
        start = parse_start(self.cleaned_data["new_start"], now=self.now)
        if start is None:
            raise forms.ValidationError("Choose one of the free times.")
        return start
