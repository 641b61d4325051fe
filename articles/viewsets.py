"""Admin screens for the snippets articles use: authors and topics, with search and filters."""

from wagtail.admin.filters import WagtailFilterSet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

import django_filters

from .models import Author, Topic


class AuthorFilterSet(WagtailFilterSet):
    has_reviewed = django_filters.BooleanFilter(
        label="Reviews articles", method="filter_has_reviewed", help_text="Only people who have reviewed an article."
    )

    class Meta:
        model = Author
        fields = ["job_title"]

    def filter_has_reviewed(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(reviewed_articles__isnull=not value).distinct()


class AuthorViewSet(SnippetViewSet):
    model = Author
    icon = "user"
    menu_label = "Authors"
    list_display = ["name", "credentials", "job_title"]
    search_fields = ["name", "job_title"]
    # A plain database lookup: the lists are short, and it behaves the same on SQLite and PostgreSQL.
    search_backend_name = None
    filterset_class = AuthorFilterSet
    ordering = ["name"]


class TopicViewSet(SnippetViewSet):
    model = Topic
    icon = "tag"
    menu_label = "Topics"
    list_display = ["name", "slug"]
    search_fields = ["name", "description"]
    search_backend_name = None
    ordering = ["name"]


class ArticleSnippetsViewSetGroup(SnippetViewSetGroup):
    items = (AuthorViewSet, TopicViewSet)
    menu_icon = "doc-full"
    menu_label = "Article people and topics"
    menu_name = "article-snippets"
