"""
Caching of public pages, in two layers that never hold anything personal.

1. **Headers for shared caches.** A page view marks its response with `mark_public`;
   `PublicCacheMiddleware` decides once every other middleware has had its say. Anonymous visitors
   get a response that a shared cache (Varnish, a CDN) may keep briefly; anyone logged in, any response
   that sets a cookie, uses a CSRF token or may show a message is marked private instead.

2. **Anonymous responses kept inside the application** (`ResponseCacheMiddleware`), in the shared
   cache (Redis in production, so every app server sees the same entries and the same invalidations;
   the local memory cache in development). Only what layer 1 would let a shared cache keep is stored.

Invalidation is by dependency, not by timer. While a response renders, every content object loaded from
the database (a page, an image or rendition, a snippet, a setting, a site) is noted as a *tag* by a
`post_init` signal, and views that list pages add the tag "pages" (which pages exist) or "menu" (which
pages the menu shows); a view listing other objects adds `list_tag(Model)` (which exist). The stored
entry keeps the token that each of its tags had. Saving or deleting any of those objects, or publishing,
unpublishing, moving or deleting a page, gives the affected tags new tokens, so entries that showed them
no longer match and are rendered afresh; other entries stay. An entry is only stored when no tag changed
while it was rendering (the "epoch" token changes with every invalidation), so a publish during a render
can never leave the old text behind. Tokens are random strings, not counters: a token evicted from the
cache reads as missing, which never matches a stored entry. Invalidation runs at once and again after
the transaction commits, because a render that starts between the two would otherwise read the old rows
and store them as new.

Each process also holds copies of what it read or stored lately (`_local`), used only when every tag
still has the token the copy was stored with, exactly as the shared entry would be: the copies save the
round trips and the transfers, and decide nothing. A request then asks the shared cache only for tokens.

Django's own cache middleware does not fit: it expires entries by time only and stores responses by
URL without knowing what they show, so a published edit would be served stale until the timeout.
"""

import contextvars
import hashlib
import logging
import pickle
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.dispatch import Signal
from django.http import HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers

BROWSER_MAX_AGE = 60
SHARED_MAX_AGE = 300

logger = logging.getLogger(__name__)

_PREFIX = "rc:"
_EPOCH = f"{_PREFIX}epoch"
# Entries are stored as (pickled value, tokens); the "2" keeps entries of the earlier layout unread.
_FRAGMENTS = f"{_PREFIX}f2:"
_RESPONSES = f"{_PREFIX}r2:"
_collected = contextvars.ContextVar("cache_dependencies", default=None)
# Inside `one_request()`: {"tokens": tag -> token, "fragments": key -> (value, tokens)} read in this request.
_request_memo = contextvars.ContextVar("cache_request_memo", default=None)


class _LocalCopies:
    """
    This process's copies of entries of the shared cache: (pickled value, tokens), most recently used
    last, about `settings.RESPONSE_CACHE_LOCAL_BYTES` in all (values, keys and tokens), each until its
    shared entry's expiry. Values stay pickled, so every reader gets its own copy, as from the shared cache.
    A kept library does not fit: the copies are only valid together with the shared tokens, which
    Django's per-process memory cache knows nothing of.
    """

    def __init__(self):
        self._entries = OrderedDict()  # key -> (blob, tokens, expires: a time.time(), size in bytes)
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[2] <= time.time():
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return entry[0], entry[1]

    def put(self, key, blob, tokens, expires):
        limit = settings.RESPONSE_CACHE_LOCAL_BYTES
        # Never past this process's own clock's timeout: the storing server's clock may be ahead.
        expires = min(expires, time.time() + settings.RESPONSE_CACHE_SECONDS)
        size = _size_of(key, blob, tokens)
        with self._lock:
            self._drop(key)
            if size > limit // 8:
                return  # one large entry must not push out many small ones
            self._entries[key] = (blob, tokens, expires, size)
            self._size += size
            while self._size > limit:
                self._drop(next(iter(self._entries)))

    def discard(self, key):
        with self._lock:
            self._drop(key)

    def clear(self):
        with self._lock:
            self._entries.clear()
            self._size = 0

    def _drop(self, key):
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._size -= entry[3]


