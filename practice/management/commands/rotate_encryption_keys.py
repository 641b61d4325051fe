from django.core.management.base import BaseCommand
from django.db import transaction

from practice.crypto import encrypted_fields


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored health detail with the first key in FIELD_ENCRYPTION_KEYS. Run it after "
        "putting a new key first; once it has finished, the old keys can be removed from the list."
    )

    def handle(self, *args, **options):
        total = 0
        for model, field in encrypted_fields():
            count = 0
            with transaction.atomic():
                # Reading decrypts with whichever key fits; writing encrypts with the first key.
                rows = model.objects.select_for_update().exclude(**{f"{field}__isnull": True})
                for pk, value in rows.values_list("pk", field).iterator():
                    if value:
                        model.objects.filter(pk=pk).update(**{field: value})
                        count += 1
            self.stdout.write(f"{model._meta.label}.{field}: {count} re-encrypted")
            total += count
        self.stdout.write(self.style.SUCCESS(f"Done: {total} values now use the first key."))
