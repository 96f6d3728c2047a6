// Small enhancements; every page works without this file.
(function () {
  "use strict";

  function focusRegion(region) {
    if (!region) return;
    var target = region.querySelector("[data-focus-after-swap]") || region;
    if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    target.focus();
  }

  // After htmx replaces part of the page, move focus there so keyboard and
  // screen-reader users hear the new content (WCAG 2.4.3, 4.1.3).
  document.addEventListener("htmx:afterSettle", function (evt) {
    var el = evt.detail.elt;
    var region = el && el.isConnected ? el : document.getElementById(evt.detail.target && evt.detail.target.id);
    if (region && region.closest) {
      var summary = region.querySelector(".wijzer-error-summary");
      focusRegion(summary ? summary.parentNode.querySelector(".wijzer-error-summary") && summary : region);
    }
  });

  // CSRF header for htmx requests that carry no form (e.g. buttons outside a form).
  document.addEventListener("htmx:configRequest", function (evt) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) evt.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
  });

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-focus-on-load]");
    if (summary) summary.focus();
  });
})();
