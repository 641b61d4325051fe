"""Helpers for tests of the practice admins' workspace."""

from django.urls import reverse

NAMESPACES = {"booking": "bookings_admin", "enquiry": "enquiries"}


def act(client, record, action, **data):
    """Post `action` on `record` as the workspace's buttons do, with the record as the admin last saw it."""
    record.refresh_from_db()
    url = reverse(f"{NAMESPACES[record._meta.model_name]}:action", args=[record.pk, action])
    return client.post(url, {"seen": record.updated_at.isoformat(), **data}, follow=True)
