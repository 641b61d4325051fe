"""
Backups that restore, driven as an operator drives them: `manage.py backup` and `manage.py restore`
run as real processes against throwaway databases of the kind the suite runs on (SQLite files, or
fresh PostgreSQL databases created here), each with a media folder of its own.

One full flow runs once for the module (a demo site with bookings → backup → an erasure → restore
into an empty database and media folder); the tests below check what it left behind.
"""

import datetime as dt
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import urllib.parse
import uuid
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.test import override_settings

import pytest

from bookings.models import ErasureRecord
from practice import backups

BASE_DIR = Path(settings.BASE_DIR)
DATABASE = settings.DATABASES["default"]
VENDOR = "postgresql" if DATABASE["ENGINE"] == "django.db.backends.postgresql" else "sqlite"
ARTICLE = "/articles/alopecia-areata-and-leaky-gut/"

# Every table's row count, counted here rather than by the code under test.
COUNT_ROWS = """
import json
from django.db import connection

with connection.cursor() as cursor:
    counts = {}
    for table in connection.introspection.table_names(cursor):
        cursor.execute(f'SELECT count(*) FROM "{table}"')
        counts[table] = cursor.fetchone()[0]
"""

# Run in the source site: the demo content, three bookings (one of each demo consultation type) and an
# enquiry made through the services; prints the row counts.
SOURCE_SCRIPT = (
    """
import datetime as dt
from django.core.management import call_command
from bookings import selectors, services
from bookings.models import ConsultationType, EnquiryTopic

call_command("load_demo_content", verbosity=0)
now = dt.datetime(2027, 3, 1, 8, 0, tzinfo=dt.UTC)
zone = selectors.practice_zone()
people = [("Alex Visitor", "alex@example.com"), ("Sam Client", "sam@example.com"), ("Erin Erase", "erin@example.com")]
for (name, email), kind in zip(people, ConsultationType.objects.order_by("sort_order")):
    start = selectors.next_free_slots(consultation_type=kind, after=now, now=now, zone=zone, count=1)[0]
    request = services.BookingRequest(
        name=name, email=email, reason="Bloating after meals", consent_privacy=True, consent_health_data=True,
        acknowledged_not_emergency=True,
    )
    services.booking_request(consultation_type=kind, starts_at=start, request=request, now=now)
services.enquiry_submit(
    request=services.EnquiryRequest(
        name="Erin Erase", email="erin@example.com", message="Is the first call free?", topic=EnquiryTopic.GENERAL,
        consent_privacy=True,
    ),
    now=now,
)
"""
    + COUNT_ROWS
    + "print(json.dumps(counts))"
)

# Run in the restored site: the row counts and the people first (before anything writes), then the
# overlap guard, and the home page and an article through the test client.
CHECK_SCRIPT = (
    COUNT_ROWS
    + f"""
from django.db import IntegrityError, transaction
from django.test import Client
from bookings.models import Booking, BookingStatus, Enquiry

people = {{
    "erin": Booking.objects.filter(email="erin@example.com").count()
    + Enquiry.objects.filter(email="erin@example.com").count(),
    "sam": Booking.objects.filter(email="sam@example.com").count(),
    "reasons": sorted(Booking.objects.values_list("reason", flat=True)),
}}

taken = Booking.objects.active().first()
clash = Booking(
    consultation_type=taken.consultation_type, status=BookingStatus.PENDING, name="Clash", email="clash@example.com",
    reason="Clash",
)
clash.set_times(taken.starts_at)
try:
    with transaction.atomic():
        clash.save()
    guard = "saved"
except IntegrityError as error:
    guard = str(error)

client = Client()
print(json.dumps({{
    "counts": counts,
    "guard": guard,
    **people,
    "home": client.get("/").status_code,
    "article": client.get("{ARTICLE}").status_code,
}}))
"""
)


@dataclass
class Site:
    """A database and a media folder that a `manage.py` process works on."""

    name: str  # the SQLite file, or the PostgreSQL database's name
    url: str
    media: Path

    def query(self, sql: str):
        if VENDOR == "sqlite":
            with closing(sqlite3.connect(self.name)) as connection, connection:
                return connection.execute(sql).fetchall()
        import psycopg2

        with closing(psycopg2.connect(self.url)) as connection, connection, connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall() if cursor.description else []


def postgres_url(name: str) -> str:
    user = urllib.parse.quote(DATABASE.get("USER") or "postgres")
    password = DATABASE.get("PASSWORD")
    credentials = f"{user}:{urllib.parse.quote(password)}" if password else user
    return f"postgres://{credentials}@{DATABASE.get('HOST') or 'localhost'}:{DATABASE.get('PORT') or 5432}/{name}"


def postgres_admin(statement: str) -> None:
    import psycopg2

    connection = psycopg2.connect(postgres_url("postgres"))
    connection.autocommit = True
    with closing(connection), connection.cursor() as cursor:
        cursor.execute(statement)


