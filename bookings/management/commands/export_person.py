import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from bookings import privacy


class Command(BaseCommand):
    help = "Print, as JSON, everything held about the person with this email address (a subject access request)."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        data = privacy.person_export(email=email, now=timezone.now())
        if not (data["bookings"] or data["enquiries"]):
            raise CommandError(f"Nothing is held about {email}.")
        self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))