def _size_of(key, blob, tokens) -> int:
    """About what an entry takes in memory: small parts carry more in their key and tokens than in their value."""
    return len(key) + len(blob) + sum(len(tag) + len(token) + 120 for tag, token in tokens.items()) + 250


_local = _LocalCopies()


def _pickled(value) -> bytes:
    return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)


def _current(tokens, now) -> bool:
    return bool(tokens) and all(now.get(tag) == token for tag, token in tokens.items())


def mark_public(response, *, store=True):
    """
    Lets shared caches keep `response` for anonymous visitors. `store=False` keeps it out of the
    application's own cache (for example search results, whose addresses are unbounded).
    """
    response.public_cacheable = True
    response.app_cacheable = store
    return response


def private_reason(request, response) -> str | None:
    """Why `response` must not be shared between visitors, or None when it may be."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return "signed in"
    if response.cookies:
        return "sets a cookie"
    if request.META.get("CSRF_COOKIE_USED"):
        return "holds a CSRF token"
    if settings.SESSION_COOKIE_NAME in request.COOKIES or "messages" in request.COOKIES:
        return "may show a message or session data"
    return None


class PublicCacheMiddleware:
    """Sits outside the session and CSRF middleware, so it sees every cookie they add."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not getattr(response, "public_cacheable", False) or response.status_code != 200:
            return response
        if private_reason(request, response):
            patch_cache_control(response, private=True, no_cache=True)
        else:
            patch_cache_control(response, public=True, max_age=BROWSER_MAX_AGE, s_maxage=SHARED_MAX_AGE)
        patch_vary_headers(response, ["Cookie"])
        return response


# Dependencies -------------------------------------------------------------------------------------


def depend(*tags: str) -> None:
    """Notes that what is being rendered (and cached) shows `tags`."""
    collected = _collected.get()
    if collected is not None:
        collected.update(tags)


@contextmanager
def collecting():
    """Collects the tags of everything loaded inside the block; they also count for any outer block."""
    outer = _collected.get()
    mine = set()
    token = _collected.set(mine)
    try:
        yield mine
    finally:
        _collected.reset(token)
        if outer is not None:
            outer.update(mine)


@contextmanager
def unnoted():
    """Nothing loaded inside the block counts for what is being kept or rendered (see `note` for loading it later)."""
    token = _collected.set(None)
    try:
        yield
    finally:
        _collected.reset(token)


def tag_for(instance) -> str | None:
    """The tag of a content object: pages by their id whatever their type, renditions as their image."""
    from wagtail.images.models import AbstractRendition
    from wagtail.models import Page

    if isinstance(instance, Page):
        return f"page:{instance.pk}"
    if isinstance(instance, AbstractRendition):
        return f"image:{instance.image_id}" if instance.image_id else None
    if instance.pk is None:
        return None
    meta = instance._meta
    label = "image" if _is_image(instance) else f"{meta.app_label}.{meta.model_name}"
    return f"{label}:{instance.pk}"


def _is_image(instance) -> bool:
    from wagtail.images.models import AbstractImage

    return isinstance(instance, AbstractImage)


def _token_key(tag: str) -> str:
    return f"{_PREFIX}t:{tag}"


def _new_token() -> str:
    return secrets.token_hex(8)


def current_tokens(tags, *, with_epoch=False) -> dict[str, str]:
    """
    The token of each tag, giving a first token to tags that have none yet. Two processes giving a
    first token at once only cost each other a stored entry (one token wins, the other's entry misses),
    and an invalidation meanwhile changes the epoch, so nothing rendered before it is stored.

    Inside `one_request()`, a tag's token is read once per request: what the request renders and keeps
    is then consistent with one view of the tokens, and anything invalidated meanwhile changes the
    epoch, which every store checks. `with_epoch` also reads the request's first epoch in the same
    round trip (see `_request_epoch`).
    """
    memo = _request_memo.get()
    seen = memo["tokens"] if memo is not None else None
    tokens = {tag: seen[tag] for tag in tags if tag in seen} if seen is not None else {}
    keys = {tag: _token_key(tag) for tag in tags if tag not in tokens}
    want_epoch = with_epoch and memo is not None and not memo.get("epoch")
    if keys or want_epoch:
        found = cache.get_many([*keys.values(), *([_EPOCH] if want_epoch else [])])
        if want_epoch:
            memo["epoch"] = found.get(_EPOCH) or _epoch()
        missing = {key: _new_token() for key in keys.values() if key not in found}
        if missing:
            cache.set_many(missing, timeout=None)
        read = {tag: found.get(key) or missing[key] for tag, key in keys.items()}
        if seen is not None:
            seen.update(read)
        tokens.update(read)
    return tokens


