"""Small real images for tests, drawn with Pillow."""

import io

from django.core.files.images import ImageFile

from wagtail.images import get_image_model

from PIL import Image as PillowImage


def make_image(*, title="Test image", size=(1600, 1000), colour=(45, 106, 90)):
    buffer = io.BytesIO()
    PillowImage.new("RGB", size, colour).save(buffer, format="JPEG")
    image = get_image_model()(title=title)
    image.file = ImageFile(buffer, name="test.jpg")
    image.save()
    return image
