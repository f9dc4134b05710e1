package httpapi_test

import (
	"testing"

	"github.com/rengas/rengas/shared/httpapi"
)

// Open data may be cached (CloudFront keeps it in AWS, so that a repeated
// read costs no DynamoDB request); nothing else may.
func TestOpenDataIsCacheable(t *testing.T) {
	e := newEnv(t)
	r := e.must(e.do("", "GET", "/open-data/anchors", nil), 200)
	if got := r.header.Get("Cache-Control"); got != httpapi.OpenDataCacheControl {
		t.Errorf("open data Cache-Control %q, want %q", got, httpapi.OpenDataCacheControl)
	}
	for _, path := range []string{"/dps", "/notifications"} {
		if got := e.must(e.do("officer-lahti", "GET", path, nil), 200).header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s Cache-Control %q, want no-store", path, got)
		}
	}
	if got := e.do("", "GET", "/open-data/anchors/999999", nil).header.Get("Cache-Control"); got == httpapi.OpenDataCacheControl {
		t.Errorf("an error answer must not be cached for minutes: %q", got)
	}
}
