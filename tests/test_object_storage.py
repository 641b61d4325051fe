"""
Uploads and renditions on S3-compatible object storage: moto's S3 server (bench/s3.py), started once for
this module in a process of its own on 127.0.0.1, reached over real HTTP.

How this process switches to it. Django settings are process-wide, so the tests never build a storage
configuration of their own: a fresh interpreter imports practice/settings/base.py and production.py with
`S3Server.env()` in its environment, as a server starting would, and prints the STORAGES they build.
`override_settings(STORAGES=...)` then applies exactly that here. Django 5.2's `setting_changed` handler for
STORAGES (`storages_changed` in django/test/signals.py) empties the `storages` handler's cache and resets the
lazy `default_storage`; Wagtail's image, rendition and document files use that lazy object (this project
sets no WAGTAILIMAGES_RENDITION_STORAGE), so the next file operation makes an S3Storage from the new
settings, and leaving the block does the same back to the file system.

The second app server is a real second process: it reads the committed rows of the test database
(a transactional test) and the bucket, with the rendition cache of the test settings, a dummy, so every
rendition is looked up in the database as on a server whose cache is cold.
"""

import io
import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from wagtail.images import get_image_model
from wagtail.models import Collection

import pytest
from PIL import Image as PillowImage

from bench.s3 import S3Server
from tests.factories.articles import ArticlePageFactory
from tests.html import meta
from tests.images import make_image

BASE_DIR = Path(settings.BASE_DIR)
S3_STORAGE = "storages.backends.s3.S3Storage"
FERNET_KEY = "cHJvZHVjdGlvbi1zZXR0aW5ncy10ZXN0LWtleS0wMTI="  # a valid key for reading the settings only

READ_STORAGES = """
import json
import practice.settings.base as base
import practice.settings.production as production
print(json.dumps({
    "base": base.STORAGES,
    "production": production.STORAGES,
    "img_src": production.CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"],
    "admin_img_src": production.ADMIN_CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"],
}))
"""


