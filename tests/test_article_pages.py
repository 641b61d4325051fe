import datetime
import re
import xml.etree.ElementTree as ET

import pytest

from articles.models import ArticlePage
from tests.factories.articles import ArticlePageFactory, AuthorFactory, TopicFactory
from tests.factories.practice import StandardPageFactory
from tests.html import jsonld, meta
from tests.images import make_image

THREE_HEADINGS = [
    ("heading", {"text": "What it is", "level": "h2"}),
    ("paragraph", "<p>" + " ".join(["gut"] * 400) + "</p>"),
    ("heading", {"text": "Signs", "level": "h3"}),
    ("paragraph", "<p>Bloating and tiredness.</p>"),
    ("heading", {"text": "What it is", "level": "h2"}),
    ("paragraph", "<p>Repeated heading text gets its own anchor.</p>"),
]


@pytest.fixture
def article(article_index, practice_settings, home_page):
    about = StandardPageFactory(parent=home_page, title="About Naomi", slug="about")
    naomi = AuthorFactory(name="Naomi", credentials="MSc", job_title="Integrative practitioner", about_page=about)
    reviewer = AuthorFactory(name="Dr Sam Lee", credentials="MBBS", job_title="General practitioner")
    page = ArticlePageFactory(
        parent=article_index,
        title="Leaky gut explained",
        slug="leaky-gut",
        summary="What gut permeability means.",
        hero_image=make_image(title="Hero", size=(1600, 1000)),
        hero_image_alt="A calm kitchen table",
        body=THREE_HEADINGS,
        references=[
            (
                "reference",
                {
                    "text": "NHS. Coeliac disease.",
                    "url": "https://www.nhs.uk/conditions/coeliac-disease/",
                    "doi": "",
                    "accessed": None,
                },
            ),
            ("reference", {"text": "A journal article.", "url": "", "doi": "10.1000/xyz123", "accessed": None}),
        ],
        article_note="<p>This note is only on this article.</p>",
        reviewed_by=reviewer,
        last_reviewed=datetime.date(2026, 10, 2),
        display_date=datetime.date(2026, 9, 30),
        topics=[TopicFactory(name="Gut health", slug="gut-health")],
        authors=[naomi],
        tag_names=["probiotics", "fibre"],
    )
    page.save_revision().publish()
    return ArticlePage.objects.get(pk=page.pk)


@pytest.mark.django_db
def test_article_shows_who_wrote_and_reviewed_it_and_when(client, article):
    html = client.get("/articles/leaky-gut/").content.decode()
    assert "<h1>Leaky gut explained</h1>" in html
    assert '<a href="/about/">Naomi</a>, MSc' in html
    assert 'Published <time datetime="2026-09-30">30 September 2026</time>' in html
    assert "3 min read" in html
    assert 'Medically reviewed by Dr Sam Lee, MBBS on <time datetime="2026-10-02">2 October 2026</time>' in html
    assert 'Last reviewed <time datetime="2026-10-02">' in html
    assert "Last updated <time" in html
    assert "General education only, not medical advice." in html
    assert "This note is only on this article." in html
    assert 'href="/book/"' in html.split('class="references"', 1)[1]


@pytest.mark.django_db
def test_table_of_contents_links_to_unique_anchors(client, article):
    html = client.get("/articles/leaky-gut/").content.decode()
    toc = html.split('<nav class="toc"', 1)[1].split("</nav>", 1)[0]
    assert re.findall(r'href="#([^"]+)"', toc) == ["what-it-is", "signs", "what-it-is-2"]
    assert '<h2 id="what-it-is">What it is</h2>' in html
    assert '<h2 id="what-it-is-2">What it is</h2>' in html
    assert '<h3 id="signs">Signs</h3>' in html


@pytest.mark.django_db
def test_no_table_of_contents_with_fewer_than_three_headings(client, article_index, practice_settings):
    ArticlePageFactory(parent=article_index, slug="short", body=[("heading", {"text": "One", "level": "h2"})])
    html = client.get("/articles/short/").content.decode()
    assert 'class="toc"' not in html


@pytest.mark.django_db
def test_references_are_a_numbered_list_at_the_end(client, article):
    html = client.get("/articles/leaky-gut/").content.decode()
    references = html.split('<section class="references"', 1)[1].split("</section>", 1)[0]
    assert '<ol class="references__list">' in references
    assert references.index("NHS. Coeliac disease.") < references.index("A journal article.")
    assert 'href="https://doi.org/10.1000/xyz123"' in references
    assert html.index('class="references"') > html.index('class="stream article__body"')


@pytest.mark.django_db
def test_article_structured_data_has_every_field(client, article):
    html = client.get("/articles/leaky-gut/").content.decode()
    data, breadcrumbs = jsonld(html)
    assert data["@type"] == "MedicalWebPage"
    assert data["headline"] == "Leaky gut explained"
    assert data["description"] == "What gut permeability means."
    assert data["image"].startswith("http://testserver/") and data["image"].endswith(".jpg")
    assert data["datePublished"] == "2026-09-30"
    assert data["dateModified"].startswith(str(article.last_published_at.date()))
    assert data["lastReviewed"] == "2026-10-02"
    assert data["author"] == [
        {
            "@type": "Person",
            "name": "Naomi",
            "jobTitle": "Integrative practitioner",
            "honorificSuffix": "MSc",
            "url": "http://localhost/about/",
        }
    ]
    assert data["reviewedBy"]["@type"] == "Person"
    assert data["reviewedBy"]["name"] == "Dr Sam Lee"
    assert data["reviewedBy"]["jobTitle"] == "General practitioner"
    assert data["publisher"] == {"@type": "Organization", "name": "Test Practice", "url": "http://testserver/"}
    assert breadcrumbs["@type"] == "BreadcrumbList"
    assert [item["name"] for item in breadcrumbs["itemListElement"]] == ["Home", "Articles", "Leaky gut explained"]
    assert breadcrumbs["itemListElement"][-1]["item"] == "http://localhost/articles/leaky-gut/"


