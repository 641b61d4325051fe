"""
How a consultation takes place, as the client is told it, and the booking policy they agreed to.

Meeting details follow the consultation type's format:

- video: a link, stored on the booking when it is confirmed so that it stays the same in every
  email: the type's fixed room, a link the practice pasted when confirming, or a new room on the
  practice's Jitsi Meet server. A Jitsi room name is made here, with no call to the server: a
  neutral word and `secrets.token_urlsafe(ROOM_TOKEN_BYTES)`, 192 random bits (still above 128
  if a server folds the name to lower case), so nobody can guess their way into a consultation.
- phone: the practitioner calls the number the client gave (required for phone types).
- in person: the practice's address and the type's arrival notes.

Details are given only for a confirmed booking, and never include the reason for the consultation.
"""

import hashlib
import html
import re
import secrets
from dataclasses import dataclass

from wagtail.rich_text import expand_db_html

from .models import Booking, BookingStatus, ConsultationFormat, ConsultationType, VideoLinkMode

ROOM_TOKEN_BYTES = 24
ROOM_PREFIX = "Meeting-"


def new_jitsi_room(server: str) -> str:
    """The address of a new, unguessable room on the Jitsi Meet `server`."""
    return f"{server.rstrip('/')}/{ROOM_PREFIX}{secrets.token_urlsafe(ROOM_TOKEN_BYTES)}"


def meeting_url_for(consultation_type: ConsultationType, *, jitsi_server: str, pasted: str = "") -> str:
    """The link to store on a booking of `consultation_type` as it is confirmed; "" when there is none (yet)."""
    if consultation_type.format != ConsultationFormat.VIDEO:
        return ""
    if pasted:
        return pasted
    if consultation_type.video_link_mode == VideoLinkMode.FIXED:
        return consultation_type.video_link
    if consultation_type.video_link_mode == VideoLinkMode.JITSI:
        return new_jitsi_room(jitsi_server or "https://meet.jit.si")
    return ""  # pasted by the practice: sent separately when it was not given at confirmation


@dataclass(frozen=True)
class MeetingDetails:
    format: str
    url: str = ""  # video: where to join ("" when the practice sends it later)
    address: str = ""  # in person: one part per line
    arrival_notes: str = ""  # in person
    phone: str = ""  # phone: the number the practitioner calls

    @property
    def is_video(self) -> bool:
        return self.format == ConsultationFormat.VIDEO

    @property
    def is_phone(self) -> bool:
        return self.format == ConsultationFormat.PHONE

    @property
    def is_in_person(self) -> bool:
        return self.format == ConsultationFormat.IN_PERSON

    @property
    def address_line(self) -> str:
        return ", ".join(part.strip() for part in self.address.splitlines() if part.strip())

    @property
    def location(self) -> str:
        """One line for a calendar event's LOCATION."""
        if self.is_video:
            return self.url or "Video call (the link follows by email)"
        if self.is_phone:
            return "Phone call: we will call you"
        return self.address_line or "In person"


def meeting_details(booking: Booking, practice) -> MeetingDetails | None:
    """What the client needs to attend `booking`; None until it is confirmed (and once it is not)."""
    if booking.status != BookingStatus.CONFIRMED:
        return None
    consultation = booking.consultation_type
    if consultation.format == ConsultationFormat.VIDEO:
        return MeetingDetails(format=consultation.format, url=booking.meeting_url)
    if consultation.format == ConsultationFormat.PHONE:
        return MeetingDetails(format=consultation.format, phone=booking.phone)
    return MeetingDetails(
        format=consultation.format, address=practice.address.strip(), arrival_notes=consultation.arrival_notes.strip()
    )


# The booking policy (PracticeSettings.booking_policy, rich text).

BLOCK_ENDS = re.compile(r"</(p|li|h[1-6])>|<br\s*/?>", re.I)
LIST_ITEM = re.compile(r"<li[^>]*>", re.I)
TAGS = re.compile(r"<[^>]+>")


def policy_version(policy: str) -> str:
    """A short fingerprint of the policy's text: which wording a client was shown. "" when there is none."""
    if not policy or not policy.strip():
        return ""
    return hashlib.sha256(policy.strip().encode()).hexdigest()[:12]


def policy_html(policy: str) -> str:
    """The policy as HTML, with links to pages and documents made real (for the HTML part of an email)."""
    return expand_db_html(policy) if policy else ""


def policy_text(policy: str) -> str:
    """The policy as plain text (for the text part of an email): a line per paragraph, "- " per list item."""
    if not policy:
        return ""
    text = LIST_ITEM.sub("- ", BLOCK_ENDS.sub("\n", expand_db_html(policy)))
    lines = (html.unescape(TAGS.sub("", line)).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)
