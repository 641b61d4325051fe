"""
`make cluster` (bench/cluster.py): two gunicorn app servers on one PostgreSQL database and one Redis,
the notification worker, moto's S3 server and Varnish in front, all started for real on loopback.

It runs once per CI run, not once per database: it brings its own PostgreSQL database (a fresh one
per run, dropped afterwards), so it runs only when DATABASE_URL is unset (CI's first pass, on SQLite)
and skips in the PostgreSQL pass. It needs PostgreSQL on 127.0.0.1:5432 (CLUSTER_TEST_POSTGRES_URL
names another server), Redis on 127.0.0.1:6379 (database 14, emptied afterwards), Debian's varnish
and the system Chromium; without them it skips, except in CI, where that is a failure.

What it shows, each through the app servers' real HTTP ports:
- the same slot requested through both app servers at the same moment gives exactly one booking, and
  the worker sends its emails from the shared outbox;
- an editor signed in on app server 1 is signed in on app server 2 (database sessions); an edit they
  publish on app server 1 is purged from Varnish, and the next visitor, served by app server 2, reads it;
- an image uploaded through the admin is stored in the S3 bucket, and both servers link the same rendition.
"""

import hashlib
import html
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from html.parser import HTMLParser
from pathlib import Path

from django.conf import settings

import pytest

from bench.cluster import SERVER_HEADER, Cluster

POSTGRES_URL = os.environ.get("CLUSTER_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
CACHE_URL = "redis://127.0.0.1:6379/14"  # apart from `make cluster` (13) and the other tests (15)
ARTICLE = "/articles/alopecia-areata-and-leaky-gut/"
MINIMUM_FILL_SECONDS = 3.2  # bookings.forms.MINIMUM_FILL_SECONDS, and a little more


def _listening(host, port):
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _chromium():
    return os.environ.get("CHROMIUM_EXECUTABLE") or shutil.which("chromium") or shutil.which("chromium-browser")


def _missing():
    parts = urllib.parse.urlsplit(POSTGRES_URL)
    needs = {
        "PostgreSQL": _listening(parts.hostname or "127.0.0.1", parts.port or 5432),
        "Redis": _listening("127.0.0.1", 6379),
        "varnishd": bool(shutil.which("varnishd") or shutil.which("varnishd", path="/usr/sbin")),
        "Chromium": bool(_chromium()),
    }
    return [name for name, present in needs.items() if not present]


pytestmark = [
    pytest.mark.skipif(
        bool(os.environ.get("DATABASE_URL")),
        reason="the cluster brings its own PostgreSQL database: it runs in the pass without DATABASE_URL",
    ),
]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    missing = _missing()
    if missing:
        message = f"the cluster test needs {', '.join(missing)} on this machine"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    name = f"practice_cluster_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    database_url = POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    with Cluster(
        template_database=migrated_template(),
        workdir=tmp_path_factory.mktemp("cluster"),
        database_url=database_url,
        cache_url=CACHE_URL,
        worker_interval=1,
        drop_database=True,
        log=lambda *args: None,
    ) as running:
        yield running


