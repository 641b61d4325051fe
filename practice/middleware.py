"""Response headers that neither Django nor django-csp set on their own, and requests refused before any view."""

from django.conf import settings
from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import HttpResponseBadRequest, UnreadablePostError
from django.http.multipartparser import MultiPartParserError

from csp.middleware import CSPMiddleware, PolicyParts


class SecurityHeadersMiddleware:
    """Adds a Permissions-Policy so that pages cannot ask for the camera, microphone or location."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class PracticeCSPMiddleware(CSPMiddleware):
    """
    The strict public policy everywhere, except the admin, which gets ADMIN_CONTENT_SECURITY_POLICY:
    Wagtail's editor needs inline scripts and styles, public pages never do. Previews count as admin:
    Wagtail renders them through a dummy request for the page's public address and shows the result
    in a frame of the editor.
    """

    def get_policy_parts(self, request, response, report_only=False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only=report_only)
        in_admin = request.path_info.startswith(settings.ADMIN_PATH_PREFIXES) or getattr(request, "is_dummy", False)
        if not report_only and parts.config is None and in_admin:
            parts.config = settings.ADMIN_CONTENT_SECURITY_POLICY["DIRECTIVES"]
        return parts


class MalformedRequestMiddleware:
    """
    Answers 400 "Bad request" to two kinds of request that no browser sends when a person uses the site,
    before any view, Wagtail's admin included, reads them:

    - a NUL character in the path or the query string (after decoding): PostgreSQL cannot store or even
      compare a string that holds one, so a filter or a search on it would fail with a server error. It is
      refused here once rather than stripped in every view, because views and Wagtail's admin read query
      parameters straight into queries. Form fields are left to the forms, which refuse NUL with a clear
      message (Django's ProhibitNullCharactersValidator), so a person who pasted one is told what to fix.
    - a form body that Django cannot parse: a charset other than UTF-8, too large, too many fields, a
      broken multipart body. Django would raise the same 400, but its error view reads the body again for
      the CSRF check and fails a second time, which turned the 400 into a 500.
    """

    FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self.is_malformed(request):
            return HttpResponseBadRequest("Bad request\n", content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    def is_malformed(self, request) -> bool:
        try:
            if "\x00" in request.path or any(
                "\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()
            ):
                return True
            if request.method == "POST" and request.content_type in self.FORM_CONTENT_TYPES:
                request.POST  # noqa: B018 - parsed now, so that a failure is answered here
        except (BadRequest, SuspiciousOperation, MultiPartParserError, UnreadablePostError):
            return True
        return False
