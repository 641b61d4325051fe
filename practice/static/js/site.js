// Small enhancements only: every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Booking: show times in the visitor's own zone. Links into the booking steps carry it, so that the
  // time picker is built once, in that zone. Without JavaScript the practice's zone is used and the
  // visitor can still pick another from the list.
  var visitorZone = window.Intl && Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (visitorZone) {
    Array.prototype.forEach.call(document.querySelectorAll('a[href^="/book/"]'), function (link) {
      var url = new URL(link.getAttribute("href"), window.location.href);
      if (url.pathname.indexOf("/book/manage/") === 0 || url.searchParams.has("tz")) return;
      url.searchParams.set("tz", visitorZone);
      link.setAttribute("href", url.pathname + url.search + url.hash);
    });
  }

  // Someone who came to the time picker by a link without the zone (typed, bookmarked): show it again
  // in their zone.
  var zoneSelect = document.querySelector("[data-zone-select]");
  if (zoneSelect && window.Intl && !/[?&]tz=/.test(window.location.search)) {
    var detected = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (detected && detected !== zoneSelect.value) {
      var known = Array.prototype.some.call(zoneSelect.options, function (option) { return option.value === detected; });
      if (!known) zoneSelect.add(new Option(detected.replace(/_/g, " "), detected));
      zoneSelect.value = detected;
      zoneSelect.form.submit();
    }
  }

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
