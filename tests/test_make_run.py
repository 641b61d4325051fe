"""`make run` as a person uses it: it prints a login, serves the demo site, and that login works."""

import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

from django.conf import settings

import pytest

from tests.conftest import code_from_secret

BASE_DIR = Path(settings.BASE_DIR)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_serves_the_demo_site_and_the_printed_login_works(tmp_path):
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_", "ADMIN_"))}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        DJANGO_MEDIA_ROOT=str(tmp_path / "media"),
        ADMIN_PASSWORD_FILE=str(tmp_path / "admin-password"),
        PORT=str(port),
        RUNSERVER_FLAGS="--noreload",
    )
    log = open(tmp_path / "make-run.log", "w+")  # noqa: SIM115 (closed in the finally block)
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        home = None
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(base + "/", timeout=5) as response:
                    home = response.read().decode()
                    break
            except OSError:
                time.sleep(0.5)
        log.seek(0)
        output = log.read()
        assert home is not None, output
        assert "Calm, practical support for autoimmune and gut health" in home

        for step in ("Applying database migrations", "Loading the demo content", "admin account", "Serving the site"):
            assert step in output
        username, password = re.search(r"username '([^']+)', password '([^']+)'", output).groups()

        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        login_page = opener.open(base + "/admin/login/").read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page).group(1)
        form = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token, "username": username, "password": password, "next": "/admin/"}
        ).encode()
        request = urllib.request.Request(base + "/admin/login/", data=form, headers={"Referer": base + "/admin/login/"})
        # A superuser can see health details: the first sign-in goes on to set up the second factor.
        enrolment = opener.open(request)
        assert enrolment.geturl() == base + "/admin/two-factor/?next=%2Fadmin%2F"
        enrolment_page = enrolment.read().decode()
        secret = re.search(r'id="two-factor-secret">([A-Z2-7 ]+)</code>', enrolment_page).group(1)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', enrolment_page).group(1)
        form = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token, "code": code_from_secret(secret), "next": "/admin/"}
        ).encode()
        request = urllib.request.Request(enrolment.geturl(), data=form, headers={"Referer": enrolment.geturl()})
        assert "Two-step verification is on" in opener.open(request).read().decode()

        dashboard = opener.open(base + "/admin/")
        assert dashboard.geturl() == base + "/admin/"
        body = dashboard.read().decode()
        assert 'name="password"' not in body
        assert re.search(r'<h1 class="w-h1[^"]*">\s*Naomi Integrative Health\s*</h1>', body)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()
