// Progressive enhancement only: every page works without this file.
document.addEventListener("submit", function (e) {
  var b = e.submitter;
  if (b && b.dataset.confirm && !window.confirm(b.dataset.confirm)) { e.preventDefault(); }
});
document.addEventListener("DOMContentLoaded", function () {
  var errors = document.getElementById("errors");
  if (errors) { errors.focus(); }
});
// "Imprimer" buttons (labels): the browser's print dialog; without JS, Ctrl+P does it.
document.addEventListener("click", function (e) {
  var t = e.target.closest ? e.target.closest("[data-print]") : null;
  if (t) { window.print(); }
});
