// Progressive enhancement only: every page works without this file.
document.addEventListener("submit", function (e) {
  var b = e.submitter;
  if (b && b.dataset.confirm && !window.confirm(b.dataset.confirm)) { e.preventDefault(); }
});
document.addEventListener("DOMContentLoaded", function () {
  var errors = document.getElementById("errors");
  if (errors) { errors.focus(); }
});