def media_files(folder: Path) -> dict[str, int]:
    if not folder.exists():
        return {}
    return {path.relative_to(folder).as_posix(): path.stat().st_size for path in folder.rglob("*") if path.is_file()}


def manage(*args, site: Site, tmp: Path, check=True, **extra_env) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "BACKUP_", "PG"))
        and key not in ("TEST_MEDIA_ROOT", "ERASURE_LOG")
    }
    env.update(
        # The development settings, as `make run` uses: unlike the test settings they take the erasure
        # log's path from the environment, so that the erasing process and the restoring one share it.
        DJANGO_SETTINGS_MODULE="practice.settings.dev",
        DJANGO_ALLOWED_HOSTS="testserver",
        BOOKINGS_DELIVER_ON_COMMIT="false",
        DATABASE_URL=site.url,
        DJANGO_MEDIA_ROOT=str(site.media),
        BACKUP_DIR=str(tmp / "backups"),
        ERASURE_LOG=str(tmp / "erasures.jsonl"),  # shared by both sites, as one server's log would be
    )
    env.update(extra_env)
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if check:
        assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


def last_line(result: subprocess.CompletedProcess) -> str:
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("backup")
    if VENDOR == "sqlite":
        yield (
            Site(str(tmp / "source.sqlite3"), f"sqlite:///{tmp / 'source.sqlite3'}", tmp / "source-media"),
            Site(str(tmp / "target.sqlite3"), f"sqlite:///{tmp / 'target.sqlite3'}", tmp / "target-media"),
            tmp,
        )
        return
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        message = "pg_dump and pg_restore are needed: apt-get install postgresql-client"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    suffix = uuid.uuid4().hex[:8]
    names = [f"practice_backup_source_{suffix}", f"practice_backup_target_{suffix}"]
    for name in names:
        postgres_admin(f"CREATE DATABASE {name}")
    try:
        yield (
            Site(names[0], postgres_url(names[0]), tmp / "source-media"),
            Site(names[1], postgres_url(names[1]), tmp / "target-media"),
            tmp,
        )
    finally:
        for name in names:
            postgres_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def flow(sites):
    """A demo site backed up, someone erased afterwards, and the backup restored into an empty target."""
    source, target, tmp = sites
    manage("migrate", "--noinput", "-v0", site=source, tmp=tmp)
    source_counts = json.loads(last_line(manage("shell", "-c", SOURCE_SCRIPT, site=source, tmp=tmp)))
    source_media = media_files(source.media)
    backup = manage("backup", site=source, tmp=tmp)
    archive = Path(last_line(backup))
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    manage("erase_person", "erin@example.com", "--yes", site=source, tmp=tmp)

    restore = manage("restore", str(archive), "--noinput", site=target, tmp=tmp)
    restored_media = media_files(target.media)
    checked = json.loads(last_line(manage("shell", "-c", CHECK_SCRIPT, site=target, tmp=tmp)))
    return {
        "source_counts": source_counts,
        "source_media": source_media,
        "backup": backup,
        "archive": archive,
        "manifest": manifest,
        "restore": restore,
        "restored_media": restored_media,
        "checked": checked,
    }


def test_backup_prints_the_archive_path_last_and_describes_it_in_a_manifest(flow, sites):
    _, _, tmp = sites
    archive = flow["archive"]
    assert archive.parent == tmp / "backups" and archive.is_file()
    assert backups.ARCHIVE_NAME.match(archive.name), archive.name
    assert oct(archive.stat().st_mode & 0o777) == oct(0o600)  # health details: the site's user only
    manifest = flow["manifest"]
    assert manifest["format"] == backups.FORMAT
    assert manifest["database"]["vendor"] == VENDOR
    assert manifest["migrations"]["bookings"].startswith("00")
    assert manifest["migrations"]["wagtailcore"].startswith("0")
    tables = {table: count for table, count in flow["source_counts"].items() if not table.startswith("sqlite_")}
    assert manifest["tables"] == tables
    assert {item["name"]: item["size"] for item in manifest["media"]} == flow["source_media"]
    assert any(name.startswith("original_images/") for name in flow["source_media"])


def test_restore_into_an_empty_database_brings_back_every_row_and_media_file(flow):
    restored = flow["checked"]["counts"]
    expected = dict(flow["source_counts"])
    # The erasure made after the backup is recorded again in the restored database.
    expected[ErasureRecord._meta.db_table] += 1
    assert restored == expected
    assert flow["restored_media"] == flow["source_media"]
    output = flow["restore"].stdout
    assert "bookings_booking: 3 rows" in output
    assert f"Restored {len(flow['source_media'])} media files" in output


def test_restore_erases_again_a_person_erased_after_the_backup(flow):
    checked = flow["checked"]
    assert checked["erin"] == 0
    assert checked["sam"] == 1
    assert checked["reasons"] == ["", "Bloating after meals", "Bloating after meals"]
    assert "Re-applied erasures made after the backup: 2 bookings and enquiries anonymised." in flow["restore"].stdout


def test_restored_database_still_refuses_a_double_booking(flow):
    assert "booking_no_overlap" in flow["checked"]["guard"]


