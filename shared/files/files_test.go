package files_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rengas/rengas/shared/files"
	"github.com/rengas/rengas/shared/locals3"
	"github.com/rengas/rengas/shared/procurement"
)

func TestSignPutInspect(t *testing.T) {
	srv, err := locals3.Start("docs")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	b, err := files.Connect(ctx, srv.Endpoint, "docs", false)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("%PDF-1.7 hello")
	sum := sha256.Sum256(body)
	f := &procurement.File{ID: "f1", Owner: "p1", UploadedBy: "u1", Name: "Tax certificate ä.pdf", MediaType: "application/pdf", Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:]), SignedAt: time.Now()}
	up, err := b.SignPut(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", up)
	req, _ := http.NewRequest(up.Method, up.URL, bytes.NewReader(body))
	for k, v := range up.Headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("PUT: %s", res.Status)
	}
	o, err := b.Inspect(ctx, "f1")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v %+v", o, o.Declared)
	if why := files.Check(f, o, 1<<20); why != "" {
		t.Fatal(why)
	}
}

// A form upload (presigned POST): the policy binds the key, the type, the
// declaration, the size range and the redirect, and signing it again gives
// the same form. Its digest is not declared: even where S3 keeps a
// checksum (VerifyDigest off, as in AWS) a form upload's arrival reads the
// whole object and computes it; Check refuses what breaks the policy, and
// Measure records the size and digest.
func TestSignPostInspectForm(t *testing.T) {
	srv, err := locals3.Start("docs")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	b, err := files.Connect(ctx, srv.Endpoint, "docs", false)
	if err != nil {
		t.Fatal(err)
	}
	b.VerifyDigest = false // as in AWS: only a form upload is read whole
	f := &procurement.File{ID: "f2", Owner: "p1", UploadedBy: "u1", Name: "vero.pdf", MediaType: "application/pdf", Form: true,
		Redirect: "https://pages.example/fi/back?x=1", SignedAt: time.Now()}
	up, err := b.SignPost(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := b.SignPost(ctx, f)
	if up.Method != "POST" || up.Fields["policy"] != again.Fields["policy"] || up.Fields["X-Amz-Signature"] != again.Fields["X-Amz-Signature"] {
		t.Fatalf("signing the same declaration again gives another form:\n%v\n%v", up, again)
	}
	raw, _ := base64.StdEncoding.DecodeString(up.Fields["policy"])
	for _, want := range []string{`{"key":"files/f2"}`, `{"Content-Type":"application/pdf"}`, `["content-length-range",1,20971520]`,
		`{"success_action_redirect":"https://pages.example/fi/back?x=1"}`, `{"x-amz-meta-rengas-owner":"p1"}`, `{"x-amz-meta-rengas-form":"true"}`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("the policy lacks %s: %s", want, raw)
		}
	}
	body := []byte("%PDF-1.7 from a form")
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range up.Fields {
		mw.WriteField(k, v)
	}
	w, _ := mw.CreateFormFile("file", "x.pdf")
	w.Write(body)
	mw.Close()
	req, _ := http.NewRequest("POST", up.URL, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "https://pages.example/fi/back?") {
		t.Fatalf("the form upload answered %s to %q", res.Status, res.Header.Get("Location"))
	}
	o, err := b.Inspect(ctx, "f2")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	if o.Declared == nil || !o.Declared.Form || o.SHA256 != hex.EncodeToString(sum[:]) || o.Size != int64(len(body)) {
		t.Fatalf("inspected: %+v declared %+v", o, o.Declared)
	}
	if why := files.Check(o.Declared, o, 1<<20); why != "" {
		t.Fatal(why)
	}
	if why := files.Check(o.Declared, o, 4); !strings.Contains(why, "over the limit") {
		t.Errorf("an object over the limit: %q", why)
	}
	files.Measure(o.Declared, o)
	if o.Declared.SHA256 != hex.EncodeToString(sum[:]) || o.Declared.Size != int64(len(body)) {
		t.Errorf("measured: %+v", o.Declared)
	}
}
