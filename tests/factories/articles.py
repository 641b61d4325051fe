import datetime

import factory
import wagtail_factories

from articles.models import ArticleIndexPage, ArticlePage, Author, Topic


class AuthorFactory(factory.django.DjangoModelFactory):
    name = factory.Faker("name")
    credentials = "MSc"
    job_title = "Nutritional therapist"
    bio = factory.Faker("sentence")

    class Meta:
        model = Author


class TopicFactory(factory.django.DjangoModelFactory):
    name = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.Sequence(lambda n: f"topic-{n}")
    description = factory.Faker("sentence")

    class Meta:
        model = Topic


class ArticleIndexPageFactory(wagtail_factories.PageFactory):
    title = "Articles"
    slug = "articles"
    introduction = "Articles on gut health."

    class Meta:
        model = ArticleIndexPage


class ArticlePageFactory(wagtail_factories.PageFactory):
    title = factory.Sequence(lambda n: f"Article {n}")
    summary = factory.Faker("sentence")
    body = factory.LazyFunction(lambda: [("paragraph", "<p>" + " ".join(["word"] * 450) + "</p>")])
    display_date = factory.Sequence(lambda n: datetime.date(2026, 1, 1) + datetime.timedelta(days=n))

    class Meta:
        model = ArticlePage
        skip_postgeneration_save = True

    @factory.post_generation
    def topics(self, create, extracted, **kwargs):
        if extracted:
            self.topics.set(extracted)
            self.save()

    @factory.post_generation
    def authors(self, create, extracted, **kwargs):
        if extracted:
            self.authors.set(extracted)
            self.save()

    @factory.post_generation
    def tag_names(self, create, extracted, **kwargs):
        if extracted:
            self.tags.set(extracted)
            self.save()
