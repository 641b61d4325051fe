import hashlib
import json

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.safestring import mark_safe

from wagtail.images.models import Picture, ResponsiveImage
from wagtail.images.templatetags import wagtailimages_tags
from wagtail.models import Page, Site

from practice import caching, visibility
from practice.images import SOCIAL_IMAGE_SIZE, rendition_or_none, renditions_or_none, social_image_url

register = template.Library()

# json.dumps leaves <, > and & alone; inside a script element they could end it early.
_JSON_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


menu_key = caching.site_wide(lambda site: f"menu:{site.pk}")


@register.inclusion_tag("includes/main_menu.html", takes_context=True)
def main_menu(context):
    """The live pages just below the home page that editors chose to show in menus."""
    request = context.get("request")
    current = context.get("page")
    site = Site.find_for_request(request) if request else None
    items = []
    if site is not None:
        for item in caching.cached(menu_key(site), lambda: _menu_entries(site, request)):
            is_current = current is not None and current.pk == item["pk"]
            is_ancestor = current is not None and not is_current and current.path.startswith(item["path"])
            items.append({**item, "is_current": is_current, "is_ancestor": is_ancestor})
    return {"items": items, "request": request}


def _menu_entries(site, request):
    caching.depend(caching.MENU)  # a page may join or leave the menu
    root = site.root_page
    children = visibility.public(Page.objects.child_of(root).live().in_menu())
    return [
        {"pk": page.pk, "path": page.path, "title": title, "url": page.get_url(request)}
        for page, title in [(root, "Home"), *[(child, child.title) for child in children]]
    ]


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
    url = social_image_url(image, request)
    if url is None:  # the original file is missing (logged): no preview image rather than a broken one
        return None
    width, height = SOCIAL_IMAGE_SIZE
    return {"url": url, "width": width, "height": height, "alt": alt}


# Wagtail's {% image %}, {% srcset_image %} and {% picture %}, same syntax, except that when the original file
# is missing they render nothing and log a warning (practice/images.py) instead of a broken <img src="not-found">,
# and that the markup they write is kept in the cache until the image changes: finding a picture's six
# renditions and writing its <source> elements costs more than the rest of an article's body together.
# Templates load them from here instead of wagtailimages_tags.


def _resolved_attrs(node, context):
    return {key: value.resolve(context) for key, value in node.attrs.items()}


def _kept_markup(node, image, attrs, render):
    """`render()` (the node's markup for `image` with `attrs`), kept until the image changes; "" is not kept."""
    if image.pk is None:
        return render()
    signature = repr((type(node).__name__, image.pk, node.filter_specs, sorted(attrs.items())))
    key = f"img:{hashlib.sha256(signature.encode()).hexdigest()[:32]}"

    def markup():
        caching.note(image)  # loaded before this block; its renditions count as the image
        return render()

    # Nothing is kept when the original is missing, so that the next page asks (and logs) again.
    return mark_safe(caching.cached(key, markup, keep_if=bool))  # noqa: S308 (Wagtail's markup, escaped)


class ImageNode(wagtailimages_tags.ImageNode):
    def render(self, context):
        image = self.validate_image(context)
        if not image:
            return ""
        if self.output_var_name:
            context[self.output_var_name] = rendition_or_none(image, self.get_filter())
            return ""
        attrs = _resolved_attrs(self, context)

        def render():
            rendition = rendition_or_none(image, self.get_filter())
            return rendition.img_tag(attrs) if rendition is not None else ""

        return _kept_markup(self, image, attrs, render)


class SrcsetImageNode(wagtailimages_tags.SrcsetImageNode):
    wrapper = ResponsiveImage

    def render(self, context):
        image = self.validate_image(context)
        if not image:
            return ""
        if self.output_var_name:
            renditions = renditions_or_none(image, self.get_filters())
            context[self.output_var_name] = self.wrapper(renditions) if renditions is not None else None
            return ""
        attrs = _resolved_attrs(self, context)

        def render():
            renditions = renditions_or_none(image, self.get_filters())
            return self.wrapper(renditions, attrs).__html__() if renditions is not None else ""

        return _kept_markup(self, image, attrs, render)


class PictureNode(SrcsetImageNode):
    wrapper = Picture


_IMAGE_NODES = {"image": ImageNode, "srcset_image": SrcsetImageNode, "picture": PictureNode}


@register.tag("image")
@register.tag("srcset_image")
@register.tag("picture")
def image_tag(parser, token):
    """Parsed by Wagtail's own parser, rendered by the node above of the same name."""
    parsed = wagtailimages_tags.image(parser, token)
    return _IMAGE_NODES[token.split_contents()[0]](
        parsed.image_expr, parsed.filter_specs, output_var_name=parsed.output_var_name, attrs=parsed.attrs
    )
