from django.core.management.base import BaseCommand
from django.utils import timezone

from bookings import privacy


class Command(BaseCommand):
    help = "Erase what the retention periods in the practice settings say has been kept long enough."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only list what would be erased.")

    def handle(self, *args, dry_run, **options):
        now = timezone.now()
        plan = privacy.purge_plan(now=now) if dry_run else privacy.purge_expired(now=now)
        verb = "Would erase" if dry_run else "Erased"
        for label, records in [
            ("health details of booking", plan.health_bookings),
            ("health details of enquiry", plan.health_enquiries),
            ("all personal details of booking", plan.contact_bookings),
            ("all personal details of enquiry", plan.contact_enquiries),
        ]:
            for record in records:
                self.stdout.write(f"{verb} {label} {record.reference}")
        if plan.empty:
            self.stdout.write("Nothing has expired.")
