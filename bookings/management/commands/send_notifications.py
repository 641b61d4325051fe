"""
The notification worker. Run it continuously in production (`--loop`), for example as a systemd
service; it queues reminders and sends every due email from the outbox, retrying failures later.
Once a day (at its start, then every 24 hours) it also erases what the retention periods say has
expired, as `manage.py purge_expired` does. At its start and then every BUSY_CALENDAR_SYNC_MINUTES
minutes it reads the practitioner's busy calendars, as `manage.py sync_busy_calendars` does.
"""

import datetime as dt
import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from bookings.notifications import deliver_due, queue_reminders
from bookings.privacy import purge_expired
from bookings.selectors import practice_zone
from calendars.sync import busy_calendars_sync, sync_interval

PURGE_EVERY = dt.timedelta(days=1)


class Command(BaseCommand):
    help = "Send due booking emails (and queue reminders). With --loop, keep doing so every --interval seconds."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep running.")
        parser.add_argument("--interval", type=float, default=30, help="Seconds between rounds with --loop.")

    def handle(self, *args, loop, interval, **options):
        last_purge = None
        last_calendar_sync = None
        while True:
            now = timezone.now()
            if loop and (last_purge is None or now - last_purge >= PURGE_EVERY):
                plan = purge_expired(now=now)
                last_purge = now
                if not plan.empty:
                    self.stdout.write(f"{now:%Y-%m-%d %H:%M:%S} retention: expired details erased")
            if loop and (last_calendar_sync is None or now - last_calendar_sync >= sync_interval()):
                last_calendar_sync = now
                failed = [result for result in busy_calendars_sync(now=now, zone=practice_zone()) if not result.ok]
                for result in failed:
                    self.stdout.write(f"{now:%Y-%m-%d %H:%M:%S} busy calendar {result.calendar.name}: {result.error}")
            reminders = queue_reminders(now=now)
            counts = deliver_due(now=now)
            if reminders or any(counts.values()) or not loop:
                self.stdout.write(
                    f"{now:%Y-%m-%d %H:%M:%S} reminders queued {reminders}, sent {counts['sent']}, "
                    f"skipped {counts['skipped']}, to retry {counts['retry']}, failed {counts['failed']}"
                )
            if not loop:
                return
            time.sleep(interval)
