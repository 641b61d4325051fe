"""
The Redis cache backend of production (practice/redis_cache.py): Django's own, with its client reused.
Run in a fresh interpreter against the Redis on 127.0.0.1:6379, database 15 (the tests' database).
"""

import os
import subprocess
import sys

from django.conf import settings

import pytest

from tests.test_booking_privacy import _redis_available

CODE = """
import django
django.setup()
from django.conf import settings
from django.core.cache import cache
from django.utils.safestring import SafeString, mark_safe
print(settings.CACHES["default"]["BACKEND"])
prefix = "redis-cache-test:"
cache.set(prefix + "a", {"html": mark_safe("<p>kept</p>")}, 30)
cache.set_many({prefix + "b": 2, prefix + "c": 3}, 30)
print(cache.get_many([prefix + "a", prefix + "b", prefix + "missing"]))
print(isinstance(cache.get(prefix + "a")["html"], SafeString))
print(cache.incr(prefix + "b"), cache.add(prefix + "c", 9), cache.get(prefix + "c"))
try:
    cache.incr(prefix + "missing")
except ValueError as error:
    print("refused:", error)
print(cache.incr(prefix + "c", 10), 0 < cache._cache.get_client().ttl(cache.make_key(prefix + "c")) <= 30)
cache.delete_many([prefix + "a", prefix + "b", prefix + "c"])
print(cache.get(prefix + "a", "gone"))
client = cache._cache.get_client()
print(client is cache._cache.get_client() is cache._cache.get_client(write=True))
print(cache.make_key("page"))
"""


@pytest.mark.skipif(not _redis_available() and not os.environ.get("CI"), reason="no Redis on 127.0.0.1:6379")
def test_production_redis_cache_behaves_as_djangos_reuses_its_client_and_keeps_the_key_prefix():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "practice.settings.dev",
        "CACHE_URL": "redis://127.0.0.1:6379/15?key_prefix=site-one",
    }
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", CODE], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "practice.redis_cache.RedisCache",
        "{'redis-cache-test:a': {'html': '<p>kept</p>'}, 'redis-cache-test:b': 2}",
        "True",
        "3 False 3",
        "refused: Key 'site-one:1:redis-cache-test:missing' not found.",
        "13 True",  # counted on, its expiry kept
        "gone",
        "True",
        "site-one:1:page",  # the prefix from CACHE_URL, which django-environ alone would drop
    ]
