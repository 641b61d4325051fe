"""
The people credited on articles (authors and medical reviewers), as the pages show them, each kept in
the cache until that person, their photo or their "about" page changes.

An article shows its authors' names, credentials and links, their photos and biographies, and names
them in its structured data. Read from the database, each author brings a whole page (the about page)
and an image with them: the costliest rows the article reads. Kept here as plain values, an article
only reads which people it credits.
"""

from dataclasses import dataclass

from practice import caching, visibility
from practice.images import prefetch_renditions, rendition_or_none

PHOTO_SPEC = "fill-160x160"


@dataclass(frozen=True)
class Photo:
    url: str
    width: int
    height: int


@dataclass(frozen=True)
class Person:
    pk: int
    name: str
    credentials: str
    job_title: str
    bio: str
    url: str | None  # their page on this site, as a link from this site
    full_url: str | None  # the same, with the site's address (structured data)
    photo: Photo | None

    def structured_data(self) -> dict:
        """The person as a schema.org Person."""
        person = {"@type": "Person", "name": self.name}
        if self.job_title:
            person["jobTitle"] = self.job_title
        if self.credentials:
            person["honorificSuffix"] = self.credentials
        if self.full_url:
            person["url"] = self.full_url
        return person


def people(pks) -> dict[int, Person]:
    """The people `pks` (author ids), by id; ids of people deleted meanwhile are left out."""
    [found] = caching.kept_each(each(pks), prepare=prefetch_renditions)
    return found


def each(pks) -> caching.Each:
    """The people `pks` as parts kept one per person (`caching.kept_each`); each shows its photo."""
    return caching.Each({pk: f"person:{pk}" for pk in pks}, _load, _person, shows=lambda author: [author.photo])


def _load(pks):
    from .models import Author

    authors = list(Author.objects.filter(pk__in=pks).select_related("photo", "about_page"))
    visibility.give_site_root_paths(author.about_page for author in authors)
    return {author.pk: author for author in authors}


def _person(author) -> Person:
    # Loaded in bulk, outside this person's block: noted here, so that it is built again when the
    # author, the photo or the about page changes (or the sites, which make the page's address).
    caching.depend(caching.STRUCTURE)
    caching.note(author, author.photo, author.about_page)
    about = author.about_page if author.about_page and author.about_page.live else None
    rendition = rendition_or_none(author.photo, PHOTO_SPEC) if author.photo else None
    return Person(
        pk=author.pk,
        name=author.name,
        credentials=author.credentials,
        job_title=author.job_title,
        bio=author.bio,
        url=about.get_url() if about else None,
        full_url=about.get_full_url() if about else None,
        photo=Photo(rendition.url, rendition.width, rendition.height) if rendition else None,
    )
