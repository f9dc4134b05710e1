package audit

import (
	"encoding/json"
	"testing"
	"time"
)

// BenchmarkVerifyCPU is the CPU cost of verifying stored events: decoding
// each from its JSON and recomputing its hash (the engine's share of a
// chain's verification is not in it).
func BenchmarkVerifyCPU(b *testing.B) {
	const n = 10000
	var head Head
	raw := make([][]byte, n)
	for i := range raw {
		ev := Event{Chain: "app.x", At: time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC), Actor: "officer-lahti", Role: "officer", Org: "buyer-lahti",
			Action: "application.info_requested", EntityType: "application", EntityID: "bench", Digest: Digest(i), Summary: "Send the certificate of insurance."}
		head = Append(head, &ev)
		raw[i], _ = json.Marshal(ev)
	}
	for b.Loop() {
		v := NewVerifier("app.x", 1)
		for _, r := range raw {
			var ev Event
			if json.Unmarshal(r, &ev) != nil || !v.Add(ev) {
				b.Fatal("broken")
			}
		}
		if res := v.Finish(head, true); !res.Valid {
			b.Fatal(res.Problem)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "s/10k-events")
}
