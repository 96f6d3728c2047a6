// Small enhancements; every page works without this file.
(function () {
  "use strict";

  function focusElement(el) {
    if (!el) return;
    if (!el.hasAttribute("tabindex")) el.setAttribute("tabindex", "-1");
    el.focus();
  }

  // After htmx replaces part of the page, move focus to the new content so
  // keyboard and screen-reader users land on it (WCAG 2.4.3, 4.1.3). An error
  // summary wins over the results heading.
  document.addEventListener("htmx:afterSettle", function () {
    focusElement(
      document.querySelector(".wijzer-error-summary[data-focus-after-swap]") ||
        document.querySelector("[data-focus-after-swap]")
    );
  });

  document.addEventListener("DOMContentLoaded", function () {
    focusElement(document.querySelector("[data-focus-on-load]"));
  });
})();
