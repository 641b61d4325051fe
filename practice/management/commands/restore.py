"""
`manage.py restore ARCHIVE [--noinput] [--force]`: put a backup back into the database and the media
storage that the environment names (DATABASE_URL; DJANGO_MEDIA_ROOT or DJANGO_MEDIA_STORAGE).

Stop the site and the notification worker first: nothing else may have the database open.

Before changing anything it refuses:
- an archive that is damaged, incomplete or not a practice backup;
- an archive of the other database (a SQLite archive into PostgreSQL, or the reverse);
- an archive whose migrations this version of the code does not have (deploy the version that made it);
- unless --force: a database that is not empty or a media storage that holds files. A database is
  empty when it has no tables, or when the tables of the project's own apps (practice, articles,
  bookings and the other folders beside manage.py) have no rows, Wagtail has no pages beyond the two
  its migrations create, no images or documents, and there are no user accounts. With --force the
  database is replaced and media files of the same name are overwritten (others are left in place).
It asks for confirmation unless --noinput.

Then it restores the database, checks every table's row count against the archive's manifest,
applies the migrations that the code has beyond the archive's, puts the media files in place,
re-applies the erasures made after the backup (bookings.privacy.reapply_erasures, from the erasure
records and the erasure log in ERASURE_LOG), and prints what it restored.
"""

from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from bookings.privacy import reapply_erasures
from practice import backups, caching


def project_tables() -> list[str]:
    """The tables of the project's own apps: the folders beside manage.py, not installed packages."""
    base = Path(settings.BASE_DIR).resolve()
    return [
        model._meta.db_table
        for config in apps.get_app_configs()
        if Path(config.path).resolve().parent == base
        for model in config.get_models(include_auto_created=True)
    ]


def unknown_migrations(manifest: dict) -> list[str]:
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    return [f"{app}.{name}" for app, name in sorted(manifest["migrations"].items()) if (app, name) not in graph.nodes]


def describe_media(storage) -> str:
    if backups.is_local(storage):
        return f"the media folder {storage.location}"
    return "the media storage"


def describe(database: dict) -> str:
    if backups.vendor_of(database) == "sqlite":
        return f"the SQLite database {database['NAME']}"
    return f"the PostgreSQL database {database['NAME']} on {database.get('HOST') or 'the local socket'}"


class Command(BaseCommand):
    help = "Restore a backup archive into the database and media storage that the environment names."

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path, help="The .tar.gz archive that `manage.py backup` wrote.")
        parser.add_argument("--noinput", "--no-input", action="store_true", help="Do not ask for confirmation.")
        parser.add_argument(
            "--force", action="store_true", help="Replace a database or media storage that already holds data."
        )

    def handle(self, *args, archive, noinput=False, force=False, **options):
        database = connections["default"].settings_dict
        try:
            with backups.opened(archive) as opened:
                self.restore(opened, database, noinput=noinput, force=force)
        except backups.BackupError as error:
            raise CommandError(str(error)) from None

    def restore(self, archive: backups.Archive, database: dict, *, noinput: bool, force: bool) -> None:
        manifest = archive.manifest
        vendor = backups.vendor_of(database)
        backups.check_vendor(manifest, vendor)
        unknown = unknown_migrations(manifest)
        if unknown:
            raise CommandError(
                f"The archive was made by a newer version of the code (migrations {', '.join(unknown)}); "
                "deploy that version, then restore. Nothing was changed."
            )
        try:
            with connection.cursor() as cursor:
                found = backups.target_contents(cursor, vendor, project_tables=project_tables())
        except OperationalError as error:
            raise CommandError(
                f"Cannot open {describe(database)} ({str(error).strip()}). Create it first (it may be empty). "
                "Nothing was changed."
            ) from None
        media_found = backups.media_contents(default_storage)
        if media_found:
            found.append(f"the media storage holds {len(media_found)} files")
        if found and not force:
            shown = "; ".join(found[:3]) + (f"; and {len(found) - 3} more" if len(found) > 3 else "")
            raise CommandError(
                f"The target is not empty ({shown}). Nothing was changed. Restore into a fresh database and an "
                "empty media folder, or pass --force to replace what is there."
            )
        target = describe(database)
        if not noinput:
            answer = input(
                f"Restore the backup made {manifest['created_at']} into {target} and "
                f"{describe_media(default_storage)}{' (replacing what they hold)' if found else ''}? "
                "Type 'yes' to continue: "
            )
            if answer.strip().lower() != "yes":
                raise CommandError("Restore cancelled; nothing was changed.")

        connections.close_all()
        backups.restore_database(archive, database)
        with connection.cursor() as cursor:
            counts = backups.row_counts(cursor, vendor, list(manifest["tables"]))
        differences = backups.count_differences(manifest["tables"], counts)
        if differences:
            raise CommandError("The restored database differs from the archive: " + "; ".join(differences))
        self.stdout.write(f"Restored {target} from the backup made {manifest['created_at']}:")
        for table, count in counts.items():
            if count:
                self.stdout.write(f"  {table}: {count} rows")
        self.stdout.write(f"  {len(counts)} tables, {sum(counts.values())} rows in all.")

        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            self.stdout.write(f"Applying {len(plan)} migrations that are newer than the archive.")
            call_command("migrate", interactive=False, verbosity=0)
        caching.invalidate_everything()  # the restored rows sent no signals: nothing kept from before is used

        restored = backups.restore_media(archive, default_storage)
        media_bytes = sum(item["size"] for item in manifest["media"])
        self.stdout.write(
            f"Restored {restored} media files ({media_bytes / 1e6:.1f} MB) into {describe_media(default_storage)}."
        )

        # A backup made before an erasure holds the person's details again; the erasure records (in
        # the database and in the erasure log kept outside it) say whom to erase once more.
        erased = reapply_erasures(now=timezone.now())
        self.stdout.write(f"Re-applied erasures made after the backup: {erased} bookings and enquiries anonymised.")
