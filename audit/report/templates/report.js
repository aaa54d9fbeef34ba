(function () {
  "use strict";
  var table = document.getElementById("findings-table");
  if (!table) { return; }
  // One tbody an episode: its heading row (id, codes), then a row a finding. A finding row is matched with its
  // episode's heading, and an episode is shown while any of its findings is.
  var groups = Array.prototype.slice.call(table.tBodies);
  var rows = Array.prototype.slice.call(table.querySelectorAll("tr[data-severity]"));
  var text = document.getElementById("filter-text");
  var severity = document.getElementById("filter-severity");
  var rule = document.getElementById("filter-rule");
  var count = document.getElementById("filter-count");
  var empty = document.getElementById("filter-empty");
  var haystack = rows.map(function (row) {
    return (row.parentNode.rows[0].textContent + " " + row.textContent).toLowerCase();
  });
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
    var episodes = 0;
    groups.forEach(function (group) {
      var any = Array.prototype.some.call(group.rows, function (row) {
        return row.hasAttribute("data-severity") && !row.hidden;
      });
      group.hidden = !any;
      if (any) { episodes += 1; }
    });
    count.textContent = shown.toLocaleString("en-GB") + " of " + rows.length.toLocaleString("en-GB") +
      " findings shown, in " + episodes.toLocaleString("en-GB") + " episodes";
    empty.hidden = shown !== 0;
  }
  text.addEventListener("input", apply);
  severity.addEventListener("change", apply);
  rule.addEventListener("change", apply);
  var params = new URLSearchParams(window.location.hash.slice(1));
  if (params.get("q")) { text.value = params.get("q"); apply(); }
}());
