// Small enhancements only: every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Privacy-friendly video: load the player from the video site only when the visitor asks.
  document.addEventListener("click", function (event) {
    var link = event.target.closest(".video__play");
    if (!link) return;
    var figure = link.closest("[data-video-src]");
    if (!figure) return;
    event.preventDefault();
    var frame = document.createElement("iframe");
    frame.src = figure.getAttribute("data-video-src");
    frame.title = figure.getAttribute("data-video-title") || "Video";
    frame.allow = "autoplay; fullscreen; picture-in-picture";
    frame.setAttribute("allowfullscreen", "");
    frame.referrerPolicy = "strict-origin-when-cross-origin";
    link.replaceWith(frame);
    frame.focus();
  });
})();
