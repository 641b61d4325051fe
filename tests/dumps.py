"""A full dump of the test database, as an attacker with a copy of the database would read it."""

import os
import subprocess

from django.db import connection


def full_dump() -> str:
    """Every row of the database as the database itself writes it out: SQLite's .dump or pg_dump."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return "\n".join(connection.connection.iterdump())
    params = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": params.get("PASSWORD") or ""}
    command = ["pg_dump", "--no-owner", "-h", params["HOST"] or "127.0.0.1", "-p", str(params["PORT"] or 5432)]
    command += ["-U", params["USER"], params["NAME"]]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
