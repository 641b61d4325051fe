"""Read every active busy calendar once (the worker, `send_notifications --loop`, does so on its own)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from bookings.selectors import practice_zone
from calendars.sync import busy_calendars_sync


class Command(BaseCommand):
    help = "Read the practitioner's busy calendars now, so that their busy times block consultation slots."

    def handle(self, *args, **options):
        results = busy_calendars_sync(now=timezone.now(), zone=practice_zone())
        for result in results:
            if result.ok:
                state = "read" if result.updated else "unchanged"
                self.stdout.write(f"{result.calendar.name}: {state}, {result.intervals} busy times")
            else:
                self.stderr.write(f"{result.calendar.name}: {result.error} The last good copy is kept.")
        if not results:
            self.stdout.write("No active busy calendars.")
        failed = sum(not result.ok for result in results)
        if failed:
            raise CommandError(f"{failed} of {len(results)} calendars could not be read.")
