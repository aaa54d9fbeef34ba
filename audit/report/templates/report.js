(function () {
  "use strict";
  var table = document.getElementById("findings-table");
  if (!table) { return; }
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var text = document.getElementById("filter-text");
  var severity = document.getElementById("filter-severity");
  var rule = document.getElementById("filter-rule");
  var count = document.getElementById("filter-count");
  var empty = document.getElementById("filter-empty");
  var haystack = rows.map(function (row) { return row.textContent.toLowerCase(); });
  function apply() {
    var words = text.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    rows.forEach(function (row, i) {
      var ok = (!severity.value || row.getAttribute("data-severity") === severity.value) &&
        (!rule.value || row.getAttribute("data-rule") === rule.value) &&
        words.every(function (w) { return haystack[i].indexOf(w) !== -1; });
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = shown.toLocaleString("en-GB") + " of " + rows.length.toLocaleString("en-GB") + " shown";
    empty.hidden = shown !== 0;
  }
  text.addEventListener("input", apply);
  severity.addEventListener("change", apply);
  rule.addEventListener("change", apply);
  var params = new URLSearchParams(window.location.hash.slice(1));
  if (params.get("q")) { text.value = params.get("q"); apply(); }
}());
