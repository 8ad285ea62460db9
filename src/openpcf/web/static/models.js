// The model editor: validate the text a moment after the last change (debounced), with htmx.
// Without this file (or without JavaScript) the "Validate" button posts the same form.
(function () {
  "use strict";
  var DELAY_MS = 600;
  function start() {
    var area = document.getElementById("model");
    var form = document.getElementById("model-form");
    if (!area || !form || !window.htmx) { return; }
    var timer = null;
    area.addEventListener("input", function () {
      if (timer) { window.clearTimeout(timer); }
      timer = window.setTimeout(function () {
        timer = null;
        window.htmx.ajax("POST", area.dataset.validateUrl, {
          source: form, target: "#model-result", swap: "outerHTML", values: {}
        });
      }, DELAY_MS);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
