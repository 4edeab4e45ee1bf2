// Guanai's own small script. Pages work without it; it only adds comforts.
(function () {
  "use strict";
  // Buttons that print the page (no inline handlers: the CSP allows no inline script).
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-action=print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  });
  // Ask before leaving a form that has unsaved input.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.grid-form").forEach(function (form) {
      var dirty = false;
      form.addEventListener("input", function () { dirty = true; });
      form.addEventListener("submit", function () { dirty = false; });
      window.addEventListener("beforeunload", function (event) {
        if (dirty) { event.preventDefault(); event.returnValue = ""; }
      });
    });
  });
})();
