"""Response headers that neither Django nor django-csp set on their own."""

from django.conf import settings

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
