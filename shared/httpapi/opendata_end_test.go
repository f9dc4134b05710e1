package httpapi_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/ocds/ocdstest"
	"github.com/rengas/rengas/shared/seed"
	"github.com/rengas/rengas/shared/workdays"
)

// When a DPS's validity ends, the scheduled job publishes its end once:
// a tenderUpdate release whose tender is complete and whose DPS is
// terminated, however often and however concurrently the job runs.
func TestDPSEndIsPublishedOnce(t *testing.T) {
	e := newEnv(t)
	o := &openData{e: e, schemas: ocdstest.Build(t), seen: map[string]string{}, count: map[string]int{}}
	path := "/open-data/dps/" + seed.DPSID + "/ocds"
	n := len(o.fetch(path, false).Releases)

	r, err := e.store.RunSchedule(t.Context())
	if err != nil || r.Ended != 0 {
		t.Fatalf("while the DPS runs: %+v %v", r, err)
	}
	d, err := e.store.GetDPS(t.Context(), seed.DPSID)
	if err != nil {
		t.Fatal(err)
	}
	until, _ := time.ParseInLocation(time.DateOnly, d.ValidUntil, workdays.Helsinki)
	e.clock.Set(until.Add(24*time.Hour + time.Minute)) // just after midnight after its last day

	var wg sync.WaitGroup
	ended := make([]int, 3)
	for i := range ended {
		wg.Go(func() {
			r, err := e.store.RunSchedule(t.Context())
			if err != nil {
				t.Error(err)
			}
			ended[i] = r.Ended
		})
	}
	wg.Wait()
	if ended[0]+ended[1]+ended[2] != 1 {
		t.Errorf("concurrent runs published the end %v times, want once in all", ended)
	}
	if r, err := e.store.RunSchedule(t.Context()); err != nil || r.Ended != 0 {
		t.Errorf("a later run: %+v %v; want nothing more", r, err)
	}
	// Once published, the step costs the DPS list and one BatchGetItem.
	before := e.store.RoundTrips()
	if n, err := e.store.EndDPSs(t.Context()); err != nil || n != 0 {
		t.Errorf("EndDPSs again: %d %v", n, err)
	}
	if trips := e.store.RoundTrips() - before; trips != 2 {
		t.Errorf("EndDPSs with nothing left to end took %d round trips, want 2", trips)
	} else {
		t.Logf("EndDPSs with the end published: %d DynamoDB round trips", trips)
	}
	rec := o.process(path, n+1, "tenderUpdate")
	tn := rec.Records[0].CompiledRelease.Tender
	if tn.Status != "complete" || tn.Techniques == nil || tn.Techniques.DynamicPurchasingSystem.Status != "terminated" {
		t.Errorf("ended DPS: tender %s, techniques %+v; want complete and terminated", tn.Status, tn.Techniques)
	}
	for _, l := range tn.Lots {
		if l.Status != "complete" {
			t.Errorf("category %s is %s, want complete", l.ID, l.Status)
		}
	}
	// The end is on the DPS's audit trail, once, and the chain verifies.
	events := e.must(e.do("auditor", "GET", "/audit/chains/"+dynamo.DPSChain(seed.DPSID)+"/events?limit=100", nil), 200)
	if c := strings.Count(string(events.raw), `"dps.ended"`); c != 1 {
		t.Errorf("the DPS's chain has %d dps.ended events, want 1", c)
	}
	if v := e.must(e.do("auditor", "GET", "/audit/chains/"+dynamo.DPSChain(seed.DPSID)+"/verification", nil), 200); v.body["valid"] != true {
		t.Errorf("the DPS's chain does not verify: %s", v.raw)
	}
}

// The OCDS routes answer 304 Not Modified, with no body, when
// If-None-Match names their current ETag, and the document again once it
// changed.
func TestOpenDataNotModified(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/open-data/dps/" + seed.DPSID + "/ocds", "/open-data/dps/" + seed.DPSID + "/ocds/record"} {
		first := e.must(e.do("", "GET", path, nil), 200)
		etag := first.header.Get("ETag")
		if etag == "" {
			t.Fatalf("%s has no ETag", path)
		}
		for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
			r := e.doWith("", "GET", path, nil, map[string]string{"If-None-Match": inm})
			if r.status != 304 || len(r.raw) != 0 || r.header.Get("ETag") != etag || r.header.Get("Cache-Control") == "" {
				t.Errorf("%s If-None-Match %s: %d %q ETag %q; want 304, no body, the same ETag", path, inm, r.status, r.raw, r.header.Get("ETag"))
			}
		}
		if r := e.doWith("", "GET", path, nil, map[string]string{"If-None-Match": `"stale"`}); r.status != 200 || string(r.raw) != string(first.raw) {
			t.Errorf("%s with a stale ETag: %d; want 200 and the document", path, r.status)
		}
	}
	// A change makes the old ETag stale.
	path := "/open-data/dps/" + seed.DPSID + "/ocds"
	etag := e.must(e.do("", "GET", path, nil), 200).header.Get("ETag")
	e.admit("prov-foundation")
	if r := e.doWith("", "GET", path, nil, map[string]string{"If-None-Match": etag}); r.status != 200 || r.header.Get("ETag") == etag {
		t.Errorf("after an admission: %d ETag %s; want 200 with a new ETag", r.status, r.header.Get("ETag"))
	}
}
