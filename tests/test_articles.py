import json

from wagtail.models import Page, Site
from wagtail.test.utils import WagtailPageTestCase
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text, streamfield

from articles.models import ArticleIndexPage, ArticlePage
from bookings.models import ConsultationType
from practice.models import HomePage
from tests.conftest import SecondFactorLoginMixin
from tests.factories.articles import ArticleIndexPageFactory, AuthorFactory, TopicFactory
from tests.factories.bookings import ConsultationTypeFactory
from tests.factories.practice import HomePageFactory
from tests.images import make_image


def article_form_data(image_pk, author, reviewer, topic, **overrides):
    data = {
        "title": "Gut health basics",
        "slug": "gut-health-basics",
        "summary": "A calm introduction to the gut.",
        "hero_image": image_pk,
        "hero_image_alt": "A bowl of oats",
        "body": streamfield(
            [
                ("heading", {"text": "What the gut does", "level": "h2"}),
                ("paragraph", rich_text("<p>The gut digests food.</p>")),
                ("heading", {"text": "Microbes", "level": "h3"}),
                ("image", {"image": image_pk, "alt_text": "Fermented foods", "caption": "Kefir"}),
                ("quote", {"quote": "Go gently.", "attribution": "Naomi"}),
                ("callout", {"style": "takeaways", "title": "Key takeaways", "body": rich_text("<p>Rest.</p>")}),
                ("heading", {"text": "Next steps", "level": "h2"}),
                (
                    "call_to_action",
                    {"heading": "Talk", "text": "", "button_label": "Book", "page": "", "url": "/book/"},
                ),
                ("embed", {"url": "https://youtu.be/dQw4w9WgXcQ", "title": "Breathing", "caption": ""}),
                (
                    "book_consultation",
                    {
                        "heading": "Want support?",
                        "text": "We can talk.",
                        "consultation_type": ConsultationType.objects.get(slug="discovery-call").pk,
                        "button_label": "Book a call",
                    },
                ),
            ]
        ),
        "references": streamfield(
            [
                (
                    "reference",
                    {
                        "text": "NHS. Coeliac disease.",
                        "url": "https://www.nhs.uk/conditions/coeliac-disease/",
                        "doi": "",
                        "accessed": "2026-10-01",
                    },
                )
            ]
        ),
        "article_note": rich_text("<p>Not a diagnosis.</p>"),
        "authors": [author.pk],
        "reviewed_by": reviewer.pk,
        "last_reviewed": "2026-10-02",
        "display_date": "2026-09-30",
        "topics": [topic.pk],
        "tags": "probiotics, fibre",
        "related_links": inline_formset([]),
    }
    data.update(overrides)
    # nested_form_data flattens dicts only; multiple-choice fields go in as lists afterwards.
    lists = {key: data.pop(key) for key in ("authors", "topics")}
    return {**nested_form_data(data), **lists}


