"""
Privacy-friendly video: turn a YouTube or Vimeo address into the address of its player on a
host that sets no tracking cookies. Nothing is fetched from the video host until the visitor asks.
"""

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_VIMEO_ID = re.compile(r"^[0-9]{6,12}$")


@dataclass(frozen=True)
class Video:
    provider: str
    video_id: str

    @property
    def player_url(self) -> str:
        if self.provider == "YouTube":
            return f"https://www.youtube-nocookie.com/embed/{self.video_id}?autoplay=1&rel=0"
        return f"https://player.vimeo.com/video/{self.video_id}?autoplay=1&dnt=1"

    @property
    def watch_url(self) -> str:
        if self.provider == "YouTube":
            return f"https://www.youtube.com/watch?v={self.video_id}"
        return f"https://vimeo.com/{self.video_id}"


def parse_video_url(url: str) -> Video | None:
    """The video that `url` points to, or None when it is not a YouTube or Vimeo video address."""
    parsed = urlparse(url.strip())
    if parsed.scheme not in ("http", "https"):
        return None
    host = (parsed.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    path_parts = [part for part in parsed.path.split("/") if part]
    candidate = None
    if host in ("youtube.com", "youtube-nocookie.com"):
        if path_parts[:1] == ["watch"]:
            candidate = parse_qs(parsed.query).get("v", [""])[0]
        elif len(path_parts) >= 2 and path_parts[0] in ("embed", "shorts", "live"):
            candidate = path_parts[1]
        if candidate and _YOUTUBE_ID.match(candidate):
            return Video("YouTube", candidate)
    elif host == "youtu.be" and path_parts:
        if _YOUTUBE_ID.match(path_parts[0]):
            return Video("YouTube", path_parts[0])
    elif host in ("vimeo.com", "player.vimeo.com"):
        numeric = [part for part in path_parts if _VIMEO_ID.match(part)]
        if numeric:
            return Video("Vimeo", numeric[0])
    return None
