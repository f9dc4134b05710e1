package httpapi_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// postForm sends a browser's form upload: every field of the signed form,
// then the file, last; it returns S3's answer (not followed).
func postForm(t *testing.T, r resp, body []byte) *http.Response {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range r.body["upload"].(map[string]any)["fields"].(map[string]any) {
		mw.WriteField(k, v.(string))
	}
	w, _ := mw.CreateFormFile("file", "whatever.bin")
	w.Write(body)
	mw.Close()
	req, _ := http.NewRequest("POST", r.str("upload.url"), &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// A form upload (presigned POST, for pages without JavaScript) declares no
// size and no digest; its policy binds the key, the type, the size range,
// the declaration and the redirect; on arrival the size is measured and
// the SHA-256 computed from the bytes, and the arrived file carries them.
// What is not the declared type is refused and deleted.
func TestFormUploadMeasuredOnArrival(t *testing.T) {
	e := newEnv(t)
	e.registerNew()
	back := "https://pages.example/fi/files/arrived?doc=tax"
	// Strictness: a form upload declares no digest or size, and needs the
	// address to return to; a PUT takes no redirect.
	e.problem(e.do("provider-new", "POST", "/files", map[string]any{"name": "a.pdf", "mediaType": "application/pdf", "upload": "form", "redirect": back, "size": 10}), 400, "upload")
	e.problem(e.do("provider-new", "POST", "/files", map[string]any{"name": "a.pdf", "mediaType": "application/pdf", "upload": "form"}), 400, "redirect")
	e.problem(e.do("provider-new", "POST", "/files", map[string]any{"name": "a.pdf", "mediaType": "application/pdf", "upload": "form", "redirect": "javascript:alert(1)"}), 400, "redirect")
	e.problem(e.do("provider-new", "POST", "/files", map[string]any{"name": "a.exe", "mediaType": "application/x-msdownload", "upload": "form", "redirect": back}), 400, "mediaType")
	body := pdf("Verovelkatodistus lomakkeella")
	e.problem(e.do("provider-new", "POST", "/files", map[string]any{"name": "a.pdf", "mediaType": "application/pdf", "size": len(body), "sha256": digest(body), "redirect": back}), 400, "redirect")

	rt := e.store.RoundTrips()
	r := e.must(e.do("provider-new", "POST", "/files", map[string]any{"name": "vero.pdf", "mediaType": "application/pdf", "upload": "form", "redirect": back}), 201)
	if n := e.store.RoundTrips() - rt; n != 1 {
		t.Errorf("signing a form upload took %d DynamoDB round trips, want 1", n)
	}
	id := r.str("file.id")
	f := r.body["upload"].(map[string]any)["fields"].(map[string]any)
	if r.str("upload.method") != "POST" || f["key"] != "files/"+id || f["Content-Type"] != "application/pdf" || f["success_action_redirect"] != back || f["policy"] == nil || f["X-Amz-Signature"] == nil {
		t.Fatalf("the form's fields: %s", r.raw)
	}
	if !strings.Contains(decodePolicy(t, f["policy"].(string)), `["content-length-range",1,20971520]`) {
		t.Errorf("the policy does not bound the size: %s", decodePolicy(t, f["policy"].(string)))
	}
	res := postForm(t, r, body)
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc.String(), "https://pages.example/fi/files/arrived?") || loc.Query().Get("key") != "files/"+id || loc.Query().Get("doc") != "tax" {
		t.Fatalf("S3 answered the form %s, to %s", res.Status, loc)
	}
	rt = e.store.RoundTrips()
	a := e.must(e.do("provider-new", "POST", "/files/"+id+"/arrival", nil), 200)
	t.Logf("a form upload's arrival: %d DynamoDB round trips", e.store.RoundTrips()-rt)
	if n := e.store.RoundTrips() - rt; n != 1 {
		t.Errorf("the arrival took %d DynamoDB round trips, want 1", n)
	}
	if a.str("status") != "arrived" || a.str("sha256") != digest(body) || a.str("size") != fmt.Sprint(len(body)) || a.str("form") != "true" {
		t.Fatalf("arrived: %s", a.raw)
	}
	ev := e.must(e.do("auditor", "GET", "/audit/chains/file."+id+"/events", nil), 200)
	if !strings.Contains(string(ev.raw), digest(body)) {
		t.Errorf("the file's chain does not record the computed digest: %s", ev.raw)
	}
	// A replay of the declaration (same Idempotency-Key) gives the same form.
	decl := map[string]any{"name": "k.pdf", "mediaType": "application/pdf", "upload": "form", "redirect": back}
	one := e.must(e.doWith("provider-new", "POST", "/files", decl, map[string]string{"Idempotency-Key": "form-upload-1"}), 201)
	two := e.must(e.doWith("provider-new", "POST", "/files", decl, map[string]string{"Idempotency-Key": "form-upload-1"}), 201)
	if one.str("file.id") != two.str("file.id") || one.str("upload.fields.X-Amz-Signature") != two.str("upload.fields.X-Amz-Signature") || one.str("upload.fields.policy") != two.str("upload.fields.policy") {
		t.Errorf("a replayed form declaration signs another form:\n%s\n%s", one.raw, two.raw)
	}
	// A PNG posted where a PDF was declared is refused and deleted.
	r = e.must(e.do("provider-new", "POST", "/files", map[string]any{"name": "x.pdf", "mediaType": "application/pdf", "upload": "form", "redirect": back}), 201)
	postForm(t, r, []byte("\x89PNG\r\n\x1a\nnot a pdf"))
	bad := e.must(e.do("provider-new", "POST", "/files/"+r.str("file.id")+"/arrival", nil), 200)
	if bad.str("status") != "refused" || e.objectExists(r.str("file.id")) {
		t.Errorf("a PNG as a PDF: %s, object kept %t", bad.raw, e.objectExists(r.str("file.id")))
	}
}

func decodePolicy(t *testing.T, p string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
