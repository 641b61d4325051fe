"""
The "Practice admins" group (bookings migration 0005) edits the intake questions, as it edits the rest
of the booking set-up. Answers have no admin screens of their own: they show on the booking's page.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Practice admins"
CODENAMES = ["add_intakequestion", "change_intakequestion", "delete_intakequestion", "view_intakequestion"]


def grant(apps, schema_editor):
    # Permissions are normally made after all migrations; make this app's now so the group can hold them.
    create_permissions(global_apps.get_app_config("intake"), apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(*Permission.objects.filter(content_type__app_label="intake", codename__in=CODENAMES))


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    group = apps.get_model("auth", "Group").objects.filter(name=GROUP).first()
    if group is not None:
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="intake", codename__in=CODENAMES))


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0001_initial"),
        ("bookings", "0005_practice_admins_group"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
