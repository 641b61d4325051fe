from django.apps import AppConfig


class PracticeConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "practice"

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import caching

        caching.connect_signals()
        post_migrate.connect(caching.invalidate_everything, sender=self, dispatch_uid="practice.caching.migrated")
