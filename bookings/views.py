"""The visitor's booking flow and the self-service manage link. Thin: rules live in services and slots."""

import datetime as dt
from itertools import groupby
from urllib.parse import unquote, urlencode, urlsplit

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods

from wagtail.models import Page, Site

from intake.forms import IntakeForm, answer_names

from . import meetings, ratelimit, selectors, services
from .forms import NOT_SINGLE_LINE, BookingDetailsForm, parse_day, parse_start, parse_zone
from .models import Booking, BookingStatus, ConsultationType
from .notifications import calendar_file

DAYS_SHOWN = 7
COMMON_ZONES = [
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Amsterdam",
    "Europe/Stockholm",
    "Europe/Athens",
    "Europe/Helsinki",
    "Europe/Istanbul",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Hong_Kong",
    "Asia/Tokyo",
    "Australia/Perth",
    "Australia/Brisbane",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/St_Johns",
    "America/Halifax",
    "America/New_York",
    "America/Toronto",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Sao_Paulo",
    "America/Mexico_City",
    "UTC",
]


SOURCE_PAGE_MAX_LENGTH = 300  # Booking.source_page and Enquiry.source_page


def source_page_of(request, *, within: str) -> str:
    """
    The path of the page on this site the visitor came from (an article, say), or "": the `src` passed
    along in the query or the form, else a same-site Referer. A Referer inside `within` (the flow the
    visitor is in) or at the page itself says nothing about where they came from and is ignored.

    Only the address of a live page of this site is kept, as the page's path (query and fragment
    dropped): another site's address ("//", "/\\"), a line break or a made-up path gives "", so that
    the admin is only ever shown, and offered a link to, one of the site's own pages.
    """
    source = request.GET.get("src") or request.POST.get("src") or ""
    if not source:
        try:
            referer = urlsplit(request.META.get("HTTP_REFERER", ""))
        except ValueError:  # a malformed header is simply ignored
            referer = urlsplit("")
        if (
            referer.netloc
            and referer.netloc == request.get_host()
            and not referer.path.startswith(within)
            and referer.path != request.path
        ):
            source = referer.path
    # Checked before any lookup, and again once decoded: nothing a database or a log would choke on.
    if not source.startswith("/") or source.startswith(("//", "/\\")) or NOT_SINGLE_LINE.search(source):
        return ""
    path = unquote(source.split("?", 1)[0].split("#", 1)[0])
    if NOT_SINGLE_LINE.search(path) or len(path) > SOURCE_PAGE_MAX_LENGTH:
        return ""
    below_root = "".join(f"{slug}/" for slug in path.split("/") if slug)
    site = Site.find_for_request(request)
    if site is None or not Page.objects.live().filter(url_path=site.root_page.url_path + below_root).exists():
        return ""
    return "/" + below_root


def _booking_source(request) -> str:
    return source_page_of(request, within=reverse("bookings:choose_type"))


def _zone_choices(current: str, practice: str):
    names = list(dict.fromkeys([practice, current, *COMMON_ZONES]))
    return [(name, name.replace("_", " ")) for name in names]


def _slot_days(starts, zone, first_day, days):
    """Slots grouped by the visitor's local day, including days with none."""
    grouped = {day: list(items) for day, items in groupby(starts, key=lambda start: start.astimezone(zone).date())}
    return [
        {"date": first_day + dt.timedelta(days=offset), "slots": grouped.get(first_day + dt.timedelta(days=offset), [])}
        for offset in range(days)
    ]


def _picker_context(request, consultation, *, now, ignore_booking=None):
    practice_zone = selectors.practice_zone()
    zone = parse_zone(request.GET.get("tz"), practice_zone)
    today = now.astimezone(zone).date()
    first_day = parse_day(request.GET.get("from")) or today
    last_bookable = (now + dt.timedelta(days=consultation.horizon_days)).astimezone(zone).date()
    first_day = min(max(first_day, today), last_bookable)
    last_day = first_day + dt.timedelta(days=DAYS_SHOWN - 1)
    # The engine works in the practice's days; ask for a day either side to cover other zones.
    starts = selectors.slots_available(
        consultation_type=consultation,
        first_day=first_day - dt.timedelta(days=1),
        last_day=last_day + dt.timedelta(days=1),
        now=now,
        zone=practice_zone,
        ignore_booking=ignore_booking,
    )
    starts = [start for start in starts if first_day <= start.astimezone(zone).date() <= last_day]
    previous_day = first_day - dt.timedelta(days=DAYS_SHOWN)
    next_day = last_day + dt.timedelta(days=1)
    return {
        "consultation": consultation,
        "zone": zone,
        "practice_zone": practice_zone,
        "zone_choices": _zone_choices(zone.key, practice_zone.key),
        "days": _slot_days(starts, zone, first_day, DAYS_SHOWN),
        "first_day": first_day,
        "last_day": last_day,
        "previous_day": previous_day if first_day > today else None,
        "next_day": next_day if next_day <= last_bookable else None,
        "src": _booking_source(request),
    }


