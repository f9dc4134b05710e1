package dynamo_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/ocds"
)

// lastMonth is a moment in the month before the store's now.
func lastMonth(st *dynamo.Store) time.Time {
	n := st.Now().UTC()
	return time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 1)
}

// A process's release package is one Query for up to 100 releases, in
// date order; the feed's page of 100 from one month is one Query too, and
// following its position gives the rest, in order, none twice.
func TestReleaseReadsRoundTrips(t *testing.T) {
	st, _ := seeded(t)
	ctx := context.Background()
	ocid := ocds.OCID("long-procedure")
	start := lastMonth(st)
	if err := dynamo.WriteReleasesForTest(ctx, st, ocid, 100, start, time.Minute); err != nil {
		t.Fatal(err)
	}
	before := st.RoundTrips()
	rels, err := st.Releases(ctx, ocid)
	if err != nil {
		t.Fatal(err)
	}
	if trips := st.RoundTrips() - before; len(rels) != 100 || trips != 1 {
		t.Errorf("release package: %d releases in %d round trips, want 100 in 1", len(rels), trips)
	}
	for i := 1; i < len(rels); i++ {
		if !rels[i].At.After(rels[i-1].At) {
			t.Errorf("release %d is not after release %d", i, i-1)
		}
	}

	// A package's pages: 30 at a time after the last position, in order,
	// each release once.
	var paged []dynamo.StoredRelease
	pos := ""
	for range 10 {
		page, more, err := st.ReleasesAfter(ctx, ocid, pos, 30)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, page...)
		if !more {
			break
		}
		pos = page[len(page)-1].Pos
	}
	if len(paged) != 100 || string(paged[99].Raw) != string(rels[99].Raw) || string(paged[30].Raw) != string(rels[30].Raw) {
		t.Errorf("paged: %d releases, want the 100 in order", len(paged))
	}
	if _, _, err := st.ReleasesAfter(ctx, ocds.OCID("other"), rels[5].Pos, 30); err == nil {
		t.Error("a position of another process is accepted")
	}

	since := time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC)
	before = st.RoundTrips()
	page, err := st.ReleaseFeed(ctx, since, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if trips := st.RoundTrips() - before; len(page.Releases) != 100 || trips != 1 || !page.Full {
		t.Errorf("feed page: %d releases in %d round trips (full %t), want 100 in 1", len(page.Releases), trips, page.Full)
	}
	// The rest of the feed (the seeded ring's releases, this month, once
	// older than the lag) follows the position, with nothing repeated.
	seen := map[string]bool{}
	for _, r := range page.Releases {
		var h struct{ ID string }
		_ = json.Unmarshal(r.Raw, &h)
		seen[h.ID] = true
	}
	rest, err := st.ReleaseFeed(ctx, time.Time{}, page.After, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rest.Releases {
		var h struct{ ID string }
		_ = json.Unmarshal(r.Raw, &h)
		if seen[h.ID] {
			t.Errorf("release %s is served twice", h.ID)
		}
	}
	if _, err := st.ReleaseFeed(ctx, time.Time{}, "bm90IGEgcG9zaXRpb24", 100); err == nil {
		t.Error("a forged position is accepted")
	}
}

// BenchmarkReleasePackage: reading a process's 100 releases. Target: 1.
func BenchmarkReleasePackage(b *testing.B) {
	st, _ := seeded(b)
	ocid := ocds.OCID("long-procedure")
	if err := dynamo.WriteReleasesForTest(context.Background(), st, ocid, 100, lastMonth(st), time.Minute); err != nil {
		b.Fatal(err)
	}
	m := &meter{st: st}
	for b.Loop() {
		m.measure(func() {
			if rels, err := st.Releases(context.Background(), ocid); err != nil || len(rels) != 100 {
				b.Fatal(len(rels), err)
			}
		})
	}
	m.report(b)
}

// BenchmarkReleaseFeedPage: a feed page of 100 releases, from one month
// (target 1) and spread over four months (one Query per month).
func BenchmarkReleaseFeedPage(b *testing.B) {
	for _, tc := range []struct {
		name   string
		months int
	}{{"one-month", 1}, {"four-months", 4}} {
		b.Run(tc.name, func(b *testing.B) {
			st, _ := seeded(b)
			start := lastMonth(st).AddDate(0, -(tc.months - 1), 0)
			step := time.Duration(tc.months) * 28 * 24 * time.Hour / 100
			if tc.months == 1 {
				step = time.Minute
			}
			if err := dynamo.WriteReleasesForTest(context.Background(), st, ocds.OCID("feed"), 100, start, step); err != nil {
				b.Fatal(err)
			}
			since := time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC)
			m := &meter{st: st}
			for b.Loop() {
				m.measure(func() {
					if p, err := st.ReleaseFeed(context.Background(), since, "", 100); err != nil || len(p.Releases) != 100 {
						b.Fatal(len(p.Releases), err)
					}
				})
			}
			m.report(b)
		})
	}
}