@contextmanager
def one_request():
    """
    Reads each tag's token and each kept part at most once inside the block (one request): see
    `current_tokens`. A part kept or invalidated inside the block is seen as it is then.
    """
    token = _request_memo.set({"tokens": {}, "fragments": {}})
    try:
        yield
    finally:
        _request_memo.reset(token)


def _epoch() -> str:
    epoch = cache.get(_EPOCH)
    if epoch is None:
        cache.add(_EPOCH, _new_token(), timeout=None)
        epoch = cache.get(_EPOCH)
    return epoch


def _request_epoch() -> str:
    """
    The epoch when the request began to read (before anything it renders or keeps was read): a part
    read after it and kept is stored only if the epoch is still the same, so nothing changed meanwhile.
    """
    memo = _request_memo.get()
    if memo is None:
        return _epoch()
    if not memo.get("epoch"):
        memo["epoch"] = _epoch()
    return memo["epoch"]


def _bump(tags) -> None:
    # The epoch first: a render that read a tag's new token has then necessarily seen a new epoch too.
    cache.set(_EPOCH, _new_token(), timeout=None)
    tokens = {tag: _new_token() for tag in tags}
    cache.set_many({_token_key(tag): token for tag, token in tokens.items()}, timeout=None)
    if (memo := _request_memo.get()) is not None:
        memo["tokens"].update(tokens)
        memo["fragments"].clear()  # read again, against the new tokens


def invalidate(*tags: str) -> None:
    """Gives `tags` new tokens now and again once the current transaction (if any) has committed."""
    tags = [tag for tag in tags if tag]
    if not tags:
        return
    _bump(tags)
    transaction.on_commit(lambda: _bump(tags), robust=True)


def cached(key: str, compute, *, timeout=None, keep_if=None):
    """
    `compute()`, kept in the cache under `key` until a tag it loaded changes (unless `keep_if(value)`
    is false). Its tags also count for the response being rendered, so a page built from a cached part
    is invalidated with that part.
    """
    found = kept([key])
    if key in found:
        return found[key]
    return keep(key, compute, timeout=timeout, keep_if=keep_if)


def kept(keys) -> dict:
    """
    The values kept (by `keep`) under those of `keys` whose tags have not changed since, with their
    tags counted for the response being rendered. A key already read in this request costs nothing; a
    copy held by this process costs at most the round trip for its tokens (none once they are read);
    the others are read from the shared cache together, in two round trips.
    """
    memo = _request_memo.get()
    fragments = memo["fragments"] if memo is not None else {}
    wanted = {_fragment_key(key): key for key in keys if key not in fragments}
    for stored_key, (blob, tokens) in _current_entries(list(wanted)).items():
        fragments[wanted[stored_key]] = (pickle.loads(blob), tokens)  # noqa: S301 (written by `keep`)
    found = {}
    for key in keys:
        if key in fragments:
            value, tokens = fragments[key]
            depend(*tokens)
            found[key] = value
    return found


@dataclass(frozen=True)
class Each:
    """
    Parts kept one per object (a card per article, a byline per author), for `kept_each`. `keys` gives
    each object's id its key; `load(ids)` reads the objects of the parts not kept in one go (a dict by
    id); `make(obj)` makes one part. `shows(obj)` names what else an object's part shows that is best
    read for all parts together, before any is made (their pictures, whose renditions are then read in
    one query): see `kept_each`'s `prepare`.
    """

    keys: dict
    load: Callable[[list], dict]
    make: Callable[[object], object]
    shows: Callable[[object], Iterable] = lambda obj: ()


