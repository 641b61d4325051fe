"""
Renditions for public pages, which render even when an image's original file is gone.

Wagtail makes a rendition from the original file the first time a page asks for that size. When the
original is missing (a server without the upload, an object deleted from the bucket) Wagtail raises
`SourceImageIOError`; here the page is then shown without that image, and a WARNING names the image id
and the rendition spec (nothing else) so that someone can upload the picture again. A rendition made
before the original went missing is still shown: it has a file of its own.

Templates get the same behaviour from the `image`, `picture` and `srcset_image` tags of `practice_tags`.
"""

import logging

from wagtail.images.models import Filter, SourceImageIOError

from practice import caching

logger = logging.getLogger(__name__)

SOCIAL_IMAGE_SPEC = "fill-1200x630|format-jpeg|jpegquality-80"
SOCIAL_IMAGE_SIZE = (1200, 630)


def _spec(spec: Filter | str) -> str:
    return spec.spec if isinstance(spec, Filter) else spec


def _log_missing_original(image, specs) -> None:
    logger.warning(
        "Original file of image %s is missing: rendition %s not made, the page is shown without it",
        image.pk,
        ", ".join(_spec(spec) for spec in specs),
    )


def rendition_or_none(image, spec: Filter | str):
    """The rendition of `image` for `spec`, or None (logged) when it must be made and the original is missing."""
    try:
        return image.get_rendition(spec)
    except SourceImageIOError:
        _log_missing_original(image, [spec])
        return None


def renditions_or_none(image, specs):
    """`image.get_renditions(*specs)`, or None (logged) when one must be made and the original is missing."""
    try:
        return image.get_renditions(*specs)
    except SourceImageIOError:
        _log_missing_original(image, specs)
        return None


def social_image_url(image, request) -> str | None:
    """
    The absolute address of the 1200×630 rendition used for link previews and structured data, or None
    when it cannot be made because the original file is missing. The rendition's address is kept until
    the image changes (`practice.caching`); nothing is kept when the original is missing, so that the
    next page asks (and logs) again.
    """
    if not hasattr(image, "_social_url"):  # the link preview and the structured data both ask
        image._social_url = (
            caching.cached(f"social-image:{image.pk}", lambda: _social_rendition_url(image), keep_if=bool)
            if image.pk is not None
            else _social_rendition_url(image)
        )
    return request.build_absolute_uri(image._social_url) if image._social_url else None


def _social_rendition_url(image) -> str | None:
    caching.note(image)  # loaded before this block; its renditions count as the image
    if not hasattr(image, "prefetched_renditions"):
        prefetch_renditions([image])  # the page's own picture of it, next, finds them here if it must render
    rendition = rendition_or_none(image, SOCIAL_IMAGE_SPEC)
    return rendition.url if rendition is not None else None


def prefetch_renditions(images) -> None:
    """
    Loads the renditions of all `images` (None skipped) in one query, where Wagtail's image tags look
    for them, so that a page with several pictures does not ask once per picture.
    """
    from wagtail.images import get_image_model

    images = [image for image in images if image is not None]
    if not images:
        return
    found = {image.pk: [] for image in images}
    for rendition in get_image_model().get_rendition_model().objects.filter(image_id__in=found):
        found[rendition.image_id].append(rendition)
    for image in images:
        # One list per image, shared by every instance of it: a rendition made for one is found by the others.
        image.prefetched_renditions = found[image.pk]
        for rendition in image.prefetched_renditions:
            rendition.image = image  # its alt text comes from the image: no query back
