"""The Markdown report of a `make bench` run, from the results dict that is also written as JSON."""

ARTICLE = "/articles/alopecia-areata-and-leaky-gut/"

DEFINITIONS = """\
- **Queries** are counted in a separate process with the production settings and the run's database and
  cache (Django's test client, `CaptureQueriesContext`), each request from a new client: an anonymous
  visitor without cookies. Before measuring, the page is requested twice, as a running server would have.
- **Cold after publish**: the first request after a new revision of the page in "published" was saved and
  published with Wagtail's API (`page.save_revision().publish()`), i.e. after its cached response, if
  any, was invalidated. For the feed and the search results that page is the article they list.
- **Cold, caches empty**: the first request after `cache.clear()` on every cache in `CACHES`. What a
  process keeps in its own memory (compiled templates, content types) is kept, as in a running server
  whose shared cache was flushed.
- **Warm**: the next request after each cold one (both are given when they differ).
- **Server CPU ms per request** (load): (utime+stime+cutime+cstime of the gunicorn master and all its
  workers from /proc/<pid>/stat after the wrk run, minus before) / requests completed by wrk, in ms;
  only the measured run counts, not its warm-up. **CPU use** is that CPU time / the run's seconds, in cores.
- **First request after a publish** (CPU): gunicorn with one worker; another process publishes the article
  with a new title; the worker's CPU time (from /proc/<pid>/task/*/schedstat, in ns: one request is below
  the 10 ms resolution of /proc/<pid>/stat) for the next request, which must show the new title, and for
  the request after it (warm); median over the publishes.
- **Latency** p50/p99: wrk's, from the moment a request is sent (wrk does not correct for coordinated
  omission); booking latencies are measured by the Python client per request.
- **Publish to fresh**: from the start of `publish()` in the publishing process to the first response
  through Varnish that shows the new title; the article is polled every 10 ms.
"""


def _ms(value, digits=1):
    return "n/a" if value is None else f"{value:.{digits}f}"


def _met(value, limit, *, at_least=False):
    if value is None:
        return "n/a"
    ok = value >= limit if at_least else value <= limit
    return "yes" if ok else "**no**"


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _site_config(site):
    database = site["database"]
    cache = site["cache"]
    content = site["content"]
    return [
        ("Settings", f"`{site['settings']}` (DEBUG off; plain HTTP, DJANGO_SECURE_SSL_REDIRECT=false)"),
        (
            "Database",
            f"{database['vendor']} {database['version']}, `{database['name']}` (throwaway), "
            f"CONN_MAX_AGE {database['conn_max_age']}",
        ),
        ("Cache", f"`{cache['backend']}` {cache['location']}".rstrip()),
        (
            "Demo content",
            f"{content['live_pages']} live pages, {content['articles']} articles, {content['topics']} topics, "
            f"{content['tags']} tags, {content['images']} images",
        ),
        ("Python / Django / Wagtail", " / ".join(site["versions"].values())),
    ]


def configuration(results):
    config = results["config"]
    machine = config["machine"]
    rows = [
        (
            "Machine",
            f"{machine['cores']} cores ({machine['cpu']}), {machine['memory_gb']} GB, Linux {machine['kernel']}; "
            f"load average at start {', '.join(str(value) for value in machine['load_average_at_start'])}",
        ),
        ("Tools", "; ".join(f"{name}: {value}" for name, value in config["tools"].items())),
    ]
    if "site" in config:
        rows += _site_config(config["site"])
    rows.append(("Parts run", f"{', '.join(results['parts'])}, in {results.get('duration_s', '?')} s"))
    return _table(["", ""], rows)


def queries_section(section):
    counts = section["queries"]
    targets = {ARTICLE: ("≤ 15", "≤ 8"), "/articles/": ("", "≤ 8"), "/": ("", "≤ 5")}
    rows = []
    for path, row in counts.items():
        warm = row["warm_after_publish"]
        if row["warm_after_empty"] != warm:
            warm = f"{warm} / {row['warm_after_empty']}"
        cold_target, warm_target = targets.get(path, ("", ""))
        rows.append(
            (
                f"`{path}`",
                row["status"],
                f"`{row['published']}`",
                row["cold_after_publish"],
                row["cold_caches_empty"],
                warm,
                cold_target,
                warm_target,
            )
        )
    header = ["page", "status", "published", "cold after publish", "cold, caches empty", "warm", "target cold"]
    return _table([*header, "target warm"], rows)