@require_http_methods(["GET"])
def choose_type(request):
    # Older links name the type in the query (/book/?type=<slug>): send them on to its time picker.
    chosen = request.GET.get("type")
    consultation = chosen and selectors.consultation_types_active().filter(slug=chosen).first()
    if consultation:
        src = _booking_source(request)
        query = "?" + urlencode({"src": src}) if src else ""
        return redirect(reverse("bookings:choose_time", args=[consultation.slug]) + query)
    return render(
        request,
        "bookings/choose_type.html",
        {"consultation_types": selectors.consultation_types_active(), "src": _booking_source(request)},
    )


@never_cache
@require_http_methods(["GET"])
def choose_time(request, slug):
    consultation = get_object_or_404(ConsultationType.objects.active(), slug=slug)
    return render(request, "bookings/choose_time.html", _picker_context(request, consultation, now=timezone.now()))


@sensitive_post_parameters("name", "email", "phone", "reason", "email_checked")
@sensitive_variables("form", "intake_form", "data", "context")
@never_cache
@require_http_methods(["GET", "POST"])
def details(request, slug):
    # The intake answers' names depend on the questions: hidden from error reports like the fields above.
    request.sensitive_post_parameters = [*request.sensitive_post_parameters, *answer_names(request.POST)]
    now = timezone.now()
    setup = selectors.booking_setup(now=now)
    consultation = setup.consultation_types.get(slug)
    if consultation is None:
        raise Http404("No consultation of this kind is offered.")
    practice = setup.practice
    practice_zone = practice.zone
    params = request.POST if request.method == "POST" else request.GET
    zone = parse_zone(params.get("tz"), practice_zone)
    starts_at = parse_start(params.get("start"), now=now)
    src = _booking_source(request)
    context = {"consultation": consultation, "zone": zone, "practice_zone": practice_zone, "src": src}

    # A form is only shown for a free time. A request sent is checked by the service as it is saved,
    # with the same rules: checking it here as well would only repeat the work.
    if request.method == "GET" and not (
        starts_at is not None
        and selectors.slot_is_free(
            consultation_type=consultation, starts_at=starts_at, now=now, zone=practice_zone, setup=setup
        )
    ):
        return _unavailable(request, consultation, starts_at, now, zone, src, taken=starts_at is not None)

    form = BookingDetailsForm(request.POST or None, now=now, consultation=consultation)
    intake_form = IntakeForm(request.POST or None, questions=setup.questions_for(consultation))
    context["intake_form"] = intake_form
    context.update(form=form, starts_at=starts_at, policy=practice.booking_policy)
    if request.method == "POST":
        if form.looks_automated():
            return render(request, "bookings/received.html", context)
        # Accepted requests and failed ones are counted apart: correcting a form never locks a person out.
        limit = ratelimit.FormLimit(request, scope="booking", accepted=settings.BOOKING_RATE_LIMIT)
        if limit.reached():
            context["rate_limited"] = True
            return _details_page(request, context, status=429)
        if starts_at is None:
            limit.fail()
            return _unavailable(request, consultation, None, now, zone, src, taken=False)
        if form.is_valid() and intake_form.is_valid():
            data = form.cleaned_data
            try:
                result = services.booking_request(
                    consultation_type=consultation,
                    starts_at=starts_at,
                    request=services.BookingRequest(
                        name=data["name"],
                        email=data["email"],
                        phone=data["phone"],
                        contact_method=data["contact_method"],
                        reason=data["reason"],
                        heard_about=data["heard_about"],
                        source_page=src,
                        visitor_time_zone=zone.key,
                        consent_privacy=data["consent_privacy"],
                        consent_health_data=data["consent_health_data"],
                        acknowledged_not_emergency=data["acknowledged_not_emergency"],
                        idempotency_key=data["idempotency_key"],
                        intake_answers=intake_form.answers(),
                        client_address_hash=limit.address_hash,
                    ),
                    now=now,
                    setup=setup,
                )
            except services.SlotUnavailableError:
                limit.fail()
                return _unavailable(request, consultation, starts_at, now, zone, src, taken=True)
            except services.BookingError as error:
                form.add_error(None, str(error))
            else:
                if result.created:
                    limit.accept()
                return redirect(reverse("bookings:manage", args=[result.booking.manage_token]) + "?new=1")
        limit.fail()
    return _details_page(request, context)


def _details_page(request, context, *, status=200):
    """The details form, shown again with its messages (or for the first time), linking back to the times."""
    query = urlencode({"tz": context["zone"].key, "src": context["src"]})
    back_url = reverse("bookings:choose_time", args=[context["consultation"].slug]) + "?" + query
    return render(request, "bookings/details.html", {**context, "back_url": back_url}, status=status)


