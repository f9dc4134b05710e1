package dynamo_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/localdb"
	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/seed"
)

var tables atomic.Int64

// seeded returns a store with the demo ring on a fresh table.
func seeded(tb testing.TB) (*dynamo.Store, *dynamo.Clock) {
	tb.Helper()
	eng, err := localdb.Start(":0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { eng.Close() })
	table := fmt.Sprintf("b%d", tables.Add(1))
	db, err := eng.Open(context.Background(), table)
	if err != nil {
		tb.Fatal(err)
	}
	st := dynamo.New(db, table)
	clock := &dynamo.Clock{}
	st.Now = clock.Now
	if err := seed.Load(context.Background(), st); err != nil {
		tb.Fatal(err)
	}
	return st, clock
}

// meter counts the DynamoDB requests of the measured calls only, so that
// set-up inside the loop does not inflate the figure.
type meter struct {
	st    *dynamo.Store
	trips int64
}

// measure runs f and adds its round trips.
func (m *meter) measure(f func()) {
	before := m.st.RoundTrips()
	f()
	m.trips += m.st.RoundTrips() - before
}

func (m *meter) report(b *testing.B) {
	b.ReportMetric(float64(m.trips)/float64(b.N), "roundtrips/op")
}

var provider = procurement.Actor{UserID: "provider-tyopaja", Role: procurement.RoleProvider, Org: "prov-tyopaja"}

func openCompetition(b testing.TB, st *dynamo.Store) string {
	officer := procurement.Actor{UserID: "officer-lahti", Role: procurement.RoleOfficer, Org: seed.BuyerLahti}
	c, err := st.CreateCompetition(context.Background(), officer, seed.DPSID, seed.DemoDefinition(st.Now()), seed.System[procurement.DPS])
	if err != nil {
		b.Fatal(err)
	}
	if c, err = st.PublishCompetition(context.Background(), officer, c.ID, c.Version, seed.System[procurement.Competition]); err != nil {
		b.Fatal(err)
	}
	return c.ID
}

func place(fee int64) func(c *procurement.Competition, inv *procurement.Invitee, prev *procurement.Bid, now time.Time) (*procurement.Bid, string, error) {
	return func(c *procurement.Competition, inv *procurement.Invitee, prev *procurement.Bid, now time.Time) (*procurement.Bid, string, error) {
		b, err := c.PlaceBid(prev, inv, procurement.Offer{FixedFeeCents: fee,
			OutcomePricesCents: map[string]int64{procurement.MilestoneEmployed: 100000},
			Answers:            map[string]string{"individual-service": "a", "employer-network": "b", "outcome-follow-up": "c"}}, now, now)
		return b, "bid.submitted", err
	}
}

// BenchmarkSubmitBid: a first bid, with an Idempotency-Key. Target: 2.
func BenchmarkSubmitBid(b *testing.B) {
	st, _ := seeded(b)
	m := &meter{st: st}
	for i := 0; b.Loop(); i++ {
		comp := openCompetition(b, st)
		m.measure(func() {
			if _, err := st.WriteBid(context.Background(), provider, comp, 0, fmt.Sprint("key-", i), "d", seed.System[procurement.Competition], place(300000)); err != nil {
				b.Fatal(err)
			}
		})
	}
	m.report(b)
}

// BenchmarkReplaceBid: replacing one's own bid. Target: 2.
func BenchmarkReplaceBid(b *testing.B) {
	st, _ := seeded(b)
	comp := openCompetition(b, st)
	m := &meter{st: st}
	for i := 0; b.Loop(); i++ {
		m.measure(func() {
			if _, err := st.WriteBid(context.Background(), provider, comp, i, "", "", seed.System[procurement.Competition], place(int64(300000+i))); err != nil {
				b.Fatal(err)
			}
		})
	}
	m.report(b)
}

// BenchmarkReadCompetition: reading a competition. Target: 1.
func BenchmarkReadCompetition(b *testing.B) {
	st, _ := seeded(b)
	comp := openCompetition(b, st)
	m := &meter{st: st}
	for b.Loop() {
		m.measure(func() {
			if _, err := st.ReadCompetition(context.Background(), comp); err != nil {
				b.Fatal(err)
			}
		})
	}
	m.report(b)
}

// BenchmarkDecideApplication: an officer's decision, which writes the
// application, the admission, the category's membership version, the
// notification and the audit event in one transaction.
func BenchmarkDecideApplication(b *testing.B) {
	st, _ := seeded(b)
	officer := procurement.Actor{UserID: "officer-lahti", Role: procurement.RoleOfficer, Org: seed.BuyerLahti}
	d, _ := st.GetDPS(context.Background(), seed.DPSID)
	m := &meter{st: st}
	for i := 0; b.Loop(); i++ {
		org := fmt.Sprintf("prov-bench-%d", i)
		actor := procurement.Actor{UserID: org, Role: procurement.RoleProvider, Org: org}
		bid := ""
		for k := 0; bid == ""; k++ {
			bid = procurement.BusinessIDFor(4000000 + 10*i + k)
		}
		if err := st.RegisterProvider(context.Background(), actor, &procurement.Provider{ID: org,
			Party: procurement.Party{Name: org, BusinessID: bid, LegalForm: procurement.FormCompany, HomeMunicipality: "Lahti"}}); err != nil {
			b.Fatal(err)
		}
		decl, docs := seed.Declaration(d, org, []string{"ips-coaching"}, 1, st.Now())
		a := &procurement.Application{Categories: []string{"ips-coaching"}, Declaration: decl, Documents: docs}
		if err := st.SubmitApplication(context.Background(), actor, seed.DPSID, a); err != nil {
			b.Fatal(err)
		}
		m.measure(func() {
			if _, err := st.Decide(context.Background(), officer, seed.DPSID, a.ID, a.Version, "ips-coaching", procurement.OutcomeAdmitted, "", seed.SystemApplication); err != nil {
				b.Fatal(err)
			}
		})
	}
	m.report(b)
}