def load_section(section):
    rows = []
    for row in section["load"]:
        target = "≤ 7" if row["path"] == ARTICLE else ""
        rows.append(
            (
                f"`{row['path']}`",
                _ms(row["rps"]),
                _ms(row["p50_ms"]),
                _ms(row["p99_ms"]),
                _ms(row["server_cpu_ms_per_request"]),
                target,
                _ms(row["server_cpu_utilisation"], 2),
                row["requests"],
                f"{row['non_2xx']} / {row['socket_errors']}",
            )
        )
    header = ["page", "req/s", "p50 ms", "p99 ms", "server CPU ms/req", "target", "CPU use (cores)", "requests"]
    return _table([*header, "non-2xx / socket errors"], rows)


def after_publish_section(after):
    return (
        f"First request for `{after['path']}` after a publish (1 sync worker, {after['repeats']} publishes, each "
        f"with a new title): **{_ms(after['cold_cpu_ms_median'])} ms** of server CPU (median; min "
        f"{_ms(after['cold_cpu_ms_min'])}, max {_ms(after['cold_cpu_ms_max'])}; target ≤ 20 ms: "
        f"{_met(after['cold_cpu_ms_median'], 20)}); the request after it (warm): "
        f"{_ms(after['warm_cpu_ms_median'])} ms. Responses without the new title (stale): "
        f"{after['stale_responses']} of {after['repeats']}; statuses {after['statuses']}."
    )


def frontcache_section(section):
    throughput = section["throughput"]
    article, static = throughput["article"], throughput["static"]
    rows = [
        (
            "article through Varnish (gunicorn behind)",
            _ms(article["rps"]),
            ", ".join(str(value) for value in article["rps_rounds"]),
            _ms(article["p50_ms"], 2),
            _ms(article["p99_ms"], 2),
            article["x_cache_before"],
            f"{article['bytes_per_request']:.0f}",
            f"{article['non_2xx']} / {article['socket_errors']}",
        ),
        (
            "static-file limit (same bytes, static backend)",
            _ms(static["rps"]),
            ", ".join(str(value) for value in static["rps_rounds"]),
            _ms(static["p50_ms"], 2),
            _ms(static["p99_ms"], 2),
            static["x_cache_before"],
            f"{static['bytes_per_request']:.0f}",
            f"{static['non_2xx']} / {static['socket_errors']}",
        ),
    ]
    header = ["", "req/s (mean)", "rounds", "p50 ms", "p99 ms", "X-Cache before", "bytes/response (wrk)"]
    ratio = throughput["ratio"]
    lines = [
        _table([*header, "non-2xx / socket errors"], rows),
        "",
        f"Ratio article / static-file limit: **{_ms(ratio * 100 if ratio else None, 0)} %** (target ≥ 80 %: "
        f"{_met(ratio, 0.8, at_least=True)}). The static backend was asked {static['backend_requests']} time(s)."
        + (
            " **The static baseline is not valid in this run** (it was not a cache hit, or answered errors)."
            if static["x_cache_before"] != "HIT" or static["non_2xx"] or static["socket_errors"]
            else ""
        ),
        "",
        "Why this is the static-file limit: both sides are the same varnishd with the same VCL and parameters, "
        "asked for the same URL by the same wrk (same threads, connections and `Accept-Encoding: gzip`), and "
        "the static backend answers with the very body and headers that gunicorn sent Varnish for the "
        "article (all but Date, Server, Content-Length and Cache-Control, which it sets itself: "
        "`public, s-maxage=300`). So the static side measures Varnish delivering this object from its "
        "cache, the most any page of this size can get through this proxy on this machine; the backend's "
        "own speed plays no part (it is asked once). Whatever the "
        "article loses against it comes from the page's caching: a response Varnish may not store, a "
        "Vary or cookie that splits or bypasses the cache, or a TTL that sends requests to gunicorn.",
    ]
    return "\n".join(lines)


