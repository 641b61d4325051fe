from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from bookings import privacy


class Command(BaseCommand):
    help = (
        "Erase every personal and health detail of the person with this email address (bookings, enquiries, "
        "emails, notes, history), keeping only anonymous facts and a record of the erasure."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation (for scripts).")

    def handle(self, *args, email, yes, **options):
        person = privacy.person_find(email=email)
        if not person.found:
            raise CommandError(f"Nothing is held about {email}.")
        summary = f"{len(person.bookings)} booking(s) and {len(person.enquiries)} enquiry(ies) for {email}"
        if not yes:
            answer = input(f"Erase {summary}? This cannot be undone. Type 'yes' to go on: ")
            if answer.strip().lower() != "yes":
                raise CommandError("Nothing was erased.")
        result = privacy.person_erase(email=email, now=timezone.now())
        self.stdout.write(
            self.style.SUCCESS(f"Erased {result.bookings} booking(s) and {result.enquiries} enquiry(ies).")
        )
