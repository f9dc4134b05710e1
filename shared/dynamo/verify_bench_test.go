package dynamo_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/localdb"
)

// BenchmarkVerifyLongChain verifies a chain of 20,000 events (set
// RENGAS_CHAIN_EVENTS=100000 for the figures in the README: writing them
// to the embedded engine takes minutes), written directly rather than
// through 100,000 transactions, on the strict engine, which ends each
// Query page after 1 MB as DynamoDB does. It reports the time and the
// Queries per 10,000 events: whole, and the last 10,000 events from the
// anchored hash before them (a checkpoint). The round trips do not depend
// on the engine; the time here is the engine's and this machine's.
func BenchmarkVerifyLongChain(b *testing.B) {
	n := 20000
	if v, err := strconv.Atoi(os.Getenv("RENGAS_CHAIN_EVENTS")); err == nil && v > 10000 {
		n = v
	}
	eng, err := localdb.Start(":0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { eng.Close() })
	ctx := context.Background()
	db, err := eng.Open(ctx, "longchain")
	if err != nil {
		b.Fatal(err)
	}
	st := dynamo.New(db, "longchain")
	const chain = "app.long"
	start := time.Now()
	if err := dynamo.WriteChainForTest(ctx, st, chain, n, int64(n-10000)); err != nil {
		b.Fatal(err)
	}
	b.Logf("wrote %d events in %v", n, time.Since(start).Round(time.Millisecond))
	for _, tc := range []struct {
		name     string
		from     int64
		verified int
	}{{fmt.Sprintf("whole-%d", n), 1, n}, {"last-10000-from-anchor", int64(n - 10000 + 1), 10000}} {
		b.Run(tc.name, func(b *testing.B) {
			var elapsed time.Duration
			trips := int64(0)
			for b.Loop() {
				t0, r0 := time.Now(), st.RoundTrips()
				res, err := st.VerifyChain(ctx, chain, tc.from, 0)
				elapsed += time.Since(t0)
				trips += st.RoundTrips() - r0
				if err != nil || !res.Valid || res.Checked != tc.verified {
					b.Fatalf("verify: %+v %v", res, err)
				}
			}
			per := float64(b.N) * float64(tc.verified) / 10000
			b.ReportMetric(elapsed.Seconds()/per, "s/10k-events")
			b.ReportMetric(float64(trips)/per, "roundtrips/10k-events")
		})
	}
}
