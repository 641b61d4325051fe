import pytest

from practice.video import parse_video_url


@pytest.mark.parametrize(
    ("url", "provider", "video_id"),
    [
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "YouTube", "dQw4w9WgXcQ"),
        ("https://youtu.be/dQw4w9WgXcQ", "YouTube", "dQw4w9WgXcQ"),
        ("https://m.youtube.com/watch?v=dQw4w9WgXcQ&t=10", "YouTube", "dQw4w9WgXcQ"),
        ("https://www.youtube.com/embed/dQw4w9WgXcQ", "YouTube", "dQw4w9WgXcQ"),
        ("https://www.youtube.com/shorts/dQw4w9WgXcQ", "YouTube", "dQw4w9WgXcQ"),
        ("https://vimeo.com/76979871", "Vimeo", "76979871"),
        ("https://player.vimeo.com/video/76979871", "Vimeo", "76979871"),
    ],
)
def test_parse_video_url_recognises_youtube_and_vimeo(url, provider, video_id):
    video = parse_video_url(url)
    assert (video.provider, video.video_id) == (provider, video_id)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/watch?v=dQw4w9WgXcQ",
        "javascript:alert(1)",
        "https://www.youtube.com/watch?v=short",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ%22onload",
        "https://vimeo.com/channels/staffpicks",
        "ftp://youtu.be/dQw4w9WgXcQ",
    ],
)
def test_parse_video_url_refuses_other_addresses(url):
    assert parse_video_url(url) is None


def test_player_url_uses_the_no_cookie_hosts():
    assert parse_video_url("https://youtu.be/dQw4w9WgXcQ").player_url.startswith("https://www.youtube-nocookie.com/")
    assert "dnt=1" in parse_video_url("https://vimeo.com/76979871").player_url
