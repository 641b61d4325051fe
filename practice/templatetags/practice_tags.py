from django import template

from wagtail.models import Page, Site

register = template.Library()


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
