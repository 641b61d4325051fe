# Varnish 7.1 (Debian's `varnish` package) in front of the practice's app servers.
#
# What it does, in the order a request meets it:
#   * PURGE from an address in the `purgers` ACL drops every cached variant of the path (see below);
#     from anywhere else it is refused.
#   * Anything but GET and HEAD, the admin, the booking steps (/book/...) and the practice admins'
#     calendar feeds (/calendar/...) always go to an app server and are never stored.
#   * A request that carries Django's session, CSRF or messages cookie (an editor who is signed in, a
#     visitor half way through a form) always goes to an app server and is never stored: that person
#     sees the live page, and what they are shown never reaches another visitor.
#   * Every other request loses its cookies (Django needs none to render a public page, and a tracking
#     cookie would otherwise split or bypass the cache) and may be answered from the cache.
#   * A response is stored only when the site says so: Cache-Control `public` or `s-maxage`
#     (practice/caching.py sets `public, max-age=60, s-maxage=300` on public pages for anonymous
#     visitors). Never when it says `private`, `no-cache` or `no-store`, never with a Set-Cookie,
#     never without Cache-Control at all. How long: `s-maxage`, which Varnish reads by itself.
#   * Text (HTML, CSS, JavaScript, XML, the RSS feed, JSON, SVG) is stored and sent gzipped to
#     browsers that accept it, whether or not the app server compressed it.
#
# Purging and query strings. Wagtail's frontend cache (practice/frontend_cache.py) sends
# `PURGE /articles/ HTTP/1.1` for every URL that shows a change. A page is also cached under its query
# variants (`/articles/?page=2`, `/articles/?topic=gut-health`, a link with `?utm_source=...`), which
# the app cannot list. So every stored object carries its bare path (no query string) in the
# `x-url-path` header, and a PURGE adds a ban on that header: one PURGE of `/articles/` drops
# `/articles/` and every `/articles/?...` variant, under any host name the site answers to (one
# practice, one site). The ban tests only the object (`obj.*`), so Varnish's ban lurker can clear
# the objects in the background; a banned object is never served again, even before then.
# A PURGE of a path ending in "*" drops every path that starts with the rest: the app sends
# `PURGE /articles/*` when an article changes (the index, its feed and pages, and every article, any
# of which may list it as related) and `PURGE /*` when something on every page changes, one request
# each however many pages there are.
#
# Deploying: see deploy/README.md. Only the block between the DEPLOYMENT markers differs from one
# layout to another (app server addresses, the health check's host name, the addresses allowed to
# purge); `python -m bench.varnish render` writes this same file with other values there.

vcl 4.1;

import directors;
import std;

# BEGIN DEPLOYMENT
# The app servers' health check: GET /healthz every 2 s, healthy while 3 of the last 5 answered 200
# within 2 s. The Host header must be one of DJANGO_ALLOWED_HOSTS, or Django answers 400: write the
# site's own host name here. A backend starts healthy, so that Varnish serves at once after a restart.
probe healthz {
    .request = "GET /healthz HTTP/1.1"
        "Host: localhost"
        "Connection: close";
    .interval = 2s;
    .timeout = 2s;
    .window = 5;
    .threshold = 3;
    .initial = 3;
}

# One app server (gunicorn) on this machine. For two, add `backend app2 { ... }` and
# `app.add_backend(app2);` below.
backend app1 {
    .host = "127.0.0.1";
    .port = "8000";
    .probe = healthz;
    .connect_timeout = 2s;
    .first_byte_timeout = 30s;
}

# Who may PURGE: the app servers, which purge after every publish. Loopback here; add the other app
# servers' addresses in a two-server layout.
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_init {
    # Round robin over the healthy backends; a sick one gets no requests until its probe recovers.
    new app = directors.round_robin();
    app.add_backend(app1);
}
# END DEPLOYMENT

sub vcl_recv {
    set req.backend_hint = app.backend();

    if (req.method == "PURGE") {
        if (!client.ip ~ purgers) {
            return (synth(405, "PURGE is not allowed from this address"));
        }
        # A path ending in "*" (`PURGE /articles/*`): every path that starts with the rest, as a
        # regular expression on the stored path with its special characters escaped.
        if (req.url ~ "\*$") {
            if (std.ban("obj.http.x-url-path ~ ^" + regsuball(regsub(req.url, "\*$", ""), "([][.+?^$(){}|\\*])", "\\\1"))) {
                return (synth(200, "Purged"));
            }
            return (synth(400, std.ban_error()));
        }
        # The bare path, whatever query string the PURGE came with: see "Purging and query strings".
        if (std.ban("obj.http.x-url-path == " + regsub(req.url, "\?.*$", ""))) {
            return (synth(200, "Purged"));
        }
        return (synth(400, std.ban_error()));
    }

    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    # The admin, the booking steps and the calendar feeds: personal, or about to be.
    if (req.url ~ "^/(admin|book|calendar)(/|$)") {
        return (pass);
    }
    if (req.http.Authorization) {
        return (pass);
    }
    # Django's own cookies: sessionid (signed in), csrftoken (has seen a form), messages (a message
    # waits to be shown). The owner gets the live page; the response is never stored.
    if (req.http.Cookie ~ "(^|;\s*)(sessionid|csrftoken|messages)=") {
        return (pass);
    }
    unset req.http.Cookie;
    return (hash);
}

sub vcl_hash {
    # http and https are separate entries (Django redirects one to the other); the built-in
    # vcl_hash then adds the URL and the host.
    hash_data(req.http.X-Forwarded-Proto);
}

sub vcl_backend_response {
    # For the bans of PURGE; removed again in vcl_deliver.
    set beresp.http.x-url-path = regsub(bereq.url, "\?.*$", "");

    if (beresp.http.Content-Type ~ "^(text/|application/(javascript|json|xml|rss\+xml|atom\+xml)|image/svg\+xml)") {
        set beresp.do_gzip = true;
    }

    if (bereq.uncacheable) {
        # Passed in vcl_recv: delivered to this one person, never stored.
        return (deliver);
    }
    if (beresp.http.Set-Cookie
        || beresp.http.Cache-Control ~ "(?i)(private|no-cache|no-store)"
        || beresp.http.Cache-Control !~ "(?i)(public|s-maxage)"
        || beresp.http.Vary == "*") {
        # Not stored. For two minutes requests for this URL go straight to an app server instead of
        # queueing behind each other ("hit-for-miss"); a later cacheable answer is stored at once.
        set beresp.ttl = 120s;
        set beresp.uncacheable = true;
        return (deliver);
    }
    # The TTL comes from s-maxage. Past it, an object may still be served for 10 s while a fresh copy
    # is fetched; a purged object never is.
    set beresp.grace = 10s;
    return (deliver);
}

sub vcl_deliver {
    unset resp.http.x-url-path;
    # Varnish is the only shared cache that hears about purges: a cache further out keeps a page for
    # the browsers' max-age (60 s), never for Varnish's s-maxage.
    if (resp.http.Cache-Control) {
        set resp.http.Cache-Control = regsub(resp.http.Cache-Control, "(,\s*)?s-maxage=\d+", "");
    }
    if (obj.uncacheable) {
        set resp.http.X-Cache = "PASS";
    } elsif (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}
