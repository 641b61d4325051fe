from django.apps import AppConfig


class BookingsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "bookings"

    def ready(self):
        from . import checks, selectors  # noqa: F401 (checks registers the deploy check)

        selectors.connect_setup_signals()
