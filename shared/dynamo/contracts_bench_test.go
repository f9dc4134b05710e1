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

	"github.com/rengas/rengas/shared/outcomes"
)

// ledgerStore holds one active contract with n ledger entries and its
// balance, written with the same item builders as the store's transactions
// (25 per BatchWriteItem rather than n transactions).
func ledgerStore(b *testing.B, n int) (*Store, *outcomes.Contract) {
	engine := httptest.NewServer(server.NewServer())
	b.Cleanup(engine.Close)
	db, err := Connect(context.Background(), engine.URL)
	if err != nil {
		b.Fatal(err)
	}
	if err := EnsureTable(context.Background(), db, "ledger"); err != nil {
		b.Fatal(err)
	}
	st := New(db, "ledger")
	k := &outcomes.Contract{ID: outcomes.ContractID("comp", "prov"), CompetitionID: "comp", DPSID: "dps", Buyer: "buyer-lahti", ProviderID: "prov",
		Status: outcomes.Active, Terms: &outcomes.Terms{Places: 20, CeilingCents: 1 << 40, OutcomeCapCents: 1 << 39}, Version: 2}
	reqs := []types.WriteRequest{{PutRequest: &types.PutRequest{Item: st.oconItem(k).av()}}}
	bal := item{key: balanceKey(k.ID), Type: "balance", Data: []byte("{}"), Extras: map[string]types.AttributeValue{"entries": num(int64(n)), "payable": num(int64(n) * 100)}}
	reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: bal.av()}})
	at := time.Date(2027, 2, 1, 10, 0, 0, 0, time.UTC)
	for i := range n {
		e := &outcomes.Entry{ID: outcomes.EntryID(int64(i + 1)), Seq: int64(i + 1), ContractID: k.ID, Kind: outcomes.FixedFee, Day: "2027-02-01",
			AmountCents: 100, PayableCents: 100, By: "officer-lahti", At: at, Version: 1}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: entryItem(e).av()}})
	}
	for len(reqs) > 0 {
		m := min(25, len(reqs))
		out, err := db.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"ledger": reqs[:m]}})
		if err != nil {
			b.Fatal(err)
		}
		reqs = append(out.UnprocessedItems["ledger"], reqs[m:]...)
	}
	return st, k
}

// BenchmarkContractBalance reads a contract with its balance at 10 and at
// 10,000 ledger entries: one BatchGetItem either way.
func BenchmarkContractBalance(b *testing.B) {
	for _, n := range []int{10, 10000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			st, k := ledgerStore(b, n)
			start := st.RoundTrips()
			for b.Loop() {
				_, bal, err := st.ReadContract(context.Background(), "comp", "prov", func(*outcomes.Contract) error { return nil })
				if err != nil || bal.Entries != int64(n) || bal.PayableCents != int64(n)*100 {
					b.Fatalf("balance %+v: %v", bal, err)
				}
			}
			b.ReportMetric(float64(st.RoundTrips()-start)/float64(b.N), "roundtrips/op")
			_ = k
		})
	}
}
