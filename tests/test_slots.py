"""The slot engine: worked examples, then properties checked over many generated cases."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookings.slots import DatedWindow, Interval, SlotRules, Window, free_slots, local_instant

UTC = dt.UTC
LONDON = ZoneInfo("Europe/London")
HOUR = dt.timedelta(hours=1)


def rules(**overrides):
    values = {"duration": HOUR, "step": dt.timedelta(minutes=30), "horizon": dt.timedelta(days=400)}
    values.update(overrides)
    return SlotRules(**values)


def local(slots, zone=LONDON):
    return [start.astimezone(zone).strftime("%H:%M") for start in slots]


def slots_on(day, *, windows, dated_windows=(), zone=LONDON, busy=(), time_off=(), now=None, **rule_overrides):
    return free_slots(
        windows=windows,
        dated_windows=list(dated_windows),
        time_off=list(time_off),
        busy=list(busy),
        rules=rules(**rule_overrides),
        first_day=day,
        last_day=day,
        now=now or dt.datetime(2026, 1, 1, tzinfo=UTC),
        zone=zone,
    )


MONDAY = dt.date(2026, 6, 1)
NINE_TO_TWELVE = [Window(0, dt.time(9), dt.time(12))]


def test_slots_step_through_the_window_and_fit_inside_it():
    assert local(slots_on(MONDAY, windows=NINE_TO_TWELVE)) == ["09:00", "09:30", "10:00", "10:30", "11:00"]


def test_existing_booking_and_its_buffers_block_neighbouring_starts():
    booked = Interval(
        dt.datetime(2026, 6, 1, 9, 0, tzinfo=UTC), dt.datetime(2026, 6, 1, 9, 40, tzinfo=UTC)
    )  # 10:00–10:40 BST
    starts = slots_on(MONDAY, windows=NINE_TO_TWELVE, busy=[booked], buffer_after=dt.timedelta(minutes=10))
    # 09:00 ends 10:00 (+10 min buffer overlaps 10:00); 10:30 overlaps; 11:00 is clear.
    assert local(starts) == ["11:00"]


def test_back_to_back_bookings_are_allowed():
    booked = Interval(
        dt.datetime(2026, 6, 1, 8, 0, tzinfo=UTC), dt.datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    )  # 09:00–10:00 BST
    assert local(slots_on(MONDAY, windows=NINE_TO_TWELVE, busy=[booked]))[0] == "10:00"


def test_time_off_removes_slots():
    # 10:00–12:00 BST off: only the hour that ends as the time off begins is left.
    off = Interval(dt.datetime(2026, 6, 1, 9, 0, tzinfo=UTC), dt.datetime(2026, 6, 1, 11, 0, tzinfo=UTC))
    assert local(slots_on(MONDAY, windows=NINE_TO_TWELVE, time_off=[off])) == ["09:00"]
    # 09:30–10:00 BST off: 09:00 and 09:30 would run into it.
    off = Interval(dt.datetime(2026, 6, 1, 8, 30, tzinfo=UTC), dt.datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    assert local(slots_on(MONDAY, windows=NINE_TO_TWELVE, time_off=[off])) == ["10:00", "10:30", "11:00"]


def test_minimum_notice_and_horizon():
    now = dt.datetime(2026, 6, 1, 8, 10, tzinfo=UTC)  # 09:10 BST
    starts = slots_on(MONDAY, windows=NINE_TO_TWELVE, now=now, minimum_notice=HOUR)
    assert local(starts) == ["10:30", "11:00"]
    assert slots_on(MONDAY, windows=NINE_TO_TWELVE, now=now - dt.timedelta(days=3), horizon=dt.timedelta(days=2)) == []


def test_naive_now_is_refused():
    with pytest.raises(ValueError, match="aware"):
        slots_on(MONDAY, windows=NINE_TO_TWELVE, now=dt.datetime(2026, 1, 1))


def test_spring_forward_never_offers_a_time_that_does_not_exist():
    sunday = dt.date(2026, 3, 29)  # London skips 01:00–02:00
    starts = slots_on(sunday, windows=[Window(6, dt.time(0), dt.time(4))])
    assert local(starts) == ["00:00", "00:30", "02:00", "02:30", "03:00"]
    assert all(end - start == HOUR for start, end in ((s, s + HOUR) for s in starts))


def test_fall_back_offers_a_repeated_time_once_at_its_first_occurrence():
    sunday = dt.date(2026, 10, 25)  # London repeats 01:00–02:00
    starts = slots_on(sunday, windows=[Window(6, dt.time(0), dt.time(4))])
    assert [s.astimezone(LONDON).strftime("%H:%M%z") for s in starts] == [
        "00:00+0100",
        "00:30+0100",
        "01:00+0100",
        "01:30+0100",
        "02:00+0000",
        "02:30+0000",
        "03:00+0000",
    ]


def test_local_instant_reports_missing_times():
    assert local_instant(dt.date(2026, 3, 29), dt.time(1, 30), LONDON) is None
    assert local_instant(dt.date(2026, 3, 29), dt.time(2, 30), LONDON) == dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


ZONES = ["Europe/London", "Europe/Berlin", "America/New_York", "Australia/Sydney"]
# Days on or next to each zone's daylight-saving changes in 2026, plus ordinary days.
DST_DAYS = [
    dt.date(2026, 3, 8),
    dt.date(2026, 3, 29),
    dt.date(2026, 4, 5),
    dt.date(2026, 10, 4),
    dt.date(2026, 10, 25),
    dt.date(2026, 11, 1),
    dt.date(2026, 6, 15),
    dt.date(2026, 12, 21),
]


@st.composite
def scenarios(draw):
    zone = ZoneInfo(draw(st.sampled_from(ZONES)))
    first_day = draw(st.sampled_from(DST_DAYS)) - dt.timedelta(days=draw(st.integers(0, 2)))
    days = draw(st.integers(1, 4))
    windows = []
    for _ in range(draw(st.integers(1, 4))):
        start_minutes = draw(st.integers(0, 22 * 60)) // 15 * 15
        length = draw(st.integers(30, 10 * 60)) // 15 * 15
        end_minutes = min(start_minutes + length, 23 * 60 + 45)
        if end_minutes > start_minutes:
            windows.append(
                Window(draw(st.integers(0, 6)), dt.time(*divmod(start_minutes, 60)), dt.time(*divmod(end_minutes, 60)))
            )
    base = dt.datetime.combine(first_day, dt.time(0), tzinfo=UTC)

    def interval():
        start = base + dt.timedelta(minutes=draw(st.integers(-24 * 60, (days + 1) * 24 * 60)) // 5 * 5)
        return Interval(start, start + dt.timedelta(minutes=draw(st.integers(5, 300)) // 5 * 5))

    busy = [interval() for _ in range(draw(st.integers(0, 8)))]
    time_off = [interval() for _ in range(draw(st.integers(0, 2)))]
    slot_rules = SlotRules(
        duration=dt.timedelta(minutes=draw(st.sampled_from([15, 30, 45, 60, 90]))),
        step=dt.timedelta(minutes=draw(st.sampled_from([15, 30, 60]))),
        buffer_before=dt.timedelta(minutes=draw(st.sampled_from([0, 5, 15]))),
        buffer_after=dt.timedelta(minutes=draw(st.sampled_from([0, 10, 30]))),
        minimum_notice=dt.timedelta(hours=draw(st.integers(0, 72))),
        horizon=dt.timedelta(days=draw(st.integers(1, 10))),
    )
    now = base + dt.timedelta(hours=draw(st.integers(-96, 48)))
    return {
        "windows": windows,
        "time_off": time_off,
        "busy": busy,
        "rules": slot_rules,
        "first_day": first_day,
        "last_day": first_day + dt.timedelta(days=days - 1),
        "now": now,
        "zone": zone,
    }


def _in_a_window(start, end, scenario):
    zone = scenario["zone"]
    for window in scenario["windows"]:
        day = start.astimezone(zone).date()
        for candidate_day in (day - dt.timedelta(days=1), day):
            if candidate_day.weekday() != window.weekday:
                continue
            opens = local_instant(candidate_day, window.start, zone)
            closes = local_instant(candidate_day, window.end, zone)
            if opens and closes and opens <= start and end <= closes:
                return True
    return False


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_every_slot_obeys_every_rule(scenario):
    slot_rules = scenario["rules"]
    zone = scenario["zone"]
    starts = free_slots(**scenario)
    assert starts == sorted(set(starts))
    for start in starts:
        end = start + slot_rules.duration
        assert start.utcoffset() == dt.timedelta(0)
        assert end - start == slot_rules.duration, "a consultation lasts exactly its length"
        assert _in_a_window(start, end, scenario), "inside an opening window"
        assert not any(Interval(start, end).overlaps(off) for off in scenario["time_off"]), "outside time off"
        blocked = slot_rules.blocked(start)
        assert not any(blocked.overlaps(other) for other in scenario["busy"]), "clear of bookings and buffers"
        assert start >= scenario["now"] + slot_rules.minimum_notice, "after the minimum notice"
        assert start <= scenario["now"] + slot_rules.horizon, "inside the horizon"
        local_start = start.astimezone(zone)
        wall = local_start.replace(tzinfo=None)
        assert local_instant(wall.date(), wall.time(), zone) == start, "a real wall-clock time, first occurrence"
        assert scenario["first_day"] <= local_start.date() <= scenario["last_day"]


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_a_free_slot_stays_free_when_asked_about_its_own_day(scenario):
    """The same rules decide what is shown (a range of days) and what is accepted (one day)."""
    for start in free_slots(**scenario)[:5]:
        day = start.astimezone(scenario["zone"]).date()
        assert start in free_slots(**{**scenario, "first_day": day, "last_day": day})


def test_a_dated_window_opens_one_date_only():
    saturday = dt.date(2026, 6, 6)
    clinic = [DatedWindow(saturday, dt.time(10), dt.time(12))]
    assert local(slots_on(saturday, windows=[], dated_windows=clinic)) == ["10:00", "10:30", "11:00"]
    assert slots_on(saturday + dt.timedelta(days=7), windows=[], dated_windows=clinic) == []


def test_a_dated_window_beside_weekly_hours_adds_its_own_starts_only():
    # Weekly 09:00–12:00 and an extra 12:00–13:00 on Monday: 11:30 would straddle the two, so it is not offered.
    extra = [DatedWindow(MONDAY, dt.time(12), dt.time(13))]
    starts = local(slots_on(MONDAY, windows=NINE_TO_TWELVE, dated_windows=extra))
    assert starts == ["09:00", "09:30", "10:00", "10:30", "11:00", "12:00"]


@st.composite
def busy_scenarios(draw):
    """Weekly and one-off windows around the clock changes, and busy times that often touch their edges."""
    zone = ZoneInfo(draw(st.sampled_from(ZONES)))
    first_day = draw(st.sampled_from(DST_DAYS)) - dt.timedelta(days=draw(st.integers(0, 1)))
    days = draw(st.integers(1, 3))

    def wall_window():
        start = draw(st.integers(0, 22 * 60)) // 15 * 15
        end = min(start + draw(st.integers(30, 8 * 60)) // 15 * 15, 23 * 60 + 45)
        return dt.time(*divmod(start, 60)), dt.time(*divmod(max(end, start + 15), 60))

    windows = [Window(draw(st.integers(0, 6)), *wall_window()) for _ in range(draw(st.integers(0, 2)))]
    dated = [
        DatedWindow(first_day + dt.timedelta(days=draw(st.integers(0, days - 1))), *wall_window())
        for _ in range(draw(st.integers(1, 3)))
    ]
    edges = [local_instant(window.day, wall, zone) for window in dated for wall in (window.start, window.end)]
    base = dt.datetime.combine(first_day, dt.time(0), tzinfo=UTC)

    def busy_interval():
        edge = [edge for edge in edges if edge is not None]
        if edge and draw(st.booleans()):
            start = draw(st.sampled_from(edge)) + dt.timedelta(minutes=draw(st.sampled_from([-60, -30, -5, 0, 5, 30])))
        else:
            start = base + dt.timedelta(minutes=draw(st.integers(-12 * 60, (days + 1) * 24 * 60)) // 5 * 5)
        return Interval(start, start + dt.timedelta(minutes=draw(st.integers(1, 48 * 12)) * 5))

    return {
        "windows": windows,
        "dated_windows": dated,
        "time_off": [],
        "busy": [busy_interval() for _ in range(draw(st.integers(1, 10)))],
        "rules": SlotRules(
            duration=dt.timedelta(minutes=draw(st.sampled_from([15, 30, 60, 90]))),
            step=dt.timedelta(minutes=draw(st.sampled_from([15, 30, 60]))),
            buffer_before=dt.timedelta(minutes=draw(st.sampled_from([0, 5, 15]))),
            buffer_after=dt.timedelta(minutes=draw(st.sampled_from([0, 10, 30]))),
            horizon=dt.timedelta(days=30),
        ),
        "first_day": first_day,
        "last_day": first_day + dt.timedelta(days=days - 1),
        "now": base - dt.timedelta(days=2),
        "zone": zone,
    }


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(busy_scenarios())
def test_busy_times_remove_exactly_the_slots_they_touch_with_their_buffers(scenario):
    """
    No slot, with its buffers, overlaps a busy interval; and busy intervals remove nothing else: the
    slots are those offered without them, less exactly the ones that would touch one.
    """
    slot_rules = scenario["rules"]
    starts = free_slots(**scenario)
    for start in starts:
        blocked = slot_rules.blocked(start)
        assert not any(blocked.overlaps(busy) for busy in scenario["busy"]), "clear of busy times and buffers"
    unblocked = free_slots(**{**scenario, "busy": []})
    assert starts == [
        start for start in unblocked if not any(slot_rules.blocked(start).overlaps(busy) for busy in scenario["busy"])
    ]
    for window in scenario["dated_windows"]:
        opens = local_instant(window.day, window.start, scenario["zone"])
        closes = local_instant(window.day, window.end, scenario["zone"])
        if opens and closes and opens + slot_rules.duration <= closes:
            assert opens in unblocked, "a one-off window offers its opening time"