def kept_each(*kinds: Each, prepare=None) -> list[dict]:
    """
    The parts of each of `kinds`: a dict by id for each (ids that `load` no longer finds are left out).
    The kept ones are read together; the objects of the others are loaded kind by kind, then
    `prepare(shown)` gets what all of them show (`Each.shows`) before any part is made.
    """
    found = kept([key for kind in kinds for key in kind.keys.values()])
    parts = [{pk: found[key] for pk, key in kind.keys.items() if key in found} for kind in kinds]
    loaded = []
    for kind, made in zip(kinds, parts, strict=True):
        missing = [pk for pk in kind.keys if pk not in made]
        loaded.append(kind.load(missing) if missing else {})
    if prepare is not None and any(loaded):
        prepare(
            [
                shown
                for kind, objects in zip(kinds, loaded, strict=True)
                for obj in objects.values()
                for shown in kind.shows(obj)
            ]
        )
    for kind, made, objects in zip(kinds, parts, loaded, strict=True):
        for pk, obj in objects.items():
            made[pk] = keep(kind.keys[pk], lambda kind=kind, obj=obj: kind.make(obj))
    return parts


def keep(key: str, compute, *, timeout=None, keep_if=None):
    """
    `compute()`, kept under `key` with the tags of what it loaded, unless one changed meanwhile (or
    `keep_if(value)` is false).
    """
    # The request's first epoch where there is one: what was read before this block (in bulk, or while
    # routing) must not be kept as new if something changed since.
    epoch = _request_epoch()
    with collecting() as tags:
        value = compute()
    if tags and (keep_if is None or keep_if(value)):
        tokens = current_tokens(tags | {STRUCTURE})  # so that invalidating "structure" drops every kept part
        if _epoch() == epoch:
            _store(_fragment_key(key), _pickled(value), tokens, timeout or settings.RESPONSE_CACHE_SECONDS)
            if (memo := _request_memo.get()) is not None:
                memo["fragments"][key] = (value, tokens)
    return value


def _current_entries(keys) -> dict:
    """
    The entries (pickled value, tokens) stored under those of `keys` whose tags still have their
    tokens: this process's copies first, which cost at most one round trip (their tokens, with the
    request's epoch); the others from the shared cache in two, and copied here. Copies no longer
    current are dropped.
    """
    found = {}
    copies = {key: copy for key in keys if (copy := _local.get(key))}
    if copies:
        now = current_tokens(set().union(*(tokens for _, tokens in copies.values())), with_epoch=True)
        for key, (blob, tokens) in copies.items():
            if _current(tokens, now):
                found[key] = (blob, tokens)
            else:
                _local.discard(key)
    remote = [key for key in keys if key not in found]
    entries = _get_many_with_epoch(remote) if remote else {}
    if entries:
        now = current_tokens(set().union(*(tokens for _, tokens, _ in entries.values())))
        for key, (blob, tokens, expires) in entries.items():
            if _current(tokens, now):
                found[key] = (blob, tokens)
                _local.put(key, blob, tokens, expires)
    return found


def _store(key, blob, tokens, timeout) -> None:
    if timeout <= 0:
        return  # the cache is off
    expires = time.time() + timeout
    cache.set(key, (blob, tokens, expires), timeout)
    _local.put(key, blob, tokens, expires)


def _get_many_with_epoch(keys) -> dict:
    """`cache.get_many(keys)`, reading the request's first epoch in the same round trip if it is not read yet."""
    memo = _request_memo.get()
    if memo is None or memo.get("epoch"):
        return cache.get_many(keys)
    found = cache.get_many([*keys, _EPOCH])
    memo["epoch"] = found.pop(_EPOCH, None) or _epoch()
    return found


# Functions of a site giving the key of a part shown on every page of it (settings, menu …): read
# together with the site, as soon as a request's host is known (practice.visibility.SiteMiddleware).
_site_wide_keys = []


def site_wide(key_for_site):
    """Declares a part kept under `key_for_site(site)` and shown on every page of the site; returns it."""
    _site_wide_keys.append(key_for_site)
    return key_for_site


def site_wide_keys(site) -> list[str]:
    return [key_for_site(site) for key_for_site in _site_wide_keys]