def migrated_template():
    """
    A database with every migration applied, kept between runs and named after the migrations, which
    each run copies: migrating an empty PostgreSQL database takes a minute on a small machine. Made under
    a temporary name and renamed when complete, so that a run beside this one never copies half of it.
    """
    import psycopg2

    digest = hashlib.sha256()
    for path in sorted(Path(settings.BASE_DIR).glob("*/migrations/*.py")):
        digest.update(path.read_bytes())
    name = f"practice_cluster_template_{digest.hexdigest()[:12]}"
    admin = psycopg2.connect(POSTGRES_URL)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE 'practice_cluster_template_%%'")
            existing = [row[0] for row in cursor.fetchall()]
            if name in existing:
                return name
            for old in existing:  # made for migrations that have changed since
                cursor.execute(f'DROP DATABASE IF EXISTS "{old}" WITH (FORCE)')
            building = f"practice_cluster_building_{os.getpid()}"
            cursor.execute(f'CREATE DATABASE "{building}"')
            env = {
                **{key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")},
                "DJANGO_SETTINGS_MODULE": "practice.settings.test",
                "DATABASE_URL": POSTGRES_URL.rsplit("/", 1)[0] + "/" + building,
            }
            try:
                subprocess.run(
                    [sys.executable, "manage.py", "migrate", "--noinput"],
                    cwd=settings.BASE_DIR,
                    env=env,
                    check=True,
                    capture_output=True,
                )
                cursor.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
            except Exception:
                cursor.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
                raise
    finally:
        admin.close()
    return name


def query(cluster, code):
    """Run `code` in `manage.py shell` against the cluster's database; it prints one JSON value last."""
    output = cluster.manage("shell", "-c", code, capture=True)
    return json.loads(output.strip().splitlines()[-1])


class Browser:
    """One person's HTTP client for one server: cookies kept by hand, as the production cookies are Secure."""

    def __init__(self, base_url, cookies=None):
        self.base_url = base_url
        self.cookies = cookies if cookies is not None else {}

    def on(self, base_url):
        """The same person (the same cookies) talking to another server."""
        return Browser(base_url, self.cookies)

    def request(self, path, data=None, *, files=None):
        headers = {"Cookie": "; ".join(f"{key}={value}" for key, value in self.cookies.items())}
        body = None
        if files:
            boundary = uuid.uuid4().hex
            body = _multipart(data or {}, files, boundary)
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        elif data is not None:
            body = urllib.parse.urlencode(data, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(self.base_url + path, data=body, headers=headers)
        try:
            response = _NO_REDIRECTS.open(request, timeout=30)
        except urllib.error.HTTPError as error:
            response = error
        with response:
            content = response.read().decode(errors="replace")
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, response.headers, content


class _KeepRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_NO_REDIRECTS = urllib.request.build_opener(_KeepRedirects)


def _multipart(fields, files, boundary):
    out = io.BytesIO()
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{item}\r\n'.encode())
    for name, (filename, content, content_type) in files.items():
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n".encode()
        )
        out.write(content + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue()


class FormFields(HTMLParser):
    """The values a browser would send, before anyone types, from the form whose action or class holds `marker`."""

    def __init__(self, marker):
        super().__init__()
        self.marker = marker
        self.inside = False
        self.fields = {}
        self.select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = self.marker in f"{attrs.get('action') or ''} {attrs.get('class') or ''}"
        elif not self.inside or not attrs.get("name"):
            return
        elif tag == "input" and attrs.get("type") not in ("file", "submit", "button", "checkbox", "radio"):
            self.fields[attrs["name"]] = attrs.get("value") or ""
        elif tag == "input" and "checked" in attrs:
            self.fields[attrs["name"]] = attrs.get("value") or "on"
        elif tag == "select":
            self.select = attrs["name"]
        elif tag == "textarea":
            self.fields[attrs["name"]] = ""
        if tag == "option" and self.select and (self.select not in self.fields or "selected" in attrs):
            self.fields[self.select] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None


def form_fields(page, marker):
    parser = FormFields(marker)
    parser.feed(page)
    return parser.fields


def test_the_same_slot_booked_through_both_app_servers_at_once_gives_one_booking(cluster):
    first, second = (Browser(url) for url in cluster.app_urls)
    status, _, picker = first.request("/book/discovery-call/")
    assert status == 200
    details = html.unescape(re.search(r'href="(/book/discovery-call/details/\?start=[^"]+)"', picker).group(1))
    start = urllib.parse.parse_qs(urllib.parse.urlsplit(details).query)["start"][0]

    forms = []
    for number, visitor in enumerate((first, second), start=1):
        status, _, page = visitor.request(details)
        assert status == 200
        fields = form_fields(page, "booking-form")
        fields.update(
            name=f"Cluster Visitor {number}",
            email=f"cluster{number}@example.com",
            phone="+44 20 7946 0000",  # the discovery call is by phone
            contact_method="email",
            reason="Both at once",
            consent_privacy="on",
            consent_health_data="on",
            acknowledged_not_emergency="on",
        )
        assert fields["start"] == start and fields["started"] and fields["idempotency_key"]
        forms.append((visitor, fields))
    time.sleep(MINIMUM_FILL_SECONDS)  # the form refuses what is sent faster than a person types

    barrier = threading.Barrier(len(forms))
    results = [None] * len(forms)

    def send(index, visitor, fields):
        barrier.wait()
        results[index] = visitor.request(details, fields)

    threads = [threading.Thread(target=send, args=(index, *form)) for index, form in enumerate(forms)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    booked = [result for result in results if result[0] == 302 and "/book/manage/" in result[1]["Location"]]
    refused = [result for result in results if result[0] == 200]
    assert len(booked) == 1 and len(refused) == 1, [(result[0], result[1].get("Location")) for result in results]
    assert "that time was just taken" in refused[0][2], refused[0][2][-3000:]
    # The worker, a third process, sends what either server put in the outbox.
    code = (
        "import json, datetime as dt; from bookings.models import Booking, Notification; "
        f"start = dt.datetime.fromisoformat({start!r}); "
        "print(json.dumps([list(Booking.objects.filter(starts_at=start).values_list('email', flat=True)), "
        "list(Notification.objects.values_list('status', flat=True))]))"
    )
    deadline = time.monotonic() + 20
    while True:
        bookings, statuses = query(cluster, code)
        if (statuses and set(statuses) == {"sent"}) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert len(bookings) == 1
    assert statuses and set(statuses) == {"sent"}, statuses


@pytest.fixture(scope="module")
def editor(cluster):
    """
    An editor who may publish (Wagtail's Moderators group: no health details, so no second factor),
    signed in through the admin's login form on app server 1.
    """
    password = uuid.uuid4().hex
    query(
        cluster,
        "import json; from django.contrib.auth import get_user_model; from django.contrib.auth.models import Group; "
        f"user = get_user_model().objects.create_user('cluster-editor', 'editor@example.com', {password!r}); "
        "user.groups.add(Group.objects.get(name='Moderators')); print(json.dumps(user.pk))",
    )
    person = Browser(cluster.app_urls[0])
    status, _, page = person.request("/admin/login/")
    fields = form_fields(page, "/admin/login/")
    fields.update(username="cluster-editor", password=password, next="/admin/")
    status, headers, page = person.request("/admin/login/", fields)
    assert status == 302 and headers["Location"] == "/admin/", page[-2000:]
    return person


def test_an_editor_signed_in_on_one_server_publishes_and_the_other_serves_it_fresh_through_varnish(
    cluster, editor, browser
):
    # Signed in on app server 1, and so on app server 2: the session is in the shared database.
    status, headers, page = editor.on(cluster.app_urls[1]).request("/admin/pages/")
    assert status == 200, (status, headers.get("Location"))
    assert headers[SERVER_HEADER] == "app2"
    assert "Sign out" in page or "Log out" in page

    visitor = Browser(cluster.url)
    visitor.request(ARTICLE)
    status, headers, page = visitor.request(ARTICLE)
    assert status == 200 and headers["X-Cache"] == "HIT"  # cached in Varnish: only a purge refreshes it
    old_title = re.search(r"<h1[^>]*>\s*([^<]+?)\s*</h1>", page).group(1)
    new_title = f"{old_title} (revised {uuid.uuid4().hex[:6]})"
    page_id = query(
        cluster,
        "import json; from articles.models import ArticlePage; "
        f"print(json.dumps(ArticlePage.objects.get(url_path__endswith={ARTICLE!r}).pk))",
    )

    # The editor publishes on app server 1 in a real browser: the page editor needs its JavaScript.
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    try:
        context.set_default_timeout(20_000)
        context.add_cookies(
            [{"name": key, "value": value, "url": cluster.app_urls[0]} for key, value in editor.cookies.items()]
        )
        tab = context.new_page()
        tab.goto(f"{cluster.app_urls[0]}/admin/pages/{page_id}/edit/")
        tab.locator("#id_title").fill(new_title)
        tab.get_by_role("button", name="More actions").click()
        tab.get_by_role("button", name="Publish").click()
        tab.get_by_text("has been published").first.wait_for()
    finally:
        context.close()

    # Only app server 2 answers now: the page it sends through Varnish is the new one.
    cluster.varnish.admin("backend.set_health", "app1", "sick")
    try:
        status, headers, page = Browser(cluster.url).request(ARTICLE)
    finally:
        cluster.varnish.admin("backend.set_health", "app1", "auto")
    assert status == 200
    assert headers[SERVER_HEADER] == "app2" and headers["X-Cache"] == "MISS"
    assert html.escape(new_title, quote=False) in page


def _png():
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (640, 480), (40, 120, 90)).save(out, "PNG")
    return out.getvalue()


def test_an_upload_through_the_admin_lands_in_the_bucket_and_both_servers_link_its_rendition(cluster, editor):
    # Uploaded through app server 2 with the session made on app server 1.
    on_second = editor.on(cluster.app_urls[1])
    status, _, page = on_second.request("/admin/images/add/")
    assert status == 200
    fields = form_fields(page, "/admin/images/add/")
    fields["title"] = "Cluster upload"
    status, _, page = on_second.request(
        "/admin/images/add/", fields, files={"file": ("cluster-upload.png", _png(), "image/png")}
    )
    assert status == 302, page[-3000:]
    stored = cluster.s3.object_keys()
    assert any(re.fullmatch(r"original_images/cluster-upload[^/]*\.png", key) for key in stored), stored
    image_id = query(
        cluster,
        "import json; from wagtail.images.models import Image; "
        "print(json.dumps(Image.objects.get(title='Cluster upload').pk))",
    )

    # The edit page shows a rendition: made once, by whichever server came first, and linked by both.
    links = []
    for url in cluster.app_urls:
        status, _, page = editor.on(url).request(f"/admin/images/{image_id}/")
        assert status == 200
        links.append(re.search(r'src="(http://[^"]+/images/cluster-upload[^"]+)"', page).group(1))
    assert links[0] == links[1]
    assert links[0].startswith(f"{cluster.s3.endpoint_url}/{cluster.s3.bucket}/images/")
    with urllib.request.urlopen(links[0], timeout=10) as response:
        assert response.status == 200 and response.headers["Content-Type"].startswith("image/")
