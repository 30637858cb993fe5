// Accessibility after an htmx swap of the page's content: move focus to the
// new step's heading (or to the error summary) and announce the change.
(function () {
  "use strict";

  function announce(text) {
    var region = document.getElementById("announcer");
    if (!region) return;
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "main") return;
    var summary = target.querySelector(".error-summary");
    var heading = target.querySelector("h1");
    var focus = summary || heading;
    if (focus) {
      if (!focus.hasAttribute("tabindex")) focus.setAttribute("tabindex", "-1");
      focus.focus({ preventScroll: false });
    }
    if (summary) {
      announce(summary.textContent.replace(/\s+/g, " ").trim());
    } else if (heading) {
      announce(heading.textContent.trim());
    }
  });

  // Links in the error summary focus their field.
  document.addEventListener("click", function (event) {
    var link = event.target.closest(".error-summary a[href^='#']");
    if (!link) return;
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (field) {
      event.preventDefault();
      field.focus();
    }
  });
})();
