package dynamo_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/seed"
)

// Contention: 200 providers register at once, then each applies to the
// same DPS and is admitted at once, through the strict engine, which
// cancels a transaction that touches an item another transaction holds,
// as DynamoDB does. No cancellation may name a chain head: chains are per
// entity, so no two of these requests append to the same chain. What
// remains is the category's membership version, which every admission
// in a category increments on purpose (publication commits on it).
//
// Under the race detector the embedded engine, which serves one request
// at a time, is slow, so 40 callers take part; the figures in the README
// are from a run without it.
func TestContentionOnChainHeads(t *testing.T) {
	n := 200
	if raceDetector {
		n = 40
	}
	st, _ := seeded(t)
	// The test counts cancelled transactions, not latency: a loaded
	// machine (other test packages run beside it) must not turn waiting
	// for the one-request-at-a-time engine into timeouts.
	st.Timeout = 60 * time.Second
	ctx := context.Background()
	officer := procurement.Actor{UserID: "officer-lahti", Role: procurement.RoleOfficer, Org: seed.BuyerLahti}
	d, err := st.GetDPS(ctx, seed.DPSID)
	if err != nil {
		t.Fatal(err)
	}
	cats := []string{"job-coaching", "ips-coaching", "rehabilitative-work", "immigrant-coaching"}
	actors := make([]procurement.Actor, n)
	for i := range actors {
		org := fmt.Sprintf("prov-load-%03d", i)
		actors[i] = procurement.Actor{UserID: org, Role: procurement.RoleProvider, Org: org}
	}
	run := func(phase string, f func(i int) error) {
		t.Helper()
		tx0, _ := st.Cancellations()
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { errs[i] = f(i) })
		}
		wg.Wait()
		failed, busy, slow := 0, 0, 0
		for i, err := range errs {
			switch {
			case procurement.ErrorCode(err) == procurement.ECONFLICT && strings.Contains(err.Error(), "busy"):
				// Cancelled on every attempt (the reasons are counted
				// below): the caller is told to try again.
				busy++
			case procurement.ErrorCode(err) == procurement.EUNAVAILABLE:
				// The embedded engine answers one request at a time; on a
				// loaded machine some calls overrun the store's 3 s.
				slow++
			case err != nil:
				failed++
				if failed <= 3 {
					t.Errorf("%s %d: %v", phase, i, err)
				}
			}
		}
		if slow > n/2 {
			t.Fatalf("%s: %d of %d calls timed out: the machine is too loaded for the figures to mean anything", phase, slow, n)
		}
		tx1, _ := st.Cancellations()
		t.Logf("%s: %d concurrent, %d failed, %d gave up as busy after %d attempts, %d timed out, %d transactions cancelled", phase, n, failed, busy, 12, slow, tx1-tx0)
	}
	run("registrations", func(i int) error {
		bid := ""
		for k := 0; bid == ""; k++ {
			bid = procurement.BusinessIDFor(5000000 + 10*i + k)
		}
		return st.RegisterProvider(ctx, actors[i], &procurement.Provider{ID: actors[i].Org,
			Party: procurement.Party{Name: actors[i].Org, BusinessID: bid, LegalForm: procurement.FormCompany, HomeMunicipality: "Lahti"}})
	})
	run("applications and admissions", func(i int) error {
		cat := cats[i%len(cats)]
		decl, docs := seed.Declaration(d, actors[i].Org, []string{cat}, 1, st.Now())
		a := &procurement.Application{Categories: []string{cat}, Declaration: decl, Documents: docs}
		if err := st.SubmitApplication(ctx, actors[i], seed.DPSID, a); err != nil {
			return err
		}
		_, err := st.Decide(ctx, officer, seed.DPSID, a.ID, a.Version, cat, procurement.OutcomeAdmitted, "", seed.SystemApplication)
		return err
	})
	total, reasons := st.Cancellations()
	var lines []string
	onChains := int64(0)
	for r, k := range reasons {
		lines = append(lines, fmt.Sprintf("%6d  %s on %s / %s", k, r.Code, r.PK, r.SK))
		if strings.HasPrefix(r.PK, "CHAIN#") {
			onChains += k
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(lines)))
	t.Logf("%d transactions cancelled in all; reasons by item:", total)
	for i, l := range lines {
		if i == 12 {
			t.Logf("  ... %d more items", len(lines)-i)
			break
		}
		t.Logf("  %s", l)
	}
	if onChains > 0 {
		t.Errorf("%d cancellation reasons named a chain's head or event: unrelated writes still share a chain", onChains)
	}
}