def clean_environment(**env):
    """This process's environment without any setting of its own, plus `env`."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_", "AWS_"))}
    return {**clean, **env}


def storages_from_environment(env):
    """The STORAGES that base.py and production.py build from `env`, read in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", READ_STORAGES],
        cwd=BASE_DIR,
        env=clean_environment(
            DJANGO_SECRET_KEY="x" * 60, DJANGO_ALLOWED_HOSTS="a.test", FIELD_ENCRYPTION_KEYS=FERNET_KEY, **env
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def env_example():
    return (BASE_DIR / ".env.example").read_text()


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers, response.read()


def jpeg(size=(1600, 1000)):
    buffer = io.BytesIO()
    PillowImage.new("RGB", size, (200, 120, 60)).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def s3():
    server = S3Server()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def s3_storages(s3):
    return storages_from_environment(s3.env())


@pytest.fixture
def on_s3(s3, s3_storages):
    """Uploads and renditions go to an empty bucket of the S3 server for the length of the test."""
    client = s3.client()
    for key in s3.object_keys():
        client.delete_object(Bucket=s3.bucket, Key=key)
    with override_settings(STORAGES=s3_storages["base"]):
        yield s3


def test_settings_read_the_object_store_from_the_environment(s3, s3_storages):
    assert s3_storages["base"]["default"] == {
        "BACKEND": S3_STORAGE,
        "OPTIONS": {
            "bucket_name": s3.bucket,
            "endpoint_url": s3.endpoint_url,
            "region_name": "us-east-1",
            "access_key": s3.env()["DJANGO_MEDIA_S3_ACCESS_KEY_ID"],
            "secret_key": s3.env()["DJANGO_MEDIA_S3_SECRET_ACCESS_KEY"],
            "addressing_style": "path",
            "custom_domain": None,
            "url_protocol": "https:",
            "querystring_auth": False,
            "default_acl": None,
            "file_overwrite": False,
            "object_parameters": {"CacheControl": "public, max-age=31536000"},
        },
    }
    assert s3_storages["production"]["default"] == s3_storages["base"]["default"]
    static_backend = s3_storages["production"]["staticfiles"]["BACKEND"]
    assert static_backend == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert set(s3.env()) <= {"DJANGO_MEDIA_STORAGE"} | set(re.findall(r"^(DJANGO_MEDIA_S3_\w+)=", env_example(), re.M))


def test_a_public_url_puts_image_links_on_that_host():
    from storages.backends.s3 import S3Storage

    storages = storages_from_environment(
        {
            "DJANGO_MEDIA_STORAGE": S3_STORAGE,
            "DJANGO_MEDIA_S3_BUCKET": "practice-media",
            "DJANGO_MEDIA_S3_PUBLIC_URL": "https://media.example.com/practice/",
        }
    )
    options = storages["base"]["default"]["OPTIONS"]
    assert (options["custom_domain"], options["url_protocol"]) == ("media.example.com/practice", "https:")
    assert S3Storage(**options).url("images/a.jpg") == "https://media.example.com/practice/images/a.jpg"


def test_pages_may_load_images_from_the_object_store_and_nowhere_else(s3, s3_storages):
    endpoint = s3.endpoint_url.rstrip("/")
    assert endpoint in s3_storages["img_src"]
    assert endpoint in s3_storages["admin_img_src"]
    on_cdn = storages_from_environment({**s3.env(), "DJANGO_MEDIA_S3_PUBLIC_URL": "https://media.example.com/site"})
    assert on_cdn["img_src"] == ["'self'", "data:", "https://media.example.com"]
    on_disk = storages_from_environment({})
    assert on_disk["img_src"] == ["'self'", "data:"]


def test_a_public_url_without_its_scheme_is_refused():
    result = subprocess.run(
        [sys.executable, "-c", READ_STORAGES],
        cwd=BASE_DIR,
        env=clean_environment(
            DJANGO_MEDIA_STORAGE=S3_STORAGE,
            DJANGO_MEDIA_S3_BUCKET="practice-media",
            DJANGO_MEDIA_S3_PUBLIC_URL="media.example.com",
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "DJANGO_MEDIA_S3_PUBLIC_URL must be an address" in result.stderr


@pytest.mark.django_db
def test_an_image_uploaded_in_the_admin_is_stored_in_the_bucket_and_shown_from_it(
    admin_client, client, on_s3, article_index, practice_settings
):
    response = admin_client.post(
        reverse("wagtailimages:add"),
        {
            "title": "Kitchen table",
            "file": SimpleUploadedFile("kitchen.jpg", jpeg(), content_type="image/jpeg"),
            "collection": Collection.get_first_root_node().pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    image = get_image_model().objects.get(title="Kitchen table")
    assert image.file.name.startswith("original_images/kitchen")
    assert on_s3.object_keys() == [image.file.name]
    ArticlePageFactory(parent=article_index, slug="kitchen", hero_image=image, hero_image_alt="A kitchen table")

    html = client.get("/articles/kitchen/").content.decode()

    store = f"{on_s3.endpoint_url}/{on_s3.bucket}/images/"
    hero = html.split('class="wrap article__hero"', 1)[1].split("</picture>", 1)[0]
    links = re.findall(r'src="([^"]+)"', hero) + [
        candidate.split()[0] for srcset in re.findall(r'srcset="([^"]+)"', hero) for candidate in srcset.split(", ")
    ]
    assert len(links) == 7  # the <img> and three sizes in each of two formats
    assert all(link.startswith(store) and "?" not in link for link in links), links
    share = meta(html, "property", "og:image")
    assert share.startswith(store)
    renditions = {rendition.url: rendition for rendition in image.renditions.all()}
    assert set(links) | {share} == set(renditions)
    assert on_s3.object_keys() == sorted([image.file.name, *(rendition.file.name for rendition in renditions.values())])

    for url in (re.search(r'<img[^>]+src="([^"]+)"', hero).group(1), share):
        status, headers, body = fetch(url)
        assert status == 200
        assert headers["Cache-Control"] == "public, max-age=31536000"
        picture = PillowImage.open(io.BytesIO(body))
        assert picture.format == "JPEG"
        assert picture.size == (renditions[url].width, renditions[url].height)
    assert PillowImage.open(io.BytesIO(fetch(share)[2])).size == (1200, 630)


def database_url():
    """The test database, as DATABASE_URL names it for another process."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


SECOND_SERVER = """
import json, sys
from unittest import mock
import django
django.setup()
from django.test import Client
from wagtail.images import get_image_model
from practice.images import SOCIAL_IMAGE_SPEC

Image = get_image_model()
with mock.patch.object(Image, "generate_rendition_file", side_effect=AssertionError("rendition made again")):
    response = Client().get(sys.argv[1])
    social = Image.objects.get(pk=int(sys.argv[2])).get_rendition(SOCIAL_IMAGE_SPEC)
print(json.dumps({"status": response.status_code, "html": response.content.decode(), "social": social.pk}))
"""


@pytest.mark.django_db(transaction=True)
def test_a_rendition_made_by_one_app_server_is_reused_by_another(client, on_s3, article_index, practice_settings):
    image = make_image(title="Shared")
    ArticlePageFactory(parent=article_index, slug="shared", hero_image=image, hero_image_alt="A shared picture")
    first = client.get("/articles/shared/").content.decode()
    rows = sorted(image.renditions.values_list("pk", "filter_spec", "file"))
    keys = on_s3.object_keys()
    assert len(rows) == 7 and len(keys) == 8  # six <picture> sizes, the social image, the original

    result = subprocess.run(
        [sys.executable, "-c", SECOND_SERVER, "/articles/shared/", str(image.pk)],
        cwd=BASE_DIR,
        env=clean_environment(
            DJANGO_SETTINGS_MODULE="practice.settings.test", DATABASE_URL=database_url(), **on_s3.env()
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    second = json.loads(result.stdout.strip().splitlines()[-1])

    assert second["status"] == 200
    assert sorted(image.renditions.values_list("pk", "filter_spec", "file")) == rows
    assert on_s3.object_keys() == keys
    assert second["social"] in {pk for pk, _spec, _file in rows}
    picture = re.compile(r"<picture>.*?</picture>", re.S)
    assert picture.findall(second["html"]) == picture.findall(first)


@pytest.mark.django_db
def test_a_page_whose_original_was_deleted_from_the_bucket_is_shown_without_it(
    client, on_s3, article_index, practice_settings, home_page, caplog
):
    image = make_image(title="Gone")
    home_page.hero_image = image
    home_page.hero_image_alt = "A picture that is gone"
    home_page.save_revision().publish()
    ArticlePageFactory(parent=article_index, slug="gone", hero_image=image, hero_image_alt="A picture that is gone")
    on_s3.client().delete_object(Bucket=on_s3.bucket, Key=image.file.name)
    assert on_s3.object_keys() == []

    with caplog.at_level("WARNING", logger="practice.images"):
        responses = {path: client.get(path) for path in ["/", "/articles/", "/articles/gone/", "/articles/feed/"]}

    assert {path: response.status_code for path, response in responses.items()} == dict.fromkeys(responses, 200)
    assert "<picture" not in responses["/articles/gone/"].content.decode()
    assert meta(responses["/articles/gone/"].content.decode(), "property", "og:image") is None
    warnings = [record.getMessage() for record in caplog.records if record.name == "practice.images"]
    assert warnings and all(f"image {image.pk} " in message for message in warnings)
    assert on_s3.object_keys() == []
