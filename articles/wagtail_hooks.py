from django.urls import include, path, reverse

from wagtail import hooks
from wagtail.admin.widgets.button import Button
from wagtail.snippets.models import register_snippet

from .import_views import WixImportView
from .models import ArticleIndexPage, ArticlePage
from .viewsets import ArticleSnippetsViewSetGroup

register_snippet(ArticleSnippetsViewSetGroup)


@hooks.register("register_admin_urls")
def register_wix_import_urls():
    # /admin/articles/<index id>/import-wix/
    urls = [path("<int:index_id>/import-wix/", WixImportView.as_view(), name="wix")]
    return [path("articles/", include((urls, "articles_import")))]


@hooks.register("register_page_header_buttons")
def wix_import_button(page, user, view_name, next_url=None):
    """The “Import from Wix” action of the article index, for those who may add articles there."""
    if (
        page.specific_class is ArticleIndexPage
        and ArticlePage.can_create_at(page)
        and page.permissions_for_user(user).can_add_subpage()
    ):
        yield Button("Import from Wix", reverse("articles_import:wix", args=[page.pk]), icon_name="upload", priority=25)
