package httpapi_test

import (
	"testing"
	"time"
)

// The scheduled job opens the seeded competition whose deadline passed,
// flags the overdue application to both buyers, and does nothing more when
// run again.
func TestScheduledJobIsIdempotent(t *testing.T) {
	e := newEnv(t)
	first, err := e.store.RunSchedule(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if first.Opened != 1 || first.Overdue != 2 {
		t.Errorf("first run: %+v, want 1 competition opened and 1 overdue application flagged to 2 buyers", first)
	}
	again, err := e.store.RunSchedule(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if again.Opened != 0 || again.Overdue != 0 || again.Dispatched != 0 {
		t.Errorf("second run: %+v, want nothing done", again)
	}
	r := e.must(e.do("officer-ph", "GET", "/notifications", nil), 200)
	if r.str("items.0.kind") != "application.overdue" {
		t.Errorf("buyer not told of the overdue decision: %s", r.raw)
	}
	// The overdue application leads the officers' list.
	r = e.must(e.do("officer-lahti", "GET", dpsPath+"/applications", nil), 200)
	if r.str("items.0.providerId") != "prov-social" || r.str("items.0.overdue") != "true" {
		t.Errorf("first listed: %s overdue %s, want prov-social overdue", r.str("items.0.providerId"), r.str("items.0.overdue"))
	}
	// A week later the same competition is not opened twice.
	e.clock.Advance(7 * 24 * time.Hour)
	if later, _ := e.store.RunSchedule(t.Context()); later.Opened != 0 {
		t.Errorf("later run opened %d again", later.Opened)
	}
}
