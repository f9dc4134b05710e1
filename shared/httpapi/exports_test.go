package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/rengas/rengas/shared/exports"
	"github.com/rengas/rengas/shared/locals3"
)

// An answer larger than a response may carry is stored for download and
// answered 303 with a link; the link gives exactly the answer. Every GET
// route that reads the database may answer so, the dossier, the CSV and
// the quarterly packages above all.
func TestLargeAnswersAreHandedOutByLink(t *testing.T) {
	e := newEnv(t)
	objects, err := locals3.Start("rengas-exports")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { objects.Close() })
	bucket, err := exports.Connect(context.Background(), objects.Endpoint, objects.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/audit/awards.csv?dpsId=lahti-ph-employment-2026", "/audit/chains/dps.lahti-ph-employment-2026/events"} {
		inline := e.must(e.do("auditor", "GET", path, nil), 200)
		e.audit.Exports, e.audit.InlineLimit = bucket, len(inline.raw)-1
		// A client that follows redirects (as browsers and e.do do) gets
		// the answer itself.
		if followed := e.must(e.do("auditor", "GET", path, nil), 200); string(followed.raw) != string(inline.raw) || followed.ctype != inline.ctype {
			t.Errorf("%s: following the link gave %q (%d bytes), want the answer itself (%d bytes, %s)", path, followed.ctype, len(followed.raw), len(inline.raw), inline.ctype)
		}
		// One that does not sees the 303 and its link.
		req, _ := http.NewRequest("GET", e.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+e.tokens["auditor"])
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		e.audit.Exports, e.audit.InlineLimit = nil, 4<<20
		if err := conforms(req, res.StatusCode, res.Header, raw); err != nil {
			t.Errorf("%s: the 303 breaks openapi.json: %v", path, err)
		}
		var link struct{ Location string }
		_ = json.Unmarshal(raw, &link)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") == "" || res.Header.Get("Location") != link.Location {
			t.Errorf("%s larger than the limit: %d %s, want 303 with the link in Location and location", path, res.StatusCode, raw)
		}
	}
}
