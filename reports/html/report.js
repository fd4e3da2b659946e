// Sortable tables: each header of a table.sortable becomes a button (keyboard: Tab, Enter/Space)
// that sorts its rows by that column, numbers as numbers (a cell's data-sort when it has one).
// Printing unfolds every closed <details> (numbers per day, the SQL) and folds them back after:
// no stylesheet can open them. Without this script the tables read the same, in the order the
// report wrote them, and print with the folded sections folded.
(function () {
  "use strict";
  var unfolded = [];
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details:not([open])").forEach(function (d) {
      d.open = true;
      unfolded.push(d);
    });
  });
  window.addEventListener("afterprint", function () {
    unfolded.forEach(function (d) { d.open = false; });
    unfolded = [];
  });
  function key(cell) {
    var v = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
    var n = Number(v.replace(/[,%]/g, ""));
    return v !== "" && !isNaN(n) ? { n: n } : { s: v.toLowerCase() };
  }
  function compare(a, b) {
    if (a.n !== undefined && b.n !== undefined) return a.n - b.n;
    if (a.n !== undefined) return -1;
    if (b.n !== undefined) return 1;
    return a.s < b.s ? -1 : a.s > b.s ? 1 : 0;
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var headers = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(headers, function (th, col) {
      var button = document.createElement("button");
      button.type = "button";
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      button.addEventListener("click", function () {
        var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
        Array.prototype.forEach.call(headers, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) { return dir * compare(key(a.cells[col]), key(b.cells[col])); });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
})();
