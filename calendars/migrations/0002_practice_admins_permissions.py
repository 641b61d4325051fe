"""The "Practice admins" group edits busy calendars and extra openings under Booking set-up."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Practice admins"
CODENAMES = [
    f"{verb}_{model}" for model in ("busycalendar", "extraopening") for verb in ("add", "change", "delete", "view")
]


def grant(apps, schema_editor):
    # Permissions are normally made after all migrations; make this app's now so the group can hold them.
    create_permissions(global_apps.get_app_config("calendars"), apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(*Permission.objects.filter(content_type__app_label="calendars", codename__in=CODENAMES))


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    group = apps.get_model("auth", "Group").objects.filter(name=GROUP).first()
    if group is not None:
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="calendars", codename__in=CODENAMES)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("calendars", "0001_initial"),
        ("bookings", "0005_practice_admins_group"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
