"""Demo images drawn locally with Pillow: soft abstract shapes, nothing downloaded, no real people."""

import io
import math
import random

from PIL import Image, ImageDraw, ImageFilter

PALETTES = {
    "sage": ((238, 244, 241), (45, 106, 90), (201, 222, 210), (246, 222, 190)),
    "dawn": ((251, 244, 236), (181, 107, 69), (242, 210, 180), (196, 220, 205)),
    "sea": ((236, 243, 247), (44, 92, 120), (190, 215, 228), (230, 236, 210)),
    "meadow": ((243, 246, 234), (96, 120, 50), (214, 226, 184), (248, 226, 170)),
}


def abstract_image(*, seed: int, palette: str = "sage", size: tuple[int, int] = (1600, 1200)) -> bytes:
    """A JPEG of overlapping soft circles and a leaf-like curve, the same for the same seed."""
    rng = random.Random(seed)
    background, accent, soft, warm = PALETTES[palette]
    width, height = size
    image = Image.new("RGB", size, background)
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for _ in range(9):
        radius = rng.randint(height // 6, height // 2)
        x, y = rng.randint(0, width), rng.randint(0, height)
        colour = rng.choice((soft, warm, accent))
        alpha = 70 if colour == accent else 150
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(*colour, alpha))
    blurred = layer.filter(ImageFilter.GaussianBlur(radius=height // 20))
    image.paste(blurred, (0, 0), blurred)
    leaf = ImageDraw.Draw(image)
    points = []
    for step in range(0, 101):
        t = step / 100
        points.append((width * (0.2 + 0.6 * t), height * (0.75 - 0.45 * t + 0.12 * math.sin(t * math.pi * 2))))
    leaf.line(points, fill=accent, width=max(4, height // 120), joint="curve")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=82, optimize=True, progressive=True)
    return buffer.getvalue()
