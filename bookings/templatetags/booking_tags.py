from django import template
from django.templatetags.tz import do_timezone

register = template.Library()


@register.filter
def in_zone(value, zone):
    """`value` in `zone`, marked so that templates do not convert it back to the server's zone."""
    return do_timezone(value, zone) if value is not None else None


@register.filter
def isoformat(value):
    return value.isoformat() if value is not None else ""


@register.filter
def describe(bound_field, field):
    """Render the widget tied to its help text and errors for screen readers."""
    ids = []
    if field.help_text:
        ids.append(f"{field.id_for_label}-help")
    if field.errors:
        ids.append(f"{field.id_for_label}-error")
    attrs = {}
    if ids:
        attrs["aria-describedby"] = " ".join(ids)
    if field.errors:
        attrs["aria-invalid"] = "true"
    return bound_field.as_widget(attrs=attrs)


@register.filter
def source_href(source_page):
    """The link to a recorded source page, or "" when it is not a path on this site (see reports.public_url)."""
    from bookings.reports import public_url

    return public_url(source_page or "") or ""
