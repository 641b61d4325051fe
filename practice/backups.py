"""
Backups that restore: one dated archive with the database, the uploaded media and a manifest.

An archive is a gzip-compressed tar file named `practice-backup-YYYY-MM-DDTHHMMSSZ.tar.gz` (UTC; a
`-2`, `-3` … suffix when two are made within one second), holding:

    database.sqlite3   SQLite: a copy made through SQLite's online backup API, consistent while the
                       site keeps running (never a file copy of a live database)
    database.pgdump    PostgreSQL: `pg_dump --format=custom`, taken in the same snapshot as the row
                       counts and migration state in the manifest
    media/<name>       every file in the media storage (originals and renditions), by storage name,
                       except the storage's own `backups/` folder
    manifest.json      written last: format, created_at, database vendor, file and SHA-256, the
                       latest applied migration per app, row counts per table, and every media file
                       with its size and SHA-256

An archive is written to a hidden `.partial` file in the target folder, flushed to disk and then
renamed, so a crash never leaves a half archive under an archive's name. Only names of the form
above count as archives: pruning to the newest `keep` deletes nothing else.

Restoring checks the whole archive (gzip checksum, every member's SHA-256 and size) before it
changes anything, refuses an archive of the other database vendor, and refuses a target that holds
data unless forced (see `target_contents` for the rule).

The archive holds contact details in the clear and health details encrypted with the
FIELD_ENCRYPTION_KEYS, which it does not contain: store it encrypted and access-controlled, and keep
the keys apart.

Functions take the database settings (a `DATABASES` entry), paths and storages they work on, and
`now`; nothing here reads settings or the clock.
"""

import dataclasses
import datetime as dt
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage

FORMAT = 1
PREFIX = "practice-backup-"
SUFFIX = ".tar.gz"
ARCHIVE_NAME = re.compile(r"^practice-backup-(\d{4}-\d{2}-\d{2}T\d{6}Z)(?:-(\d+))?\.tar\.gz$")
STORAGE_FOLDER = "backups"  # inside the media storage, for `backup --to-storage`; never backed up itself
MANIFEST = "manifest.json"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
ENGINES = {"django.db.backends.sqlite3": "sqlite", "django.db.backends.postgresql": "postgresql"}
VENDOR_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
# libpq connection options that Django's OPTIONS may carry, and the environment variables of the
# PostgreSQL client programs that take them.
LIBPQ_ENVIRONMENT = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
    "connect_timeout": "PGCONNECT_TIMEOUT",
}
# Wagtail's own migrations create these two pages: the tree's root and a "Welcome" page.
PAGES_FROM_MIGRATIONS = 2
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot be made, with a message for the person running it."""


@dataclasses.dataclass
class BackupResult:
    location: str  # a file path, or a storage name for --to-storage
    manifest: dict
    removed: list[str]


@dataclasses.dataclass
class Archive:
    """A checked archive, unpacked into a private temporary folder."""

    path: Path
    manifest: dict
    folder: Path

    @property
    def vendor(self) -> str:
        return self.manifest["database"]["vendor"]

    @property
    def database_file(self) -> Path:
        return self.folder / self.manifest["database"]["file"]

    def media_file(self, name: str) -> Path:
        return self.folder / "media" / name


# Names and pruning.


def archive_name(now: dt.datetime, taken: set[str]) -> str:
    """The archive's name for `now` (aware), not one of the `taken` names."""
    stamp = now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H%M%SZ")
    name = f"{PREFIX}{stamp}{SUFFIX}"
    number = 1
    while name in taken:
        number += 1
        name = f"{PREFIX}{stamp}-{number}{SUFFIX}"
    return name


def archives(names) -> list[str]:
    """The archive names among `names`, oldest first; anything else is left out."""
    found = []
    for name in names:
        match = ARCHIVE_NAME.match(name)
        if match:
            found.append(((match.group(1), int(match.group(2) or 1)), name))
    return [name for _, name in sorted(found)]