def fresh_section(fresh):
    also = {}
    for row in fresh["rows"]:
        for path, seen in row["also_fresh"].items():
            also[path] = also.get(path, 0) + bool(seen)
    median = fresh["median_ms"]
    if median is None:
        headline = (
            f"**not fresh within {fresh['timeout_s']:.0f} s** in {fresh['stale_trials']} of {fresh['trials']} trials"
        )
    else:
        headline = f"**{median:.0f} ms** (median of {fresh['trials']}; slowest {fresh['max_ms']:.0f} ms)"
    times = ", ".join(_ms(row["fresh_after_ms"], 0) for row in fresh["rows"])
    stale = [row["when_stale"] for row in fresh["rows"] if row.get("when_stale")]
    diagnosis = "".join(
        f" A stale trial: Varnish answered {row['varnish_x_cache']} (Age {row['varnish_age'] or '?'} s) and the app "
        f"server itself {'showed' if row['app_server_fresh'] else 'did NOT show'} the new title."
        for row in stale
    )
    return (
        f"Publish to fresh through Varnish, `{fresh['path']}`: {headline}; target ≤ 1000 ms: "
        f"{_met(median, 1000)}. Trials (ms): {times}. `publish()` itself took {fresh['publish_ms_median']:.0f} ms "
        f"(median). Cached before each publish: {', '.join(row['primed_x_cache'] for row in fresh['rows'])}. "
        f"Showing the new title at that moment through Varnish too: "
        + ", ".join(f"`{path}` {count}/{fresh['trials']}" for path, count in also.items())
        + "."
        + diagnosis
    )


def sizes_section(sizes):
    rows = []
    for key, row in sizes.items():
        where, label = key.split("_")
        rows.append(
            (
                where,
                "Accept-Encoding: gzip" if label == "gzip" else "no Accept-Encoding",
                row["status"],
                row["bytes"],
                row["content_encoding"] or "none",
                row["x_cache"] or "",
                f"`{row['cache_control']}`",
            )
        )
    return _table(["from", "request", "status", "bytes", "Content-Encoding", "X-Cache", "Cache-Control"], rows)


def bookings_section(section, cores):
    engine = section["slot_engine"]
    lines = [
        f"Slot engine (pure, in process): 90-day window, {engine['bookings']} existing bookings, "
        f"{engine['slots']} free slots; median {engine['median_ms']:.1f} ms, slowest {engine['max_ms']:.1f} ms "
        f"over {engine['runs']} runs.",
        "",
    ]
    booking = section.get("booking_requests")
    if not booking:
        lines.append(f"Booking requests on PostgreSQL: skipped ({section.get('skipped', 'not run')}).")
        return "\n".join(lines)
    config = section["config"]
    lines += [
        _table(
            ["", ""],
            [
                *_site_config(config),
                ("Database source", config["database_source"]),
                ("gunicorn", f"{config['gunicorn_workers']} sync workers"),
                ("Tool", config["tool"]),
            ],
        ),
        "",
        _table(
            [
                "requests",
                "visitors",
                "req/s",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "max ms",
                "target p99",
                "server CPU ms/req",
                "outcomes",
            ],
            [
                (
                    booking["requests"],
                    booking["visitors"],
                    _ms(booking["rps"]),
                    _ms(booking["p50_ms"], 0),
                    _ms(booking["p95_ms"], 0),
                    _ms(booking["p99_ms"], 0),
                    _ms(booking["max_ms"], 0),
                    f"≤ 150 ({_met(booking['p99_ms'], 150)})",
                    _ms(booking.get("server_cpu_ms_per_request")),
                    ", ".join(f"{name}: {count}" for name, count in sorted(booking["outcomes"].items())),
                )
            ],
        ),
    ]
    lines += [
        "",
        f"Each of the {booking['visitors']} visitors sends its next booking as soon as the last is answered (a "
        "closed loop without pauses), so the server is saturated and the latency is mostly waiting in the "
        f"queue: p50 ≈ visitors / req/s = {booking['visitors'] / booking['rps'] * 1000:.0f} ms here. A p99 of "
        f"150 ms with {booking['visitors']} visitors at once needs about "
        f"{booking['visitors'] / 0.15:.0f} booking requests/s, i.e. about "
        f"{cores * 150 / booking['visitors']:.0f} ms of server CPU per request on this machine's "
        "cores or less."
        if booking["rps"]
        else "",
    ]
    if booking.get("first_error"):
        lines += ["", f"First refused booking said: {booking['first_error']}"]
    burst = section.get("booking_bursts")
    if burst and burst["requests"]:
        lines += [
            "",
            f"Bursts: {burst['bursts']} times, {burst['visitors']} visitors send their forms at the same moment, "
            f"once each, to an idle server ({burst['requests']} requests): p50 {_ms(burst['p50_ms'], 0)} ms, "
            f"p99 {_ms(burst['p99_ms'], 0)} ms, slowest {_ms(burst['max_ms'], 0)} ms; "
            + ", ".join(f"{name}: {count}" for name, count in sorted(burst["outcomes"].items()))
            + ". The target is read against the closed loop above, the stricter of the two.",
        ]
    return "\n".join(lines)


