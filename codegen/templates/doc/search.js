// Filters the register maps and register descriptions by name or offset
// (each carries a lower-case key in data-k); the only script of the page.
(function () {
  "use strict";
  var q = document.getElementById("q");
  var count = document.getElementById("count");
  var items = document.querySelectorAll("[data-k]");
  var total = document.querySelectorAll("section.reg").length;
  var timer = 0;
  function apply() {
    var t = q.value.trim().toLowerCase();
    var shown = 0;
    for (var i = 0; i < items.length; i++) {
      var e = items[i];
      var hit = t === "" || e.getAttribute("data-k").indexOf(t) >= 0;
      e.hidden = !hit;
      if (hit && e.tagName === "SECTION") {
        shown++;
      }
    }
    count.textContent = t === "" ? total + " registers" : shown + " of " + total + " registers";
  }
  q.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(apply, 60);
  });
})();
