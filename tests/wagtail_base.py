"""The starting rows that migrations create, for tests that run after a transactional test emptied the tables."""

import importlib


def ensure_wagtail_base():
    """
    The rows Wagtail's migrations create (locale, root collection, root page). A transactional test
    empties every table when it ends; Django's serialized rollback cannot restore them here because
    Playwright's event loop gives the test a fresh database connection wrapper without the snapshot.
    """
    from django.conf import settings
    from django.contrib.contenttypes.models import ContentType

    from wagtail.coreutils import get_supported_content_language_variant
    from wagtail.models import Collection, Locale, Page

    locale, _ = Locale.objects.get_or_create(
        language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE)
    )
    if not Collection.objects.exists():
        Collection.add_root(name="Root")
    if not Page.objects.exists():
        Page.add_root(
            instance=Page(
                title="Root", slug="root", content_type=ContentType.objects.get_for_model(Page), locale=locale
            )
        )

    ensure_practice_admins_group()


def ensure_practice_admins_group():
    """The "Practice admins" group and Wagtail's Editors, as their migrations make them."""
    from django.apps import apps
    from django.contrib.auth.models import Group, Permission

    importlib.import_module("bookings.migrations.0005_practice_admins_group").create_group(apps, None)
    for app in ("intake", "calendars"):
        importlib.import_module(f"{app}.migrations.0002_practice_admins_permissions").grant(apps, None)
    editors, created = Group.objects.get_or_create(name="Editors")
    if created:
        editors.permissions.add(Permission.objects.get(codename="access_admin"))
    ensure_editors_page_permissions(editors)


def ensure_editors_page_permissions(editors):
    """Editors add and change pages anywhere, and add, change and choose images, as Wagtail's migrations grant."""
    from django.contrib.auth.models import Permission

    from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission, Page

    root = Page.get_first_root_node()
    if root is not None:
        for codename in ("add_page", "change_page"):
            GroupPagePermission.objects.get_or_create(
                group=editors,
                page=root,
                permission=Permission.objects.get(content_type__app_label="wagtailcore", codename=codename),
            )
    collection = Collection.get_first_root_node()
    if collection is not None:
        for app, model in (("wagtailimages", "image"), ("wagtaildocs", "document")):
            for action in ("add", "change", "choose"):
                GroupCollectionPermission.objects.get_or_create(
                    group=editors,
                    collection=collection,
                    permission=Permission.objects.get(content_type__app_label=app, codename=f"{action}_{model}"),
                )
