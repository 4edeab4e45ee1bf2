// Guanai's own small script. Pages work without it; it only adds comforts.
(function () {
  "use strict";
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
