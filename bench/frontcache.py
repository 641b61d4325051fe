"""
The front cache: Varnish (bench/varnish.py, deploy/varnish/default.vcl) in front of gunicorn.

- Requests per second of the article through Varnish, against the static-file limit: a second
  Varnish with the same VCL, the same parameters and the same client (wrk, same threads and
  connections, same request headers) in front of a static server that answers the article's URL with
  the very bytes and headers gunicorn sent, marked cacheable (`public, s-maxage=300`). In both cases
  Varnish answers from its cache when it can, so the static side is the most that Varnish can give
  for this object on this machine; the ratio shows how far the real page falls short of it (a page
  that Varnish cannot store, or that it must fetch again, falls to the app server's speed). The
  static backend's own speed does not matter: it is asked once per s-maxage (and by the health check).
  The two runs alternate (A B A B) so that drift on a shared machine hits both alike.
- Publish to fresh: the article is cached in Varnish; another process publishes a new title; the
  article is fetched through Varnish every 10 ms until the title shows. Time from the start of
  `publish()` to the first response with the new title (one monotonic clock, same machine).
- Sizes of the article's HTML, plain and with `Accept-Encoding: gzip`, from gunicorn and through Varnish.
"""

import http.client
import http.server
import statistics
import threading
import time

from bench.pages import edited_title
from bench.servers import get, wrk

GZIP = {"Accept-Encoding": "gzip"}
STATIC_CACHE_CONTROL = "public, max-age=60, s-maxage=300"
# Not replayed by the static server: it sets its own Date, Server and length; a cookie would stop Varnish storing.
PER_RESPONSE_HEADERS = {
    "date",
    "server",
    "connection",
    "content-length",
    "transfer-encoding",
    "set-cookie",
    "cache-control",
}


class StaticServer:
    """
    Serves one captured response (body, and headers as (name, value) pairs) for every path but /healthz
    (for Varnish's probe); threads, HTTP/1.1.
    """

    def __init__(self, body, headers):
        self.body = body
        self.headers = headers
        self.requests = 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                if self.path == "/healthz":
                    body, headers = b"ok", [("Content-Type", "text/plain")]
                else:
                    owner.requests += 1
                    body, headers = owner.body, owner.headers
                self.send_response(200)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info):
        self.server.shutdown()
        self.server.server_close()


def capture_for_static(gunicorn_port, path):
    """What the app server sends Varnish for `path` (Varnish asks backends with Accept-Encoding: gzip)."""
    connection = http.client.HTTPConnection("127.0.0.1", gunicorn_port, timeout=30)
    try:
        connection.request("GET", path, headers=GZIP)
        response = connection.getresponse()
        body = response.read()
        headers = response.getheaders()  # every header, repeated ones too
    finally:
        connection.close()
    kept = [(name, value) for name, value in headers if name.lower() not in PER_RESPONSE_HEADERS]
    return response.status, body, [*kept, ("Cache-Control", STATIC_CACHE_CONTROL)]


def sizes(gunicorn_port, varnish_port, path):
    rows = {}
    for where, port in (("gunicorn", gunicorn_port), ("varnish", varnish_port)):
        for label, headers in (("plain", {}), ("gzip", GZIP)):
            get(port, path, headers=headers)  # through Varnish: the second request is the one from the cache
            status, response_headers, body = get(port, path, headers=headers)
            rows[f"{where}_{label}"] = {
                "status": status,
                "bytes": len(body),
                "content_encoding": response_headers.get("content-encoding", ""),
                "x_cache": response_headers.get("x-cache", ""),
                "cache_control": response_headers.get("cache-control", ""),
            }
    return rows


def x_cache(port, path, headers=None):
    get(port, path, headers=headers)
    return get(port, path, headers=headers)[1].get("x-cache", "")


