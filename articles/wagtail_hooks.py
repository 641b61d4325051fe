from wagtail.snippets.models import register_snippet

from .viewsets import ArticleSnippetsViewSetGroup

register_snippet(ArticleSnippetsViewSetGroup)
