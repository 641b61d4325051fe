from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts import services


class Command(BaseCommand):
    help = (
        "Make the secret address of a practice admin's calendar feed and print it. Only a fingerprint of "
        "the address is kept, so an existing address cannot be printed again: --rotate replaces it."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--rotate", action="store_true", help="Replace the existing address; the old one stops working."
        )

    def handle(self, *args, username, rotate, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user called {username}.")
        if not services.can_have_calendar_feed(user):
            raise CommandError(f"{username} cannot see bookings (or is inactive), so there can be no calendar feed.")
        if services.calendar_feed_token(user) is not None and not rotate:
            raise CommandError(
                f"{username} already has a calendar address. It cannot be shown again, because only a fingerprint "
                "of it is kept. Use --rotate to replace it with a new one (the old address stops working)."
            )
        token = services.calendar_feed_token_create(user=user, now=timezone.now())
        self.stdout.write(services.calendar_feed_url(token))
