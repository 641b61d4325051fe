from django.core.management.base import BaseCommand
from django.db import transaction

from practice.demo.content import load_site


class Command(BaseCommand):
    help = "Build the demo site: home, about, privacy and terms pages, settings and menu. Safe to run again."

    def handle(self, *args, **options):
        with transaction.atomic():
            home = load_site()
        self.stdout.write(self.style.SUCCESS(f"Demo content ready: {home.get_children().count() + 1} pages."))
