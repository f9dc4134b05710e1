// Rengas pages work without this script; it only improves them.
// The error summary takes focus so that screen readers announce it
// (the page also sets autofocus for browsers without scripts).
(function () {
  var s = document.querySelector('.error-summary');
  if (s) { s.focus(); }
})();