def to_prune(names, keep: int) -> list[str]:
    """The archives among `names` to delete so that the newest `keep` remain."""
    if keep < 1:
        raise BackupError("BACKUP_KEEP must be at least 1.")
    found = archives(names)
    return found[: max(len(found) - keep, 0)]


# Creating an archive.


def backup_to_folder(*, database: dict, media: Storage, folder: Path, keep: int, now: dt.datetime) -> BackupResult:
    """Write an archive into `folder` (created private if missing), then keep only the newest `keep`."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = archive_name(now, set(os.listdir(folder)))
    descriptor, partial = tempfile.mkstemp(prefix=f".{name}.", suffix=".partial", dir=folder)  # mode 0600
    try:
        with os.fdopen(descriptor, "wb") as out, tempfile.TemporaryDirectory(dir=folder) as work:
            manifest = write_archive(out, database=database, media=media, work=Path(work), now=now)
            out.flush()
            os.fsync(out.fileno())
        target = folder / name
        if target.exists():
            raise BackupError(f"{target} appeared while the backup was written; nothing was replaced.")
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    _fsync_folder(folder)
    removed = []
    for old in to_prune(os.listdir(folder), keep):
        (folder / old).unlink()
        removed.append(str(folder / old))
    return BackupResult(location=str(target), manifest=manifest, removed=removed)


def backup_to_storage(*, database: dict, media: Storage, target: Storage, keep: int, now: dt.datetime) -> BackupResult:
    """
    Write an archive into `target` under `backups/`, then keep only the newest `keep` there.

    The archive is built in a private temporary folder and saved in one call: object stores (S3
    and the like) make an upload visible only once it is complete. The storage must not be
    publicly readable; the command refuses a file-system storage, whose folder the web server serves.
    """
    _, existing = _listdir(target, STORAGE_FOLDER)
    name = archive_name(now, set(existing))
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / name
        with path.open("wb") as out:
            manifest = write_archive(out, database=database, media=media, work=Path(work), now=now)
        with path.open("rb") as archive:
            saved = target.save(f"{STORAGE_FOLDER}/{name}", File(archive, name=name))
    if saved != f"{STORAGE_FOLDER}/{name}":
        target.delete(saved)
        raise BackupError(f"The storage saved the archive as {saved}; it was removed. Try again.")
    removed = []
    for old in to_prune(_listdir(target, STORAGE_FOLDER)[1], keep):
        target.delete(f"{STORAGE_FOLDER}/{old}")
        removed.append(f"{STORAGE_FOLDER}/{old}")
    return BackupResult(location=saved, manifest=manifest, removed=removed)


def write_archive(out: BinaryIO, *, database: dict, media: Storage, work: Path, now: dt.datetime) -> dict:
    """Write the archive to `out`: the database first, then the media, then the manifest. Returns the manifest."""
    vendor = vendor_of(database)
    dump = work / DATABASE_FILES[vendor]
    if vendor == "sqlite":
        migrations, tables = dump_sqlite(database, dump)
    else:
        migrations, tables = dump_postgresql(database, dump)
    manifest = {
        "format": FORMAT,
        "created_at": now.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "database": {"vendor": vendor, "file": dump.name, "size": dump.stat().st_size, "sha256": _sha256(dump)},
        "migrations": migrations,
        "tables": tables,
        "media": [],
    }
    mtime = now.timestamp()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        tar.add(dump, arcname=dump.name, filter=_private)
        dump.unlink()
        for name in media_names(media):
            with tempfile.SpooledTemporaryFile(max_size=8 * CHUNK, dir=work) as copy:
                try:
                    with media.open(name, "rb") as source:
                        digest = _copy(source, copy)
                except FileNotFoundError:
                    continue  # deleted since it was listed: a later upload's clean-up, not part of the snapshot
                info = tarfile.TarInfo(f"media/{name}")
                info.size, info.mtime, info.mode = copy.tell(), mtime, 0o600
                copy.seek(0)
                tar.addfile(info, copy)
                manifest["media"].append({"name": name, "size": info.size, "sha256": digest})
        data = json.dumps(manifest, indent=2, sort_keys=True).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime, info.mode = len(data), mtime, 0o600
        tar.addfile(info, io.BytesIO(data))
    return manifest


def dump_sqlite(database: dict, dump: Path) -> tuple[dict, dict]:
    """Copy the SQLite database to `dump` through the online backup API; return its migrations and row counts."""
    source_path = Path(database["NAME"])
    if not source_path.is_file():
        raise BackupError(f"The SQLite database {source_path} does not exist.")
    # Read-only: a backup must never create or change the database it copies.
    source_uri = f"{source_path.resolve().as_uri()}?mode=ro"
    try:
        with (
            closing(sqlite3.connect(source_uri, uri=True, timeout=30)) as source,
            closing(sqlite3.connect(dump)) as copy,
        ):
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            cursor = copy.cursor()
            return applied_migrations(cursor, "sqlite"), row_counts(cursor, "sqlite")
    except sqlite3.Error as error:
        raise BackupError(f"Could not copy the SQLite database {source_path}: {error}.") from None


def dump_postgresql(database: dict, dump: Path) -> tuple[dict, dict]:
    """
    `pg_dump --format=custom` into `dump`; return the migrations and row counts it holds.

    The counts are read in a repeatable-read transaction whose snapshot pg_dump then uses, so the
    manifest describes exactly the data in the dump even while the site keeps writing.
    """
    import psycopg2

    program = _client_program("pg_dump")
    with closing(psycopg2.connect(**_libpq_parameters(database))) as connection:
        connection.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            migrations, tables = applied_migrations(cursor, "postgresql"), row_counts(cursor, "postgresql")
            _run(
                [program, "--format=custom", "--no-password", f"--snapshot={snapshot}", f"--file={dump}"],
                database,
                "pg_dump",
            )
        connection.rollback()
    return migrations, tables


def media_names(storage: Storage) -> list[str]:
    """Every file name in `storage`, sorted, leaving out its top-level `backups/` folder."""
    names = []

    def walk(folder: str) -> None:
        folders, files = _listdir(storage, folder)
        for file_name in files:
            names.append(f"{folder}/{file_name}" if folder else file_name)
        for sub in folders:
            path = f"{folder}/{sub}" if folder else sub
            if path != STORAGE_FOLDER:
                walk(path)

    walk("")
    return sorted(names)


# Reading the database (shared by backup and restore).


def is_local(storage: Storage) -> bool:
    """Whether `storage` is a folder on this machine (the web server serves the media folder to anyone)."""
    return isinstance(storage, FileSystemStorage)


def vendor_of(database: dict) -> str:
    try:
        return ENGINES[database["ENGINE"]]
    except KeyError:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {database['ENGINE']}.") from None


def table_names(cursor, vendor: str) -> list[str]:
    if vendor == "sqlite":
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    else:
        cursor.execute(
            "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = ANY (current_schemas(false)) "
            "ORDER BY tablename"
        )
    return [row[0] for row in cursor.fetchall()]


def row_counts(cursor, vendor: str, tables=None) -> dict[str, int]:
    """Rows in each table (all tables unless `tables` names some)."""
    counts = {}
    for table in table_names(cursor, vendor) if tables is None else tables:
        cursor.execute(f"SELECT count(*) FROM {_quote(table)}")  # noqa: S608 (a name read from the catalogue)
        counts[table] = cursor.fetchone()[0]
    return counts


def applied_migrations(cursor, vendor: str) -> dict[str, str]:
    """The latest applied migration of each app (in the order they were applied); {} before any."""
    if "django_migrations" not in table_names(cursor, vendor):
        return {}
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
    return dict(cursor.fetchall())


# Restoring.


@contextmanager
def opened(path: Path) -> Iterator[Archive]:
    """
    Check the archive at `path` and unpack it into a private temporary folder for the duration.

    Raises BackupError when it is not a complete, unchanged practice backup: a broken gzip stream,
    a missing or unreadable manifest, an unknown format, a member outside the archive's own
    folders, or a database file or media file whose size or SHA-256 differs from the manifest.
    """
    if not path.is_file():
        raise BackupError(f"There is no file {path}.")
    with tempfile.TemporaryDirectory(prefix="practice-restore-") as folder:
        try:
            manifest = _unpack(path, Path(folder))
        except (tarfile.TarError, EOFError, zlib.error, OSError, ValueError, KeyError, TypeError) as error:
            raise BackupError(
                f"{path} is damaged or is not a practice backup ({error}); nothing was changed."
            ) from None
        yield Archive(path=path, manifest=manifest, folder=Path(folder))


def check_vendor(manifest: dict, vendor: str) -> None:
    """Refuse to restore one vendor's archive into the other's database."""
    made = manifest["database"]["vendor"]
    if made != vendor:
        raise BackupError(
            f"This archive holds a {VENDOR_NAMES[made]} database and the target is {VENDOR_NAMES[vendor]}: an "
            f"archive restores only into the kind of database it was made from. Set DATABASE_URL to a "
            f"{VENDOR_NAMES[made]} database. Nothing was changed."
        )


def target_contents(cursor, vendor: str, *, project_tables: list[str]) -> list[str]:
    """
    What makes the target database non-empty, as sentences; an empty list means it may be restored into.

    The rule: a database is empty when it has no tables (never migrated), or when all of these hold:
    every table of the project's own apps (`project_tables`) has no rows, Wagtail has no pages beyond
    the two its migrations create (the root and the welcome page), no images or documents, and there
    are no user accounts. Rows that migrations create (groups, permissions, content types, the
    default site) do not count.
    """
    present = set(table_names(cursor, vendor))
    found = []
    for table, count in row_counts(cursor, vendor, sorted(present & set(project_tables))).items():
        if count:
            found.append(f"{table} has {count} rows")
    checks = [
        ("wagtailcore_page", PAGES_FROM_MIGRATIONS, "Wagtail pages"),
        ("wagtailimages_image", 0, "images"),
        ("wagtaildocs_document", 0, "documents"),
        ("auth_user", 0, "user accounts"),
    ]
    for table, allowed, label in checks:
        if table in present:
            count = row_counts(cursor, vendor, [table])[table]
            if count > allowed:
                found.append(f"{count} {label}")
    return found


def media_contents(storage: Storage) -> list[str]:
    """The files already in the media storage (its `backups/` folder aside)."""
    return media_names(storage)


def restore_database(archive: Archive, database: dict) -> None:
    """
    Replace the target database's contents with the archive's. No connection to it may be open.

    SQLite: the archived file is copied into the target file through the online backup API, page
    by page under SQLite's lock. PostgreSQL: `pg_restore --clean --if-exists --no-owner --no-acl
    --single-transaction`, so the restore happens completely or not at all; the database must exist
    and may be empty (pg_restore creates the schema) or migrated (pg_restore drops and recreates
    what the archive holds).
    """
    vendor = vendor_of(database)
    check_vendor(archive.manifest, vendor)
    if vendor == "sqlite":
        target = Path(database["NAME"])
        try:
            with closing(sqlite3.connect(archive.database_file)) as source, closing(sqlite3.connect(target)) as copy:
                source.backup(copy)
        except sqlite3.Error as error:
            raise BackupError(f"Could not write the SQLite database {target}: {error}.") from None
    else:
        program = _client_program("pg_restore")
        _run(
            [
                program,
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-acl",
                "--single-transaction",
                "--no-password",
                f"--dbname={database['NAME']}",
                str(archive.database_file),
            ],
            database,
            "pg_restore",
        )


def restore_media(archive: Archive, storage: Storage) -> int:
    """Put every media file of the archive into `storage` under its own name, replacing any file of that name."""
    for item in archive.manifest["media"]:
        name = item["name"]
        source = archive.media_file(name)
        if is_local(storage):
            local = Path(storage.path(name))
            local.parent.mkdir(parents=True, exist_ok=True)
            descriptor, partial = tempfile.mkstemp(prefix=f".{local.name}.", suffix=".partial", dir=local.parent)
            os.close(descriptor)
            shutil.copyfile(source, partial)
            # As an upload would be, so that the web server can read it (mkstemp made it private).
            os.chmod(partial, getattr(storage, "file_permissions_mode", None) or 0o644)
            os.replace(partial, local)
            continue
        if storage.exists(name):
            storage.delete(name)
        with source.open("rb") as handle:
            saved = storage.save(name, File(handle, name=name))
        if saved != name:
            raise BackupError(f"The media storage saved {name} as {saved}.")
    return len(archive.manifest["media"])


def count_differences(expected: dict[str, int], found: dict[str, int]) -> list[str]:
    """Tables whose row count after a restore differs from the manifest's."""
    return [
        f"{table}: {found.get(table, 'missing')} rows, the archive has {count}"
        for table, count in sorted(expected.items())
        if found.get(table) != count
    ]


# Helpers.


def _unpack(path: Path, folder: Path) -> dict:
    with gzip.open(path, "rb") as stream:  # the gzip checksum covers the whole archive
        while stream.read(CHUNK):
            pass
    digests = {}
    with tarfile.open(path, "r:gz") as tar:
        for member in tar:
            name = PurePosixPath(member.name)
            if not member.isfile() or name.is_absolute() or ".." in name.parts:
                raise ValueError(f"unexpected member {member.name}")
            if name.parts[0] != "media" and len(name.parts) != 1:
                raise ValueError(f"unexpected member {member.name}")
            destination = folder.joinpath(*name.parts)
            destination.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(member) as source, destination.open("wb") as copy:
                digests[member.name] = (_copy(source, copy), member.size)
    if MANIFEST not in digests:
        raise ValueError("no manifest: the archive is incomplete")
    manifest = json.loads((folder / MANIFEST).read_text())
    if manifest.get("format") != FORMAT:
        raise ValueError(f"archive format {manifest.get('format')!r}, this version reads {FORMAT}")
    database = manifest["database"]
    if database["vendor"] not in DATABASE_FILES or database["file"] != DATABASE_FILES[database["vendor"]]:
        raise ValueError(f"unknown database {database['vendor']!r}")
    expected = {database["file"]: (database["sha256"], database["size"])}
    expected.update({f"media/{item['name']}": (item["sha256"], item["size"]) for item in manifest["media"]})
    for member, digest in expected.items():
        if digests.get(member) != digest:
            raise ValueError(f"{member} is missing or differs from the manifest")
    return manifest


def _private(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
    return info


def _copy(source, target) -> str:
    digest = hashlib.sha256()
    while chunk := source.read(CHUNK):
        digest.update(chunk)
        target.write(chunk)
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _listdir(storage: Storage, folder: str) -> tuple[list[str], list[str]]:
    try:
        return storage.listdir(folder)
    except FileNotFoundError:
        return [], []


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _libpq_parameters(database: dict) -> dict:
    parameters = {
        "dbname": database.get("NAME") or None,
        "user": database.get("USER") or None,
        "password": database.get("PASSWORD") or None,
        "host": database.get("HOST") or None,
        "port": database.get("PORT") or None,
    }
    options = database.get("OPTIONS", {})
    parameters.update({key: value for key, value in options.items() if key in LIBPQ_ENVIRONMENT})
    return {key: value for key, value in parameters.items() if value is not None}


def _client_environment(database: dict) -> dict:
    """The environment for pg_dump and pg_restore: the password travels here, never on the command line."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    names = {"dbname": "PGDATABASE", "user": "PGUSER", "password": "PGPASSWORD", "host": "PGHOST", "port": "PGPORT"}
    names.update(LIBPQ_ENVIRONMENT)
    for key, value in _libpq_parameters(database).items():
        environment[names[key]] = str(value)
    return environment


def _client_program(name: str) -> str:
    program = shutil.which(name)
    if program is None:
        raise BackupError(
            f"{name} is not installed; install the PostgreSQL client (Debian: apt-get install postgresql-client)."
        )
    return program


def _run(command: list[str], database: dict, name: str) -> None:
    result = subprocess.run(  # noqa: S603 (fixed program, arguments without secrets)
        command, env=_client_environment(database), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"{name} failed: {result.stderr.strip() or result.stdout.strip()}")
