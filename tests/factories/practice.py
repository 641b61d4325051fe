import factory
import wagtail_factories

from practice.models import ContactPage, HomePage, StandardPage


class HomePageFactory(wagtail_factories.PageFactory):
    title = "Home"
    slug = "practice-home"
    hero_heading = factory.Faker("sentence", nb_words=6)
    hero_introduction = factory.Faker("paragraph")
    hero_cta_label = "Book a consultation"

    class Meta:
        model = HomePage


class StandardPageFactory(wagtail_factories.PageFactory):
    title = factory.Sequence(lambda n: f"Standard page {n}")
    introduction = factory.Faker("sentence")

    class Meta:
        model = StandardPage


class ContactPageFactory(wagtail_factories.PageFactory):
    title = "Contact"
    slug = "contact"
    introduction = factory.Faker("sentence")
    thank_you = "Thank you, your message is on its way. Naomi replies within two working days."

    class Meta:
        model = ContactPage
