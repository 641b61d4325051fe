"""
The "Practice admins" group: the people who may see clients' health details. It holds the
booking and enquiry permissions, the booking set-up permissions and access to the admin.
Wagtail's Editors and Moderators get none of these.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Practice admins"
PERMISSIONS = {
    "bookings": [
        "view_booking",
        "change_booking",
        "view_enquiry",
        "change_enquiry",
        "add_consultationtype",
        "change_consultationtype",
        "delete_consultationtype",
        "view_consultationtype",
        "add_availabilitywindow",
        "change_availabilitywindow",
        "delete_availabilitywindow",
        "view_availabilitywindow",
        "add_timeoff",
        "change_timeoff",
        "delete_timeoff",
        "view_timeoff",
    ],
    "wagtailadmin": ["access_admin"],
}


def create_group(apps, schema_editor):
    # Permissions are normally made after all migrations; make them now so the group can hold them.
    # The installed apps say which apps have models; `apps` (this migration's state) makes the rows.
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    for app_label, codenames in PERMISSIONS.items():
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        )


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0004_workspace"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