def read_site_wide(site) -> None:
    """Reads every declared site-wide part of `site` at once, for the rest of the request to use."""
    kept(site_wide_keys(site))


def peek(key: str):
    """
    This process's copy of the part kept under `key`, not checked against the tokens (None without a
    copy): only a guess, for example of which other parts to read with it. Use `kept` for the part itself.
    """
    copy = _local.get(_fragment_key(key))
    return pickle.loads(copy[0]) if copy is not None else None  # noqa: S301 (written by `keep`)


def _fragment_key(key: str) -> str:
    return f"{_FRAGMENTS}{key}"


def note(*instances) -> None:
    """Notes content objects loaded outside the block being collected (in bulk, for several parts)."""
    depend(*(tag for tag in map(tag_for, filter(None, instances)) if tag))


# Stored responses ---------------------------------------------------------------------------------

# Headers that belong to one response and are set again on every reply by the outer middleware.
_UNSTORED_HEADERS = {"set-cookie", "date", "cache-control", "vary", "content-length", "expires"}


class ResponseCacheMiddleware:
    """
    Serves anonymous GET and HEAD requests for public pages from the application's cache, and stores
    such responses. Placed inside `PublicCacheMiddleware` (which adds the cache headers to every reply,
    stored or not) and outside the session, CSRF, authentication and message middleware, whose work a
    stored page never needs.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with one_request():
            return self.respond(request)

    def respond(self, request):
        key = self.key_for(request)
        if key is None:
            return self.get_response(request)  # the parts it keeps read the epoch with their first read
        hit = self.lookup(key)
        if hit is not None:
            return hit
        epoch = _request_epoch()  # read with the lookup
        with collecting() as tags:
            response = self.get_response(request)
        if self.storable(request, response) and tags:
            tokens = current_tokens(tags | {STRUCTURE})
            if _epoch() == epoch:
                self.store(key, response, tokens)
        return response

    @staticmethod
    def key_for(request) -> str | None:
        if not settings.RESPONSE_CACHE_SECONDS or request.method not in ("GET", "HEAD"):
            return None
        if settings.SESSION_COOKIE_NAME in request.COOKIES or "messages" in request.COOKIES:
            return None  # perhaps signed in, or a message waiting to be shown
        if any(
            name not in settings.RESPONSE_CACHE_QUERY_KEYS or len(values) > 1 for name, values in request.GET.lists()
        ):
            return None  # unknown or repeated parameters would let anyone fill the cache with copies
        address = f"{request.get_host()}{request.path}?{urlencode(sorted(request.GET.items()))}"
        return f"{_RESPONSES}{hashlib.sha256(address.encode()).hexdigest()}"  # any length, any characters

    @classmethod
    def lookup(cls, key) -> HttpResponse | None:
        """
        The stored response if every tag it showed still has its token: this process's copy when it
        has one (one round trip, for the tokens and the request's epoch), else the shared entry (two).
        """
        entry = _current_entries([key]).get(key)
        return cls.response(entry[0]) if entry is not None else None

    @staticmethod
    def response(blob) -> HttpResponse:
        status, headers, content = pickle.loads(blob)  # noqa: S301 (written by `store`)
        response = HttpResponse(content, status=status)
        for name, value in headers:
            response[name] = value
        response.public_cacheable = True
        response.app_cacheable = True
        return response

    @staticmethod
    def storable(request, response) -> bool:
        return (
            request.method == "GET"
            and response.status_code == 200
            and getattr(response, "public_cacheable", False)
            and getattr(response, "app_cacheable", True)
            and not response.streaming
            and not getattr(request, "is_preview", False)
            and private_reason(request, response) is None
        )

    @staticmethod
    def store(key, response, tokens) -> None:
        if hasattr(response, "render") and not response.is_rendered:
            response.render()
        headers = [(name, value) for name, value in response.items() if name.lower() not in _UNSTORED_HEADERS]
        blob = _pickled((response.status_code, headers, response.content))
        _store(key, blob, tokens, settings.RESPONSE_CACHE_SECONDS)


# What counts as content, and when it changes ------------------------------------------------------

# Every model of these apps is content shown on pages (pages, snippets, settings, tags, images).
_CONTENT_APPS = {"practice", "articles", "wagtailimages", "wagtaildocs", "taggit"}
# Opening hours are shown on the home page (its structured data); consultation types on the services page.
_CONTENT_MODELS = {
    "wagtailcore.page",
    "wagtailcore.site",
    "bookings.consultationtype",
    "bookings.availabilitywindow",
}
# Changing these changes which pages anyone may see, on every page: everything is rendered afresh (and
# purged from the front cache, practice.frontend_cache).
STRUCTURE_MODELS = {"wagtailcore.site", "wagtailcore.pageviewrestriction", "wagtailcore.locale"}
STRUCTURE = "structure"
PAGES = "pages"
MENU = "menu"
MENU_DEPTH = 3  # the root is 1, the home page 2, the pages of the menu 3
# A page saved with only these fields has a new draft; nothing visitors see has changed.
_DRAFT_FIELDS = {
    "latest_revision",
    "latest_revision_created_at",
    "draft_title",
    "has_unpublished_changes",
    "locked",
    "locked_at",
    "locked_by",
}


def _is_content(model) -> bool:
    from wagtail.models import Page

    return (
        model._meta.app_label in _CONTENT_APPS
        or model._meta.label_lower in _CONTENT_MODELS
        or issubclass(model, Page)
        or model._meta.label_lower in STRUCTURE_MODELS
    )


def _loaded(sender, instance, **kwargs):
    if _collected.get() is not None and _is_content(sender) and instance.pk is not None:
        depend(tag_for(instance))


def _changed(sender, instance, created=False, update_fields=None, **kwargs):
    from wagtail.images.models import AbstractRendition
    from wagtail.models import Page

    if not _is_content(sender) or issubclass(sender, AbstractRendition):
        return  # a new rendition changes nothing already shown; a changed image is saved itself
    if sender._meta.label_lower in STRUCTURE_MODELS:
        invalidate(STRUCTURE)
        return
    if isinstance(instance, Page):
        if update_fields is not None and set(update_fields) <= _DRAFT_FIELDS:
            return
        if created and not instance.live:
            return  # a new draft
        invalidate(tag_for(instance), PAGES, MENU if instance.depth and instance.depth <= MENU_DEPTH else None)
        return
    invalidate(tag_for(instance), list_tag(sender))


def list_tag(model) -> str:
    """The tag of "which objects of `model` exist": a page listing them (the services page) depends on it."""
    return f"{model._meta.label_lower}:*"


def _moved(sender, instance, **kwargs):
    # A move (a reorder among siblings too) renumbers the tree paths and addresses of other pages below
    # and beside it without saving them: the private sections and every kept link are read again, as
    # after a new slug (`_page_saving`). Both are rare.
    invalidate(tag_for(instance), PAGES, MENU, STRUCTURE)


# Sent before a page is saved at a new address (a move, a new slug published), with the page as it is
# still stored (`before`): its old address and those below it are about to change.
address_changing = Signal()


def _page_saving(sender, instance, update_fields=None, **kwargs):
    """pre_save: a page saved at a new address moves every address below it (one query, for every listener)."""
    from wagtail.models import Page

    if not isinstance(instance, Page) or instance.pk is None:
        return
    if update_fields is not None and "url_path" not in update_fields:
        return
    before = Page.objects.filter(pk=instance.pk).exclude(url_path=instance.url_path).first()
    if before is not None:
        invalidate(STRUCTURE)
        address_changing.send(sender=type(instance), page=instance, before=before)


def invalidate_everything(**kwargs) -> None:
    """After writes that send no signals (a restore, migrations): every kept page and part is read again."""
    invalidate(STRUCTURE)


def connect_signals():
    from django.db.models.signals import post_delete, post_init, post_save, pre_save

    from wagtail.signals import post_page_move

    post_init.connect(_loaded, dispatch_uid="practice.caching.loaded")
    pre_save.connect(_page_saving, dispatch_uid="practice.caching.page_saving")
    post_save.connect(_changed, dispatch_uid="practice.caching.saved")
    post_delete.connect(_changed, dispatch_uid="practice.caching.deleted")
    post_page_move.connect(_moved, dispatch_uid="practice.caching.moved")
