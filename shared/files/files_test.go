package files_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
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
