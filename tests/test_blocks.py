from wagtail.blocks import StructBlockValidationError

import pytest

from practice.blocks import BaseStreamBlock, CallToActionBlock, HeadingBlock, VideoEmbedBlock


def test_every_shared_block_has_icon_template_description_and_preview():
    for name, block in BaseStreamBlock().child_blocks.items():
        assert block.meta.icon not in (None, "placeholder"), name
        assert block.meta.template, name
        assert block.get_description(), name
        assert block.is_previewable, name


def test_heading_renders_with_an_anchor():
    block = HeadingBlock()
    html = block.render(block.to_python({"text": "What is a leaky gut?", "level": "h3"}))
    assert html.strip() == '<h3 id="what-is-a-leaky-gut">What is a leaky gut?</h3>'


def test_video_block_loads_nothing_from_the_video_host():
    block = VideoEmbedBlock()
    value = block.clean(
        block.to_python({"url": "https://youtu.be/dQw4w9WgXcQ", "title": "Breathing exercise", "caption": ""})
    )
    html = block.render(value)
    assert "<iframe" not in html
    assert 'data-video-src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ' in html
    assert 'href="https://www.youtube.com/watch?v=dQw4w9WgXcQ"' in html
    assert "Play video: Breathing exercise" in html
    assert " src=" not in html


def test_video_block_rejects_other_sites():
    block = VideoEmbedBlock()
    with pytest.raises(StructBlockValidationError) as error:
        block.clean(block.to_python({"url": "https://example.com/video.mp4", "title": "A video", "caption": ""}))
    assert "YouTube or Vimeo" in str(error.value.block_errors["url"])


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,hi", "www.example.com"])
def test_call_to_action_rejects_unsafe_or_partial_addresses(url):
    block = CallToActionBlock()
    value = block.to_python({"heading": "Talk", "text": "", "button_label": "Book", "page": None, "url": url})
    with pytest.raises(StructBlockValidationError):
        block.clean(value)


def test_call_to_action_defaults_to_the_booking_page():
    block = CallToActionBlock()
    value = block.clean(block.to_python({"heading": "Talk", "text": "Soon", "button_label": "Book", "page": None}))
    assert 'href="/book/"' in block.render(value)
