package dynamo

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/truora/minidyn/server"

	"github.com/rengas/rengas/shared/procurement"
)

// historyStore holds n awarded contracts spread over two years, of every
// legal form, written with the same item builder as the award transaction.
func historyStore(b *testing.B, n int) *Store {
	engine := httptest.NewServer(server.NewServer()) // the embedded engine, on loopback
	b.Cleanup(engine.Close)
	db, err := Connect(context.Background(), engine.URL)
	if err != nil {
		b.Fatal(err)
	}
	if err := EnsureTable(context.Background(), db, "history"); err != nil {
		b.Fatal(err)
	}
	st := New(db, "history")
	start := time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC)
	var reqs []types.WriteRequest
	for i := range n {
		form := procurement.LegalForms[i%len(procurement.LegalForms)]
		c := &procurement.Competition{ID: fmt.Sprintf("c%05d", i), DPSID: "dps"}
		k := &procurement.Contract{CompetitionID: c.ID, DPSID: "dps", Buyer: "buyer-lahti", Category: "job-coaching",
			ProviderID: fmt.Sprintf("p%03d", i%300), Supplier: procurement.Party{Name: "P", BusinessID: "0201256-6", LegalForm: form},
			ValueCents: int64(1_000_000 + i*100), AwardedAt: start.Add(time.Duration(i) * (730 * 24 * time.Hour / time.Duration(n)))}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: contractItem(c, k).av()}})
	}
	for len(reqs) > 0 {
		m := min(25, len(reqs))
		out, err := db.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"history": reqs[:m]}})
		if err != nil {
			b.Fatal(err)
		}
		reqs = append(out.UnprocessedItems["history"], reqs[m:]...)
	}
	return st
}

// BenchmarkAwardHistoryPage pages through a year of a small and a large
// history, 50 per page, by date alone and filtered to NGOs. Each page is
// one Query with Limit 50: on DynamoDB at most 50 index items are read per
// page, whatever the history's size. (The embedded engine evaluates the
// date range of a filtered Query as part of the filter, so there filtered
// pages start from the partition's beginning and hold fewer matches; it
// does not report ScannedCount, so items read are not measured here.)
func BenchmarkAwardHistoryPage(b *testing.B) {
	ngo := []procurement.LegalForm{procurement.FormAssociation, procurement.FormFoundation}
	for _, n := range []int{100, 5000} {
		st := historyStore(b, n)
		for _, tc := range []struct {
			name  string
			forms []procurement.LegalForm
		}{{"by-date", nil}, {"ngo", ngo}} {
			b.Run(fmt.Sprintf("history=%d/%s", n, tc.name), func(b *testing.B) {
				f := AwardFilter{DPSID: "dps", From: "2025-06-01", To: "2026-05-31", LegalForms: tc.forms}
				trips, matches := st.RoundTrips(), 0
				cursor := ""
				for b.Loop() {
					p, err := st.AwardHistory(context.Background(), f, cursor, 50)
					if err != nil {
						b.Fatal(err)
					}
					matches += len(p.Items)
					cursor = p.Cursor
				}
				b.ReportMetric(float64(st.RoundTrips()-trips)/float64(b.N), "roundtrips/page")
				b.ReportMetric(float64(matches)/float64(b.N), "matches/page")
			})
		}
	}
}
