"""
Make sure an administrator can log in to /admin/ on a development machine.

The password comes from ADMIN_PASSWORD when set; otherwise one is generated on the first run and
kept in a git-ignored file, so that every later `make run` prints the same login.
"""

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the admin account if it is missing and print its login."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password-file",
            default=os.environ.get("ADMIN_PASSWORD_FILE", str(Path(settings.BASE_DIR) / ".local" / "admin-password")),
            help="Where a generated password is kept between runs.",
        )

    def handle(self, *args, password_file, **options):
        User = get_user_model()
        username = os.environ.get("ADMIN_USERNAME", "admin")
        email = os.environ.get("ADMIN_EMAIL", "admin@example.com")
        password = os.environ.get("ADMIN_PASSWORD", "")
        kept = Path(password_file)
        if not password:
            if kept.exists():
                password = kept.read_text().strip()
            else:
                password = secrets.token_urlsafe(12)
                kept.parent.mkdir(parents=True, exist_ok=True)
                kept.write_text(password + "\n")
                kept.chmod(0o600)

        user = User.objects.filter(username=username).first()
        if user is None:
            User.objects.create_superuser(username=username, email=email, password=password)
            self.stdout.write(f"Created the admin account '{username}'.")
        elif os.environ.get("ADMIN_PASSWORD"):
            user.set_password(password)
            user.save(update_fields=["password"])
            self.stdout.write(f"Set the password of '{username}' from ADMIN_PASSWORD.")
        elif not user.check_password(password):
            self.stdout.write(
                self.style.WARNING(
                    f"The admin account '{username}' exists and its password was changed since; use your own."
                )
            )
            return

        self.stdout.write(self.style.SUCCESS(f"Admin login: username '{username}', password '{password}'"))