class ArticleEditorTests(SecondFactorLoginMixin, WagtailPageTestCase):
    def setUp(self):
        root = Page.get_first_root_node()
        self.home = HomePageFactory(parent=root)
        site = Site.objects.get(is_default_site=True)
        site.root_page = self.home
        site.save()
        self.index = ArticleIndexPageFactory(parent=self.home)
        self.login()
        self.image = make_image()
        self.author = AuthorFactory(name="Naomi", credentials="MSc", job_title="Practitioner")
        self.reviewer = AuthorFactory(name="Dr Reviewer", credentials="MBBS", job_title="GP")
        self.topic = TopicFactory(name="Gut health", slug="gut-health")
        ConsultationTypeFactory(name="Free discovery call", slug="discovery-call")

    def test_page_tree_rules(self):
        self.assertAllowedParentPageTypes(ArticlePage, {ArticleIndexPage})
        self.assertAllowedSubpageTypes(ArticleIndexPage, {ArticlePage})
        self.assertAllowedParentPageTypes(ArticleIndexPage, {HomePage})
        self.assertAllowedSubpageTypes(ArticlePage, set())
        self.assertCanNotCreateAt(HomePage, ArticlePage)
        self.assertFalse(ArticleIndexPage.can_create_at(self.home), "only one article index")

    def test_editor_creates_an_article_with_every_block_and_sees_it_render(self):
        self.assertCanCreate(
            self.index, ArticlePage, article_form_data(self.image.pk, self.author, self.reviewer, self.topic)
        )
        article = ArticlePage.objects.get(slug="gut-health-basics").get_latest_revision_as_object()
        self.assertEqual(
            [block.block_type for block in article.body],
            [
                "heading",
                "paragraph",
                "heading",
                "image",
                "quote",
                "callout",
                "heading",
                "call_to_action",
                "embed",
                "book_consultation",
            ],
        )
        self.assertEqual(list(article.topics.all()), [self.topic])
        self.assertEqual(sorted(tag.name for tag in article.tags.all()), ["fibre", "probiotics"])

        article.save_revision().publish()
        response = self.client.get("/articles/gut-health-basics/")
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        self.assertIn('<h2 id="what-the-gut-does">What the gut does</h2>', html)
        self.assertIn('<h3 id="microbes">Microbes</h3>', html)
        self.assertIn("The gut digests food.", html)
        self.assertIn('alt="Fermented foods"', html)
        self.assertIn("Go gently.", html)
        self.assertIn("Play video: Breathing", html)
        self.assertIn('href="/book/discovery-call/?src=%2Farticles%2Fgut-health-basics%2F"', html)
        self.assertIn("NHS. Coeliac disease.", html)
        self.assertIn("Not a diagnosis.", html)

    def test_hero_image_needs_a_description(self):
        response = self.client.post(
            f"/admin/pages/add/articles/articlepage/{self.index.pk}/",
            article_form_data(self.image.pk, self.author, self.reviewer, self.topic, hero_image_alt=""),
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Describe the image for people who cannot see it.")
        self.assertFalse(ArticlePage.objects.filter(slug="gut-health-basics").exists())

    def test_pasted_scripts_event_handlers_and_javascript_links_are_removed(self):
        hostile = (
            '<p>Hello <script>alert("x")</script><a href="javascript:alert(1)" onclick="steal()">click</a>'
            '<img src="x" onerror="alert(2)"/><b onmouseover="alert(3)">bold</b></p>'
        )
        data = article_form_data(self.image.pk, self.author, self.reviewer, self.topic)
        data["body-count"] = "1"
        data["body-0-type"] = "paragraph"
        data["body-0-value"] = rich_text(hostile)
        data["body-0-deleted"] = ""
        data["body-0-order"] = "0"
        data["article_note"] = rich_text('<p><a href="javascript:alert(4)">note</a><script>x()</script></p>')
        response = self.client.post(f"/admin/pages/add/articles/articlepage/{self.index.pk}/", data)
        self.assertEqual(response.status_code, 302)
        article = ArticlePage.objects.get(slug="gut-health-basics")
        article.save_revision().publish()
        html = self.client.get("/articles/gut-health-basics/").content.decode()
        body = html.split('class="stream article__body"', 1)[1].split("</article>", 1)[0]
        self.assertIn("bold", body)
        for forbidden in ("<script", "javascript:", "onclick", "onerror", "onmouseover", "steal()"):
            self.assertNotIn(forbidden, body)

    def test_hostile_editor_state_sent_straight_to_the_server_is_neutralised(self):
        """A client can post any Draftail state, not just what the editor would produce."""
        state = {
            "blocks": [
                {
                    "key": "a1b2c",
                    "text": "<script>alert(1)</script> click me",
                    "type": "unstyled",
                    "depth": 0,
                    "inlineStyleRanges": [],
                    "entityRanges": [{"offset": 26, "length": 8, "key": 0}],
                    "data": {},
                }
            ],
            "entityMap": {
                "0": {"type": "LINK", "mutability": "MUTABLE", "data": {"url": "javascript:alert(document.cookie)"}}
            },
        }
        data = article_form_data(self.image.pk, self.author, self.reviewer, self.topic)
        data.update({"body-count": "1", "body-0-type": "paragraph", "body-0-value": json.dumps(state)})
        data.update({"body-0-deleted": "", "body-0-order": "0"})
        self.assertEqual(
            self.client.post(f"/admin/pages/add/articles/articlepage/{self.index.pk}/", data).status_code, 302
        )
        article = ArticlePage.objects.get(slug="gut-health-basics")
        article.save_revision().publish()
        html = self.client.get("/articles/gut-health-basics/").content.decode()
        body = html.split('class="stream article__body"', 1)[1].split("</article>", 1)[0]
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", body)
        self.assertNotIn("<script", body)
        self.assertNotIn("javascript:", body)

    def test_admin_preview_of_a_draft_renders(self):
        data = article_form_data(self.image.pk, self.author, self.reviewer, self.topic)
        preview_url = f"/admin/pages/add/articles/articlepage/{self.index.pk}/preview/"
        response = self.client.post(preview_url, data)
        self.assertEqual(response.json(), {"is_valid": True, "is_available": True})
        response = self.client.get(preview_url)
        self.assertContains(response, "<h1>Gut health basics</h1>")
        self.assertFalse(ArticlePage.objects.filter(slug="gut-health-basics").exists())
