SOCIAL_IMAGE_SPEC = "fill-1200x630|format-jpeg|jpegquality-80"
SOCIAL_IMAGE_SIZE = (1200, 630)


def social_image_url(image, request) -> str:
    """The absolute address of the 1200×630 rendition used for link previews and structured data."""
    return request.build_absolute_uri(image.get_rendition(SOCIAL_IMAGE_SPEC).url)
