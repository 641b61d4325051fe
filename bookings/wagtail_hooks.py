from wagtail.snippets.models import register_snippet

from .viewsets import BookingSetupViewSetGroup

register_snippet(BookingSetupViewSetGroup)
