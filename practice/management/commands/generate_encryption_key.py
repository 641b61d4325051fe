from django.core.management.base import BaseCommand

from practice.crypto import generate_key


class Command(BaseCommand):
    help = "Print a new key for FIELD_ENCRYPTION_KEYS (put it first in the list to start using it)."

    def handle(self, *args, **options):
        self.stdout.write(generate_key())
