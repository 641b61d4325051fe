"""
The database refuses two active bookings (pending or confirmed) whose blocked ranges overlap.

PostgreSQL: an exclusion constraint over tstzrange(blocked_from, blocked_until). SQLite: triggers
that abort the insert or update; SQLite runs one writer at a time, so the check and the write
cannot be interleaved by another connection. Ranges are half-open: back-to-back bookings are fine.
"""

from django.db import migrations

ACTIVE = "('pending', 'confirmed')"

POSTGRES_UP = f"""
ALTER TABLE bookings_booking ADD CONSTRAINT booking_no_overlap
EXCLUDE USING gist (tstzrange(blocked_from, blocked_until, '[)') WITH &&)
WHERE (status IN {ACTIVE});
"""
POSTGRES_DOWN = "ALTER TABLE bookings_booking DROP CONSTRAINT IF EXISTS booking_no_overlap;"

SQLITE_UP = [
    f"""
    CREATE TRIGGER booking_no_overlap_insert BEFORE INSERT ON bookings_booking
    WHEN NEW.status IN {ACTIVE}
    BEGIN
        SELECT RAISE(ABORT, 'booking_no_overlap') WHERE EXISTS (
            SELECT 1 FROM bookings_booking AS other
            WHERE other.status IN {ACTIVE}
              AND other.blocked_from < NEW.blocked_until
              AND other.blocked_until > NEW.blocked_from
        );
    END;
    """,
    f"""
    CREATE TRIGGER booking_no_overlap_update BEFORE UPDATE OF status, blocked_from, blocked_until
    ON bookings_booking
    WHEN NEW.status IN {ACTIVE}
    BEGIN
        SELECT RAISE(ABORT, 'booking_no_overlap') WHERE EXISTS (
            SELECT 1 FROM bookings_booking AS other
            WHERE other.id != NEW.id
              AND other.status IN {ACTIVE}
              AND other.blocked_from < NEW.blocked_until
              AND other.blocked_until > NEW.blocked_from
        );
    END;
    """,
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS booking_no_overlap_insert;",
    "DROP TRIGGER IF EXISTS booking_no_overlap_update;",
]


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP)
    elif vendor == "sqlite":
        for statement in SQLITE_UP:
            schema_editor.execute(statement)
    else:
        raise NotImplementedError(f"No booking overlap guard for the {vendor} database")


def remove(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = [POSTGRES_DOWN] if vendor == "postgresql" else SQLITE_DOWN
    for statement in statements:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("bookings", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