def throughput(app_varnish, static_varnish, path, *, threads, connections, duration, rounds):
    """Article through Varnish in front of gunicorn, then the static limit; alternated `rounds` times."""
    runs = {"article": [], "static": []}
    cache_states = {
        "article": x_cache(app_varnish.port, path, GZIP),
        "static": x_cache(static_varnish.port, path, GZIP),
    }
    for _ in range(rounds):
        for name, varnish in (("article", app_varnish), ("static", static_varnish)):
            runs[name].append(
                wrk(
                    varnish.url + path,
                    threads=threads,
                    connections=connections,
                    duration=duration,
                    headers=GZIP,
                )
            )
    summary = {}
    for name, results in runs.items():
        summary[name] = {
            "x_cache_before": cache_states[name],
            "rps": statistics.fmean(result["rps"] for result in results),
            "rps_rounds": [round(result["rps"], 1) for result in results],
            "p50_ms": statistics.fmean(result["p50_ms"] for result in results),
            "p99_ms": statistics.fmean(result["p99_ms"] for result in results),
            "non_2xx": sum(result["non_2xx"] for result in results),
            "socket_errors": sum(result["socket_errors"] for result in results),
            "bytes_per_request": results[0]["bytes_per_request"],
        }
    summary["ratio"] = summary["article"]["rps"] / summary["static"]["rps"] if summary["static"]["rps"] else None
    return summary


def _poll_until(port, path, token, *, interval, timeout):
    """GET every `interval` s until `token` is in the body; the monotonic time it was seen, or None."""
    deadline = time.monotonic() + timeout
    polls = 0
    while time.monotonic() < deadline:
        began = time.monotonic()
        _, headers, body = get(port, path)
        polls += 1
        if token.encode() in body:
            return time.monotonic(), polls, headers.get("x-cache", "")
        time.sleep(max(0.0, interval - (time.monotonic() - began)))
    return None, polls, ""


def publish_to_fresh(varnish, origin_port, publisher, path, original_title, *, trials, interval, timeout, also=()):
    """
    Median time from the start of `publish()` (in the publisher process) to the first response
    through Varnish showing the new title. A trial that never shows it within `timeout` counts as
    None (stale): the report then says "> timeout".
    """
    rows = []
    for _ in range(trials):
        get(varnish.port, path)
        primed = get(varnish.port, path)[1].get("x-cache", "")
        title, token = edited_title(original_title)
        publisher.send(path, title)
        seen, polls, state = _poll_until(varnish.port, path, token, interval=interval, timeout=timeout)
        published = publisher.answer()
        also_fresh = {}
        for other in also:
            also_fresh[other] = token.encode() in get(varnish.port, other)[2]
        stale = {}
        if seen is None:  # where the old title comes from: Varnish's copy, or the app server itself
            _, headers, _ = get(varnish.port, path)
            stale = {
                "varnish_x_cache": headers.get("x-cache", ""),
                "varnish_age": headers.get("age", ""),
                "app_server_fresh": token.encode() in get(origin_port, path)[2],
            }
        rows.append(
            {
                "primed_x_cache": primed,
                "publish_ms": (published["finished"] - published["started"]) * 1000,
                "fresh_after_ms": (seen - published["started"]) * 1000 if seen else None,
                "polls": polls,
                "fresh_x_cache": state,
                "also_fresh": also_fresh,
                "when_stale": stale,
            }
        )
    publisher.publish(path, original_title)
    times = [row["fresh_after_ms"] for row in rows]
    fresh = [value for value in times if value is not None]
    return {
        "path": path,
        "trials": trials,
        "interval_ms": interval * 1000,
        "timeout_s": timeout,
        "median_ms": statistics.median(times) if len(fresh) == len(times) else None,
        "max_ms": max(fresh) if len(fresh) == len(times) else None,
        "stale_trials": len(times) - len(fresh),
        "publish_ms_median": statistics.median(row["publish_ms"] for row in rows),
        "rows": rows,
    }
