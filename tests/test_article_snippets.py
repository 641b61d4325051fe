import pytest

from tests.factories.articles import ArticlePageFactory, AuthorFactory, TopicFactory


@pytest.mark.django_db
def test_editor_searches_and_filters_authors(admin_client, article_index):
    naomi = AuthorFactory(name="Naomi Reed", job_title="Practitioner")
    reviewer = AuthorFactory(name="Sam Lee", job_title="General practitioner")
    ArticlePageFactory(parent=article_index, reviewed_by=reviewer)

    listing = admin_client.get("/admin/snippets/articles/author/")
    assert listing.status_code == 200
    assert "Naomi Reed" in listing.content.decode() and "Sam Lee" in listing.content.decode()

    found = admin_client.get("/admin/snippets/articles/author/", {"q": "Naomi"}).content.decode()
    assert "Naomi Reed" in found and "Sam Lee" not in found

    reviewers = admin_client.get("/admin/snippets/articles/author/", {"has_reviewed": "true"}).content.decode()
    assert "Sam Lee" in reviewers and "Naomi Reed" not in reviewers
    assert naomi.pk != reviewer.pk


@pytest.mark.django_db
def test_editor_adds_a_topic_and_a_duplicate_slug_is_refused(admin_client):
    TopicFactory(name="Gut health", slug="gut-health")
    response = admin_client.post(
        "/admin/snippets/articles/topic/add/", {"name": "Gut wellbeing", "slug": "gut-health", "description": ""}
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()

    response = admin_client.post(
        "/admin/snippets/articles/topic/add/", {"name": "Skin", "slug": "skin", "description": "Skin conditions."}
    )
    assert response.status_code == 302
    found = admin_client.get("/admin/snippets/articles/topic/", {"q": "Skin"}).content.decode()
    assert "Skin" in found and "Gut health" not in found
