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

  // On a narrow screen each table row is shown as a block (wijzer.css); every cell then
  // needs its column name in front. Templates may set data-label themselves; the rest
  // get the text of their column header here.
  function labelCells(root) {
    root.querySelectorAll("table.wijzer-table").forEach(function (table) {
      var heads = [];
      table.querySelectorAll("thead tr:last-child th").forEach(function (th) {
        var span = parseInt(th.getAttribute("colspan") || "1", 10);
        for (var i = 0; i < span; i++) heads.push(th.textContent.replace(/\s+/g, " ").trim());
      });
      table.querySelectorAll("tbody tr").forEach(function (tr) {
        var col = 0;
        Array.prototype.forEach.call(tr.children, function (cell) {
          if (cell.tagName === "TD" && !cell.hasAttribute("data-label")) {
            cell.setAttribute("data-label", heads[col] || "");
          }
          col += parseInt(cell.getAttribute("colspan") || "1", 10);
        });
      });
    });
  }

  document.addEventListener("htmx:afterSettle", function () { labelCells(document); });

  // "Alles kiezen" and "Niets kiezen" for the checkboxes of one form (also boxes tied to
  // it with a form attribute, as in a table outside the form); without this file the
  // buttons stay hidden and every box can still be ticked one by one.
  function selectButtons(root) {
    root.querySelectorAll("[data-select-all]").forEach(function (bar) {
      if (bar.hasAttribute("data-select-ready")) return;
      bar.setAttribute("data-select-ready", "");
      var form = bar.closest("form");
      var name = bar.getAttribute("data-select-all");
      bar.querySelectorAll("button[data-select]").forEach(function (button) {
        button.hidden = false;
        button.addEventListener("click", function () {
          var on = button.getAttribute("data-select") === "all";
          Array.prototype.forEach.call(form.elements, function (box) {
            if (box.type === "checkbox" && box.name === name) box.checked = on;
          });
        });
      });
    });
  }

  document.addEventListener("htmx:afterSettle", function () { selectButtons(document); });

  // Back on a run after pinning a row (the address ends in #rij-...): focus lands on
  // that row, so a keyboard user goes on where they were.
  function focusTarget() {
    var id = window.location.hash.slice(1);
    if (id.indexOf("rij-") !== 0) return;
    focusElement(document.getElementById(id));
  }

  document.addEventListener("DOMContentLoaded", function () {
    labelCells(document);
    selectButtons(document);
    focusElement(document.querySelector("[data-focus-on-load]"));
    focusTarget();
  });
})();