def test_restored_site_serves_the_home_page_and_an_article(flow):
    assert (flow["checked"]["home"], flow["checked"]["article"]) == (200, 200)


def test_restore_refuses_a_database_that_is_not_empty_and_changes_nothing(flow, sites):
    _, target, tmp = sites
    target.query("INSERT INTO taggit_tag (name, slug) VALUES ('after-restore', 'after-restore')")
    (target.media / "added-after-restore.txt").write_text("kept")
    media_before = media_files(target.media)

    result = manage("restore", str(flow["archive"]), "--noinput", site=target, tmp=tmp, check=False)

    assert result.returncode != 0
    assert "The target is not empty" in result.stderr and "Nothing was changed" in result.stderr
    assert "--force" in result.stderr
    assert target.query("SELECT count(*) FROM taggit_tag WHERE slug = 'after-restore'") == [(1,)]
    assert media_files(target.media) == media_before


@pytest.mark.parametrize("damage", ["flipped byte", "cut short"])
def test_restore_refuses_a_damaged_archive(flow, sites, damage):
    _, target, tmp = sites
    data = bytearray(flow["archive"].read_bytes())
    if damage == "flipped byte":
        data[len(data) // 2] ^= 0xFF
    else:
        data = data[: len(data) // 2]
    damaged = tmp / f"damaged-{damage.replace(' ', '-')}.tar.gz"
    damaged.write_bytes(bytes(data))
    bookings_before = target.query("SELECT count(*) FROM bookings_booking")

    result = manage("restore", str(damaged), "--noinput", "--force", site=target, tmp=tmp, check=False)

    assert result.returncode != 0
    assert "is damaged or is not a practice backup" in result.stderr, result.stderr
    assert "nothing was changed" in result.stderr
    assert target.query("SELECT count(*) FROM bookings_booking") == bookings_before


def test_backup_keeps_only_the_newest_archives(flow, sites):
    source, _, tmp = sites
    folder = tmp / "kept"
    folder.mkdir()
    for day in (1, 2, 3):
        (folder / f"practice-backup-2020-01-0{day}T000000Z.tar.gz").write_bytes(b"old")
    (folder / "notes.txt").write_text("not an archive: never pruned")

    result = manage("backup", site=source, tmp=tmp, BACKUP_DIR=str(folder), BACKUP_KEEP="2")

    newest = Path(last_line(result))
    assert newest.parent == folder
    assert sorted(path.name for path in folder.iterdir()) == sorted(
        ["practice-backup-2020-01-03T000000Z.tar.gz", newest.name, "notes.txt"]
    )
    assert "Removed the older archive" in result.stdout


def test_an_archive_restores_only_into_the_kind_of_database_it_was_made_from():
    with pytest.raises(backups.BackupError, match="holds a SQLite database and the target is PostgreSQL"):
        backups.check_vendor({"database": {"vendor": "sqlite"}}, "postgresql")
    with pytest.raises(backups.BackupError, match="holds a PostgreSQL database and the target is SQLite"):
        backups.check_vendor({"database": {"vendor": "postgresql"}}, "sqlite")
    backups.check_vendor({"database": {"vendor": VENDOR}}, VENDOR)


def test_archive_names_stay_unique_and_sort_by_time():
    now = dt.datetime(2026, 11, 29, 9, 30, tzinfo=dt.UTC)
    first = backups.archive_name(now, set())
    second = backups.archive_name(now, {first})
    later = backups.archive_name(now + dt.timedelta(seconds=1), set())
    assert first == "practice-backup-2026-11-29T093000Z.tar.gz"
    assert second == "practice-backup-2026-11-29T093000Z-2.tar.gz"
    assert backups.archives(["x.tar.gz", later, second, first]) == [first, second, later]
    assert backups.to_prune([later, first, second, "x.tar.gz"], 2) == [first]


MEMORY_STORAGE = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


@pytest.mark.django_db
@override_settings(STORAGES=MEMORY_STORAGE, BACKUP_KEEP=1)
def test_backup_to_storage_writes_into_the_media_storage_and_keeps_the_newest():
    default_storage.save("original_images/photo.jpg", ContentFile(b"jpeg bytes"))
    for _ in range(2):
        out = io.StringIO()
        call_command("backup", "--to-storage", stdout=out)
    location = out.getvalue().strip().splitlines()[-1]

    assert location.startswith("backups/practice-backup-")
    assert default_storage.listdir("backups")[1] == [location.removeprefix("backups/")]
    with default_storage.open(location) as archive, tarfile.open(fileobj=archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        assert tar.extractfile("media/original_images/photo.jpg").read() == b"jpeg bytes"
    # The earlier archive in backups/ is not backed up inside the next one.
    assert [item["name"] for item in manifest["media"]] == ["original_images/photo.jpg"]


def test_backup_to_storage_refuses_the_public_media_folder():
    with pytest.raises(CommandError, match="served to anyone"):
        call_command("backup", "--to-storage", stdout=io.StringIO())
