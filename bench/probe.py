"""
The Django side of `make bench`, run as `python -m bench.probe COMMAND` with the run's environment
(production settings), so that it sees the same database and cache as the servers. Each command
prints one line of JSON last.

    info                       the configuration and the size of the demo content
    queries PATH=PAGE ...      database queries of PATH: cold after PAGE is published, cold with every
                               cache emptied, and warm (the next request each time)
    publisher                  reads {"path": ..., "title": ...} lines on standard input; publishes a new
                               revision of the page at that path (with that title, if given) and answers
                               with the monotonic clock before and after `publish()`
    free-starts COUNT          free start times of the discovery call, for the booking benchmark
"""

import json
import sys
import time

import django


def _page_at(path):
    from wagtail.models import Page

    for page in Page.objects.live().specific():
        if page.get_url() == path:
            return page
    raise SystemExit(f"No live page at {path}")


def publish(page, title=None):
    """A new revision of `page`, published with Wagtail's API as the page editor does."""
    page = type(page).objects.get(pk=page.pk)
    if title:
        page.title = title
    page.save_revision().publish()


def clear_caches():
    from django.conf import settings
    from django.core.cache import caches

    for alias in settings.CACHES:
        caches[alias].clear()


def info():
    import platform

    from django.conf import settings
    from django.db import connection

    import wagtail
    from taggit.models import Tag
    from wagtail.images import get_image_model
    from wagtail.models import Page

    from articles.models import ArticlePage, Topic

    database = settings.DATABASES["default"]
    cache = settings.CACHES["default"]
    with connection.cursor():
        if connection.vendor == "sqlite":
            version = ".".join(str(part) for part in connection.Database.sqlite_version_info)
        elif connection.vendor == "postgresql":
            version = f"{connection.pg_version // 10000}.{connection.pg_version % 100}"
        else:
            version = ""
    return {
        "settings": settings.SETTINGS_MODULE,
        "database": {
            "vendor": connection.vendor,
            "version": version,
            "name": str(database["NAME"]).rsplit("/", 1)[-1],
            "conn_max_age": database.get("CONN_MAX_AGE", 0),
        },
        "cache": {"backend": cache["BACKEND"], "location": str(cache.get("LOCATION", ""))},
        "content": {
            "live_pages": Page.objects.live().count(),
            "articles": ArticlePage.objects.live().count(),
            "topics": Topic.objects.count(),
            "tags": Tag.objects.count(),
            "images": get_image_model().objects.count(),
        },
        "versions": {
            "python": platform.python_version(),
            "django": django.get_version(),
            "wagtail": wagtail.__version__,
        },
    }


def queries(pairs):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    def request(path):
        # A new client each time: an anonymous visitor without cookies, as the load generator is.
        with CaptureQueriesContext(connection) as captured:
            response = Client().get(path)
        return response.status_code, len(captured)

    results = {}
    for pair in pairs:
        path, _, page_path = pair.rpartition("=")
        page = _page_at(page_path or path)
        request(path)
        request(path)  # whatever a running server would already have cached
        publish(page)
        status, cold_publish = request(path)
        _, warm_publish = request(path)
        clear_caches()
        _, cold_empty = request(path)
        _, warm_empty = request(path)
        results[path] = {
            "status": status,
            "published": page_path or path,
            "cold_after_publish": cold_publish,
            "warm_after_publish": warm_publish,
            "cold_caches_empty": cold_empty,
            "warm_after_empty": warm_empty,
        }
    return results


def publisher():
    pages = {}
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        if command["path"] not in pages:
            pages[command["path"]] = _page_at(command["path"])
        page = pages[command["path"]]
        started = time.monotonic()
        publish(page, command.get("title"))
        finished = time.monotonic()
        print(json.dumps({"started": started, "finished": finished}), flush=True)


def titles(paths):
    return {path: _page_at(path).title for path in paths}


def free_starts(count):
    import datetime as dt

    from django.utils import timezone

    from bookings import selectors
    from bookings.models import ConsultationType

    consultation = ConsultationType.objects.get(slug="discovery-call")
    now = timezone.now()
    starts = selectors.slots_available(
        consultation_type=consultation,
        first_day=now.date(),
        last_day=now.date() + dt.timedelta(days=55),
        now=now,
        zone=selectors.practice_zone(),
    )
    # Every other slot: a 15-minute call blocks 20 minutes with its buffer, so neighbours never clash.
    return [start.isoformat() for start in starts[::2][:count]]


def main(argv):
    django.setup()
    command, args = argv[0], argv[1:]
    if command == "info":
        print(json.dumps(info()))
    elif command == "queries":
        print(json.dumps(queries(args)))
    elif command == "titles":
        print(json.dumps(titles(args)))
    elif command == "publisher":
        publisher()
    elif command == "free-starts":
        print(json.dumps(free_starts(int(args[0]))))
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main(sys.argv[1:])