def targets_section(results):
    rows = []
    pages = results.get("pages")
    if pages:
        counts = pages["queries"]
        article = counts.get(ARTICLE)
        if article:
            warm = max(article["warm_after_publish"], article["warm_after_empty"])
            cold = max(article["cold_after_publish"], article["cold_caches_empty"])
            rows.append(("Article queries warm ≤ 8", warm, _met(warm, 8)))
            rows.append(("Article queries cold ≤ 15", cold, _met(cold, 15)))
        for path, limit in (("/articles/", 8), ("/", 5)):
            if path in counts:
                warm = max(counts[path]["warm_after_publish"], counts[path]["warm_after_empty"])
                rows.append((f"`{path}` queries warm ≤ {limit}", warm, _met(warm, limit)))
        for row in pages["load"]:
            if row["path"] == ARTICLE:
                cpu = row["server_cpu_ms_per_request"]
                rows.append(("Article server CPU, steady state ≤ 7 ms", _ms(cpu), _met(cpu, 7)))
        cpu = pages["after_publish"]["cold_cpu_ms_median"]
        rows.append(("Article server CPU, first request after a publish ≤ 20 ms", _ms(cpu), _met(cpu, 20)))
    front = results.get("frontcache")
    if front:
        ratio = front["throughput"]["ratio"]
        rows.append(
            (
                "Through Varnish ≥ 80 % of the static-file limit",
                f"{ratio * 100:.0f} %" if ratio else "n/a",
                _met(ratio, 0.8, at_least=True),
            )
        )
        fresh = front["publish_to_fresh"]
        shown = _ms(fresh["median_ms"], 0) if fresh["median_ms"] is not None else f"> {fresh['timeout_s']:.0f} s"
        rows.append(("Publish to fresh through Varnish ≤ 1000 ms", shown, _met(fresh["median_ms"], 1000)))
    booking = (results.get("bookings") or {}).get("booking_requests")
    if booking:
        rows.append(
            (
                "Booking request p99 ≤ 150 ms (20 visitors, PostgreSQL)",
                _ms(booking["p99_ms"], 0),
                _met(booking["p99_ms"], 150),
            )
        )
    return _table(["target (issue 10)", "measured", "met"], rows)


def markdown(results):
    parts = [f"# make bench, {results['started']}", "", "## Configuration", "", configuration(results)]
    parts += ["", "## Targets", "", targets_section(results)]
    pages = results.get("pages")
    if pages:
        config = pages["config"]
        parts += [
            "",
            "## Definitions",
            "",
            DEFINITIONS,
            "## Pages: database queries",
            "",
            queries_section(pages),
            "",
            "## Pages through gunicorn, no front cache",
            "",
            f"gunicorn {config['gunicorn_workers']} sync workers; {config['tool']}. wrk keeps its connections "
            "alive, but gunicorn's sync workers close the connection after each response, so each request opens "
            "one (as a reverse proxy's requests to gunicorn would, without keep-alive to the backend).",
            "",
            load_section(pages),
            "",
            after_publish_section(pages["after_publish"]),
        ]
    front = results.get("frontcache")
    if front:
        config = front["config"]
        parts += [
            "",
            "## Front cache (Varnish)",
            "",
            f"{config['front_cache']}; gunicorn {config['gunicorn_workers']} sync workers behind it; purges: "
            f"{config['purge']}; {config['tool']}.",
            "",
            frontcache_section(front),
            "",
            fresh_section(front["publish_to_fresh"]),
            "",
            f"### Size of the article's HTML (`{ARTICLE}`)",
            "",
            sizes_section(front["sizes"]),
        ]
    if results.get("bookings"):
        parts += ["", "## Bookings", "", bookings_section(results["bookings"], results["config"]["machine"]["cores"])]
    return "\n".join(parts) + "\n"