def _unavailable(request, consultation, starts_at, now, zone, src, *, taken):
    context = _picker_context(request, consultation, now=now)
    context.update(
        zone=zone,
        zone_choices=_zone_choices(zone.key, selectors.practice_zone().key),
        taken=taken,
        invalid=not taken,
        next_free=selectors.next_free_slots(
            consultation_type=consultation, after=starts_at or now, now=now, zone=selectors.practice_zone()
        ),
        src=src,
    )
    return render(request, "bookings/choose_time.html", context, status=200)


def _booking_or_404(token):
    booking = selectors.booking_for_token(token)
    if booking is None:
        raise Http404("No booking matches this link.")
    return booking


@never_cache
@require_http_methods(["GET", "POST"])
def manage(request, token):
    booking = _booking_or_404(token)
    now = timezone.now()
    practice = selectors.practice_settings()
    practice_zone = practice.zone
    zone = parse_zone(booking.visitor_time_zone, practice_zone)
    error = None
    if request.method == "POST" and request.POST.get("action") == "cancel":
        try:
            services.booking_cancel(booking=booking, by_client=True, now=now)
        except services.BookingError as problem:
            error = str(problem)
        else:
            return redirect(reverse("bookings:manage", args=[token]) + "?cancelled=1")
        booking.refresh_from_db()
    return render(
        request,
        "bookings/manage.html",
        {
            "booking": booking,
            "token": token,
            "zone": zone,
            "practice_zone": practice_zone,
            "can_change": services.client_can_change(booking, now=now),
            "is_past": booking.starts_at <= now,
            "is_new": request.GET.get("new") == "1",
            "just_cancelled": request.GET.get("cancelled") == "1",
            "just_moved": request.GET.get("moved") == "1",
            "error": error,
            "practice": practice,
            "meeting": meetings.meeting_details(booking, practice),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def move(request, token):
    booking = _booking_or_404(token)
    now = timezone.now()
    if not services.client_can_change(booking, now=now):
        return redirect("bookings:manage", token=token)
    request.GET = request.GET.copy()
    request.GET.setdefault("tz", booking.visitor_time_zone)
    if request.method == "POST":
        new_start = parse_start(request.POST.get("start"), now=now)
        if new_start is not None:
            try:
                services.booking_move(booking=booking, new_start=new_start, by_client=True, now=now)
            except services.SlotUnavailableError:
                pass
            except services.BookingError:
                return redirect("bookings:manage", token=token)
            else:
                return redirect(reverse("bookings:manage", args=[token]) + "?moved=1")
        context = _picker_context(request, booking.consultation_type, now=now, ignore_booking=booking)
        context.update(booking=booking, token=token, taken=True)
        return render(request, "bookings/move.html", context)
    context = _picker_context(request, booking.consultation_type, now=now, ignore_booking=booking)
    context.update(booking=booking, token=token)
    return render(request, "bookings/move.html", context)


@never_cache
@require_http_methods(["GET"])
def calendar(request, token):
    booking = _booking_or_404(token)
    if booking.status == BookingStatus.PENDING:
        raise Http404("The calendar file is ready once the booking is confirmed.")
    response = HttpResponse(calendar_file(booking, now=timezone.now()), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="consultation-{booking.reference}.ics"'
    return response


def _attending_or_404(token, *, now):
    """
    The booking an "I'll be there" link is for, while it can still be answered: a genuine, unexpired
    link for the booking's current time, confirmed and not yet started. Anything else is a 404.
    """
    claim = Booking.from_attendance_token(token)
    if claim is None:
        raise Http404("No booking matches this link.")
    uid, sequence = claim
    booking = Booking.objects.select_related("consultation_type").defer("reason").filter(uid=uid).first()
    if (
        booking is None
        or booking.sequence != sequence
        or booking.status != BookingStatus.CONFIRMED
        or booking.starts_at <= now
    ):
        raise Http404("This link has expired.")
    return booking


@never_cache
@require_http_methods(["GET", "POST"])
def attend(request, token):
    """
    "I'll be there", from the reminder email. GET only shows the booking and a button; the POST of
    that button (with its CSRF token) records the answer. Marking attendance on GET would save a
    click, but mail clients and security scanners open links in emails by themselves to check them,
    which would confirm attendance for people who never clicked. No sign-in is needed: the signed
    link is the key, valid until the consultation starts, for the booking's current time only.
    """
    now = timezone.now()
    booking = _attending_or_404(token, now=now)
    if request.method == "POST":
        try:
            services.booking_attendance_confirm(booking=booking, now=now)
        except services.BookingError:
            raise Http404("This link has expired.") from None
        return redirect("bookings:attend", token=token)
    practice = selectors.practice_settings()
    practice_zone = practice.zone
    return render(
        request,
        "bookings/attend.html",
        {
            "booking": booking,
            "token": token,
            "zone": parse_zone(booking.visitor_time_zone, practice_zone),
            "practice_zone": practice_zone,
            "practice": practice,
            "meeting": meetings.meeting_details(booking, practice),
        },
    )
