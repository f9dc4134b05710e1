package web_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rengas/rengas/shared/seed"
)

// pageSet is the pages measured: each role's heaviest reads.
func pageSet(t testing.TB, e *env) []struct{ user, path string } {
	comp := competitionLink(t, e.browser("provider-tyopaja"))
	id := strings.TrimPrefix(comp, "/fi/competitions/")
	return []struct{ user, path string }{
		{"officer-lahti", "/fi/"},
		{"officer-lahti", "/fi/queue"},
		{"officer-lahti", "/fi/register"},
		{"officer-lahti", "/fi/competitions/" + id},
		{"provider-tyopaja", "/fi/"},
		{"provider-tyopaja", "/fi/competitions/" + id},
		{"provider-tyopaja", "/fi/notifications"},
		{"auditor", "/fi/audit/competitions/" + id},
		{"auditor", "/fi/audit/awards?dpsId=" + seed.DPSID},
		{"auditor", "/fi/audit/statistics"},
		{"auditor", "/fi/audit/chains?chain=dps." + seed.DPSID},
		{"auditor", "/fi/audit/open-data"},
	}
}

// TestPagesCostTheRoundTripsOfTheirAPICalls: the DynamoDB round trips of a
// page equal those of the API calls it made, replayed on their own, so a
// page adds no store access of its own.
func TestPagesCostTheRoundTripsOfTheirAPICalls(t *testing.T) {
	e := newEnv(t)
	for _, p := range pageSet(t, e) {
		b := e.browser(p.user)
		e.api.take()
		before := e.trips()
		if res := b.get(p.path); res.status != 200 {
			t.Fatalf("%s: %d", p.path, res.status)
		}
		page := e.trips() - before
		calls := e.api.take()
		before = e.trips()
		for _, r := range calls {
			e.api.h.ServeHTTP(httptest.NewRecorder(), r)
		}
		replay := e.trips() - before
		if page != replay {
			t.Errorf("%s as %s: %d round trips, its %d API calls alone %d", p.path, p.user, page, len(calls), replay)
		}
		t.Logf("%-55s %-17s %2d API calls, %3d DynamoDB round trips", p.path, p.user, len(calls), page)
	}
}

// BenchmarkPages measures each page's server time and the bytes a first
// visit transfers compressed: the HTML and its stylesheet and script.
func BenchmarkPages(b *testing.B) {
	e := newEnv(b)
	for _, p := range pageSet(b, e) {
		br := e.browser(p.user)
		b.Run(strings.NewReplacer("/", "_", "?", "_").Replace(p.user+p.path), func(b *testing.B) {
			size := func(path string) int {
				req, _ := http.NewRequest("GET", e.url+path, nil)
				req.Header.Set("Accept-Encoding", "gzip")
				res, err := br.c.Do(req)
				if err != nil || res.StatusCode != 200 {
					b.Fatalf("%s: %v %v", path, err, res)
				}
				raw, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.Header.Get("Content-Encoding") != "gzip" {
					var z bytes.Buffer
					zw := gzip.NewWriter(&z)
					zw.Write(raw)
					zw.Close()
					return z.Len()
				}
				return len(raw)
			}
			doc := br.get(p.path)
			total := size(p.path)
			for _, l := range find(doc.doc, element("link")) {
				total += size(attr(l, "href"))
			}
			for _, s := range find(doc.doc, element("script")) {
				total += size(attr(s, "src"))
			}
			b.ResetTimer()
			for b.Loop() {
				req, _ := http.NewRequest("GET", e.url+p.path, nil)
				req.Header.Set("Accept-Encoding", "gzip")
				res, err := br.c.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
			b.ReportMetric(float64(total), "bytes-gzip")
		})
	}
}
