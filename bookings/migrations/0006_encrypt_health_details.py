"""Health details are stored encrypted from now on; this encrypts what was stored before."""

import practice.crypto
from django.db import migrations

FIELDS = [("Booking", "reason"), ("Enquiry", "message"), ("Note", "text"), ("Notification", "message")]


def decrypt_existing(apps, schema_editor):
    """Going back: write the plain text again, with SQL, since the fields still encrypt at this point."""
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    for model_name, field in FIELDS:
        table = quote(apps.get_model("bookings", model_name)._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id, {quote(field)} FROM {table}")  # noqa: S608 (names from the models)
            for pk, stored in cursor.fetchall():
                if stored and stored.startswith(practice.crypto.PREFIX):
                    cursor.execute(
                        f"UPDATE {table} SET {quote(field)} = %s WHERE id = %s",  # noqa: S608
                        [practice.crypto.decrypt(stored), pk],
                    )


def encrypt_existing(apps, schema_editor):
    for model_name, field in FIELDS:
        model = apps.get_model("bookings", model_name)
        # Reading gives plain text either way; writing it back through the field encrypts it.
        for pk, value in model.objects.values_list("pk", field).iterator():
            if value:
                model.objects.filter(pk=pk).update(**{field: value})


class Migration(migrations.Migration):

    dependencies = [
        ('bookings', '0005_practice_admins_group'),
    ]

    operations = [
        migrations.AlterField(
            model_name='booking',
            name='reason',
            field=practice.crypto.EncryptedTextField(help_text='Health details: visible to practice admins only; stored encrypted.'),
        ),
        migrations.AlterField(
            model_name='enquiry',
            name='message',
            field=practice.crypto.EncryptedTextField(help_text='May hold health details: visible to practice admins only; stored encrypted.'),
        ),
        migrations.AlterField(
            model_name='note',
            name='text',
            field=practice.crypto.EncryptedTextField(),
        ),
        migrations.AlterField(
            model_name='notification',
            name='message',
            field=practice.crypto.EncryptedTextField(blank=True, help_text="The practice's own words in the email: a personal message or a reply; encrypted."),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing),
    ]
