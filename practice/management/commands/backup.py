"""`manage.py backup [--to-storage]`: one dated archive of the database and media (see practice/backups.py)."""

from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.utils import timezone

from practice import backups


class Command(BaseCommand):
    help = (
        "Write one archive of the database and the uploaded media to BACKUP_DIR (or, with --to-storage, to the "
        "media storage under backups/), keep the newest BACKUP_KEEP, and print the archive's path last."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--to-storage",
            action="store_true",
            help="Write to the configured media storage under backups/ (a private bucket) instead of BACKUP_DIR.",
        )

    def handle(self, *args, to_storage=False, **options):
        database = connections["default"].settings_dict
        now = timezone.now()
        try:
            if to_storage:
                if backups.is_local(default_storage):
                    raise CommandError(
                        "--to-storage needs a remote media storage: the local media folder is served to anyone "
                        "at MEDIA_URL. Leave out --to-storage to write to BACKUP_DIR."
                    )
                result = backups.backup_to_storage(
                    database=database, media=default_storage, target=default_storage, keep=settings.BACKUP_KEEP, now=now
                )
            else:
                folder = Path(settings.BACKUP_DIR).resolve()
                if backups.is_local(default_storage) and folder.is_relative_to(Path(settings.MEDIA_ROOT).resolve()):
                    raise CommandError(
                        f"BACKUP_DIR ({folder}) is inside the media folder, which is served to anyone: "
                        "choose a folder outside it."
                    )
                result = backups.backup_to_folder(
                    database=database, media=default_storage, folder=folder, keep=settings.BACKUP_KEEP, now=now
                )
        except backups.BackupError as error:
            raise CommandError(str(error)) from None

        manifest = result.manifest
        tables = manifest["tables"]
        media_bytes = sum(item["size"] for item in manifest["media"])
        self.stdout.write(
            f"Database ({manifest['database']['vendor']}): {len(tables)} tables, {sum(tables.values())} rows."
        )
        self.stdout.write(f"Media: {len(manifest['media'])} files, {media_bytes / 1e6:.1f} MB.")
        for old in result.removed:
            self.stdout.write(f"Removed the older archive {old}")
        self.stdout.write(result.location)
