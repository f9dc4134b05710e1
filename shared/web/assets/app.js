// Rengas pages work without this script; it only improves them.
// The error summary takes focus so that screen readers announce it
// (the page also sets autofocus for browsers without scripts).
(function () {
  var s = document.querySelector('.error-summary');
  if (s) { s.focus(); }
})();

// The upload page: with WebCrypto, the file's SHA-256 is computed here and
// the file is PUT to a presigned URL that binds that digest (S3 refuses
// other bytes); then the page that confirms the arrival is opened. On any
// failure (no CORS on the bucket, an old browser) the page's own form is
// sent instead: it posts the file straight to S3, which needs no script.
(function () {
  var form = document.getElementById('upload-form');
  if (!form || !window.fetch || !window.crypto || !window.crypto.subtle || !window.URLSearchParams) { return; }
  form.addEventListener('submit', function (ev) {
    var input = document.getElementById('upload-file');
    var file = input.files && input.files[0];
    if (!file || !file.arrayBuffer) { return; }
    ev.preventDefault();
    var button = document.getElementById('upload-send');
    button.disabled = true;
    var type = form.querySelector('input[name="Content-Type"]').value;
    file.arrayBuffer().then(function (buf) {
      return window.crypto.subtle.digest('SHA-256', buf);
    }).then(function (d) {
      var hex = Array.prototype.map.call(new Uint8Array(d), function (b) { return (b < 16 ? '0' : '') + b.toString(16); }).join('');
      var body = new URLSearchParams({ name: file.name, mediaType: type, size: String(file.size), sha256: hex });
      return fetch(form.getAttribute('data-put'), { method: 'POST', body: body, credentials: 'same-origin' });
    }).then(function (r) {
      if (!r.ok) { throw new Error('declare: ' + r.status); }
      return r.json();
    }).then(function (up) {
      var headers = {};
      Object.keys(up.headers).forEach(function (k) { if (k !== 'content-length') { headers[k] = up.headers[k]; } });
      return fetch(up.url, { method: 'PUT', headers: headers, body: file }).then(function (r) {
        if (!r.ok) { throw new Error('upload: ' + r.status); }
        return up.file;
      });
    }).then(function (id) {
      var back = form.getAttribute('data-return');
      window.location.assign(back + (back.indexOf('?') < 0 ? '?' : '&') + 'file=' + encodeURIComponent(id));
    }).catch(function () {
      button.disabled = false;
      form.submit();
    });
  });
})();
