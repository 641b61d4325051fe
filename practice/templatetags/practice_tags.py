import json

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.safestring import mark_safe

from wagtail.models import Page, Site

from practice.images import SOCIAL_IMAGE_SIZE, social_image_url

register = template.Library()

# json.dumps leaves <, > and & alone; inside a script element they could end it early.
_JSON_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


@register.inclusion_tag("includes/main_menu.html", takes_context=True)
def main_menu(context):
    """The live pages just below the home page that editors chose to show in menus."""
    request = context.get("request")
    current = context.get("page")
    site = Site.find_for_request(request) if request else None
    items = []
    if site is not None:
        root = site.root_page
        children = Page.objects.child_of(root).live().in_menu().public()
        items = [{"page": root, "title": "Home", "is_current": current is not None and current.pk == root.pk}]
        for child in children:
            is_current = current is not None and current.pk == child.pk
            is_ancestor = current is not None and not is_current and current.path.startswith(child.path)
            items.append({"page": child, "title": child.title, "is_current": is_current, "is_ancestor": is_ancestor})
    return {"items": items, "request": request}


@register.filter
def meta_description(page):
    """The page's description for search engines: the editor's own, else one the page derives."""
    if page is None:
        return ""
    if getattr(page, "search_description", ""):
        return page.search_description
    derive = getattr(page, "get_meta_description", None)
    return derive() if callable(derive) else ""


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def jsonld(data):
    """`data` as a JSON-LD script element, escaped so that no string can close the element."""
    payload = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(_JSON_ESCAPES)
    return mark_safe(f'<script type="application/ld+json">{payload}</script>')  # noqa: S308 (escaped above)


@register.simple_tag(takes_context=True)
def social_image(context, page):
    """The 1200×630 image for link previews: the page's own, else the home page's, as an absolute URL."""
    request = context.get("request")
    image = getattr(page, "hero_image", None)
    alt = getattr(page, "hero_image_alt", "")
    if image is None and request is not None:
        site = Site.find_for_request(request)
        home = site.root_page.specific if site else None
        image = getattr(home, "hero_image", None)
        alt = getattr(home, "hero_image_alt", "")
    if image is None or request is None:
        return None
    width, height = SOCIAL_IMAGE_SIZE
    return {"url": social_image_url(image, request), "width": width, "height": height, "alt": alt}