@pytest.mark.django_db
def test_structured_data_cannot_break_out_of_its_script_element(client, article):
    article.title = "</script><script>alert(1)</script>"
    article.save_revision().publish()
    html = client.get("/articles/leaky-gut/").content.decode()
    assert "<script>alert(1)" not in html
    assert jsonld(html)[0]["headline"] == "</script><script>alert(1)</script>"


@pytest.mark.django_db
def test_every_page_has_title_description_canonical_and_social_tags(client, article, home_page):
    home_page.hero_image = make_image(title="Home hero")
    home_page.hero_image_alt = "A calm consulting room"  # every page type refuses a picture without one
    home_page.save_revision().publish()
    for path, title in [("/articles/leaky-gut/", "Leaky gut explained"), ("/articles/", "Articles"), ("/", None)]:
        html = client.get(path).content.decode()
        assert re.search(r"<title>[^<]+</title>", html)
        assert meta(html, "name", "description")
        assert re.search(r'<link rel="canonical" href="http://localhost[^"]*">', html)
        if title:
            assert meta(html, "property", "og:title") == title
        image = meta(html, "property", "og:image")
        assert image and image.startswith("http://testserver/")
        assert meta(html, "property", "og:image:width") == "1200"
        assert meta(html, "property", "og:image:height") == "630"
        assert meta(html, "name", "twitter:card") == "summary_large_image"
        assert meta(html, "name", "twitter:image") == image


@pytest.mark.django_db
def test_social_image_is_a_real_1200_by_630_rendition(client, article):
    html = client.get("/articles/leaky-gut/").content.decode()
    assert meta(html, "property", "og:type") == "article"
    path = meta(html, "property", "og:image").removeprefix("http://testserver")
    rendition = article.hero_image.renditions.get(file__endswith=path.rsplit("/", 1)[1])
    assert (rendition.width, rendition.height) == (1200, 630)


@pytest.mark.django_db
def test_hero_and_body_images_are_responsive(client, article_index, practice_settings):
    image = make_image(size=(1600, 1000))
    ArticlePageFactory(
        parent=article_index,
        slug="pictures",
        hero_image=image,
        hero_image_alt="Hero",
        body=[("image", {"image": image, "alt_text": "Body picture", "caption": ""})],
    )
    html = client.get("/articles/pictures/").content.decode()
    hero = html.split('class="wrap article__hero"', 1)[1].split("</picture>", 1)[0]
    assert 'type="image/webp"' in hero
    assert re.search(r'srcset="[^"]+ 480w, [^"]+ 800w, [^"]+ 1200w"', hero)
    assert 'fetchpriority="high"' in hero and 'loading="lazy"' not in hero
    assert re.search(r'<img[^>]+width="\d+"[^>]+height="\d+"', hero) or re.search(r'<img[^>]+height="\d+"', hero)
    body = html.split('class="block-image"', 1)[1].split("</figure>", 1)[0]
    assert 'loading="lazy"' in body and 'alt="Body picture"' in body
    assert re.search(r'width="\d+"', body) and re.search(r'height="\d+"', body)


@pytest.mark.django_db
def test_anonymous_article_pages_may_be_cached_briefly_and_personal_ones_not(client, admin_client, article):
    response = client.get("/articles/leaky-gut/")
    assert "public" in response["Cache-Control"]
    assert "s-maxage=300" in response["Cache-Control"]
    assert "Cookie" in response["Vary"]
    assert not response.cookies
    personal = admin_client.get("/articles/leaky-gut/")
    assert "private" in personal["Cache-Control"]
    assert "public" not in personal["Cache-Control"]
    index = client.get("/articles/")
    assert "public" in index["Cache-Control"]


@pytest.mark.django_db
def test_sitemap_gives_articles_a_lastmod(client, article):
    xml = client.get("/sitemap.xml").content.decode()
    entry = xml.split("<loc>http://localhost/articles/leaky-gut/</loc>", 1)[1].split("</url>", 1)[0]
    assert f"<lastmod>{article.last_published_at.date().isoformat()}</lastmod>" in entry


@pytest.mark.django_db
def test_search_finds_articles_by_body_tag_topic_and_author(client, article):
    for query in ["permeability", "probiotics", "Gut health", "Naomi", "gut"]:
        html = client.get("/search/", {"q": query}).content.decode()
        assert 'href="/articles/leaky-gut/"' in html, query


@pytest.mark.django_db
def test_feed_is_valid_rss_with_absolute_links_and_dates(client, article_index, practice_settings):
    for number in range(22):
        ArticlePageFactory(parent=article_index, title=f"Article {number}", slug=f"article-{number}")
    response = client.get("/articles/feed/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    root = ET.fromstring(response.content)
    assert root.tag == "rss" and root.get("version") == "2.0"
    items = root.find("channel").findall("item")
    assert len(items) == 20
    assert items[0].find("title").text == "Article 21"
    for item in items:
        assert item.find("link").text.startswith("http://localhost/articles/article-")
        assert item.find("pubDate").text
    assert root.find("channel/link").text == "http://localhost/articles/"


@pytest.mark.django_db
def test_pages_link_the_feed_in_their_head(client, article_index, practice_settings):
    html = client.get("/").content.decode()
    head = html.split("</head>", 1)[0]
    assert '<link rel="alternate" type="application/rss+xml" title="Articles" href="/articles/feed/">' in head
