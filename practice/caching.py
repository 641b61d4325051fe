"""
Cache headers for public pages. A page view marks its response with `mark_public`; the middleware
decides once every other middleware has had its say. Anonymous visitors get a response that a
shared cache (a CDN or the reverse proxy) may keep briefly; anyone logged in, or any response that
sets a cookie, is marked private so that nothing personal is ever stored in a shared cache.
"""

from django.utils.cache import patch_cache_control, patch_vary_headers

BROWSER_MAX_AGE = 60
SHARED_MAX_AGE = 300


def mark_public(response):
    response.public_cacheable = True
    return response


class PublicCacheMiddleware:
    """Sits outside the session and CSRF middleware, so it sees every cookie they add."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not getattr(response, "public_cacheable", False) or response.status_code != 200:
            return response
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or response.cookies:
            patch_cache_control(response, private=True, no_cache=True)
        else:
            patch_cache_control(response, public=True, max_age=BROWSER_MAX_AGE, s_maxage=SHARED_MAX_AGE)
        patch_vary_headers(response, ["Cookie"])
        return response
