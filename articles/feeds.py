"""RSS 2.0 feed of the latest articles, with absolute links and publication dates."""

import datetime

from django.contrib.syndication.views import Feed
from django.utils import timezone
from django.utils.feedgenerator import Rss201rev2Feed

FEED_LENGTH = 20


class ArticleFeed(Feed):
    feed_type = Rss201rev2Feed

    def __init__(self, index_page):
        super().__init__()
        self.index_page = index_page

    def __call__(self, request, *args, **kwargs):
        self.request = request
        return super().__call__(request, *args, **kwargs)

    def title(self):
        from practice.models import PracticeSettings

        return f"{PracticeSettings.for_request(self.request).practice_name}: {self.index_page.title}"

    def link(self):
        return self.index_page.get_full_url(self.request)

    def feed_url(self):
        return self.index_page.get_full_url(self.request) + "feed/"

    def description(self):
        return self.index_page.introduction or "Educational articles on autoimmune and gut health."

    def items(self):
        return self.index_page.articles()[:FEED_LENGTH]

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return item.summary

    def item_link(self, item):
        return item.get_full_url(self.request)

    def item_guid(self, item):
        return item.get_full_url(self.request)

    def item_pubdate(self, item):
        if item.display_date:
            return timezone.make_aware(datetime.datetime.combine(item.display_date, datetime.time(9, 0)))
        return item.first_published_at

    def item_updateddate(self, item):
        return item.last_published_at

    def item_author_name(self, item):
        return ", ".join(author.name for author in item.authors.all()) or None

    def item_categories(self, item):
        return [topic.name for topic in item.topics.all()]
