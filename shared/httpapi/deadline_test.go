package httpapi_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rengas/rengas/shared/auth"
	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/seed"
)

// Two hundred invited providers submit concurrently in the last second
// before the deadline. Every submission must be either stored (201) or
// cleanly refused (409), and exactly the stored ones must be opened.
func TestTwoHundredBiddersAtTheDeadline(t *testing.T) {
	const n = 200
	e := newEnv(t)
	ctx := t.Context()
	d, err := e.store.GetDPS(ctx, seed.DPSID)
	if err != nil {
		t.Fatal(err)
	}
	officer := procurement.Actor{UserID: "officer-lahti", Role: procurement.RoleOfficer, Org: seed.BuyerLahti}
	users := make([]string, n)
	for i := range n {
		org := fmt.Sprintf("prov-load-%03d", i)
		u := auth.User{ID: "user-" + org, Name: org, Role: procurement.RoleProvider, Org: org}
		users[i] = u.ID
		tok, err := e.issuer.Sign(u, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[u.ID] = tok
		actor := procurement.Actor{UserID: u.ID, Role: u.Role, Org: org}
		bid := ""
		for k := 0; bid == ""; k++ {
			bid = procurement.BusinessIDFor(3100000 + 10*i + k)
		}
		if err := e.store.RegisterProvider(ctx, actor, &procurement.Provider{ID: org, Contact: procurement.Contact{Name: org, Email: "x@example.fi"},
			Party: procurement.Party{Name: org, BusinessID: bid, LegalForm: procurement.FormCompany, HomeMunicipality: "Lahti"}}); err != nil {
			t.Fatal(err)
		}
		decl, docs := seed.Declaration(d, org, []string{"job-coaching"}, 10, e.clock.Now())
		a := &procurement.Application{Categories: []string{"job-coaching"}, Declaration: decl, Documents: docs}
		if err := e.store.SubmitApplication(ctx, actor, seed.DPSID, a); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.Decide(ctx, officer, seed.DPSID, a.ID, a.Version, "job-coaching", procurement.OutcomeAdmitted, "", seed.SystemApplication); err != nil {
			t.Fatal(err)
		}
	}
	def := definition(e.clock.Now())
	id := e.publish(def)
	deadline, _ := time.Parse(time.RFC3339, def["bidDeadline"].(string))

	// 800 ms before the deadline; submissions spread over 1.6 s.
	e.clock.Set(deadline.Add(-800 * time.Millisecond))
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			time.Sleep(time.Duration(i) * 8 * time.Millisecond)
			statuses[i] = e.do(users[i], "PUT", "/competitions/"+id+"/bids/mine", offer(300000+i, 120000, 0)).status
		})
	}
	close(start)
	wg.Wait()

	accepted := map[string]bool{}
	refused := 0
	for i, st := range statuses {
		switch st {
		case 201:
			accepted[fmt.Sprintf("prov-load-%03d", i)] = true
		case 409:
			refused++
		default:
			t.Errorf("bidder %d got %d, want 201 or 409", i, st)
		}
	}
	e.openBids(deadline)
	r := e.must(e.do("officer-lahti", "GET", "/competitions/"+id, nil), 200)
	opened := int(r.body["opening"].(map[string]any)["bids"].(float64))
	bids, err := e.store.AllBids(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	for _, b := range bids {
		stored[b.ProviderID] = true
	}
	if len(accepted) == 0 || refused == 0 {
		t.Errorf("accepted %d, refused %d: the submissions should straddle the deadline", len(accepted), refused)
	}
	if opened != len(accepted) || len(stored) != len(accepted) {
		t.Errorf("accepted %d, stored %d, opened %d: every accepted bid must be stored and opened, no refused one", len(accepted), len(stored), opened)
	}
	for p := range stored {
		if !accepted[p] {
			t.Errorf("bid of %s is stored but its submission was refused", p)
		}
	}
	t.Logf("%d bids accepted before the deadline, %d refused after it", len(accepted), refused)
}

// The time of receipt, stamped by the gateway, decides whether a bid is on
// time, however late it is processed; the opening seals the invitations
// first, so a request that is still in flight after the grace cannot add
// a bid that the opening did not count.
func TestReceiptTimeDecidesAndOpeningSeals(t *testing.T) {
	e := newEnv(t)
	e.admit("prov-foundation")
	def := definition(e.clock.Now())
	id := e.publish(def)
	deadline, _ := time.Parse(time.RFC3339, def["bidDeadline"].(string))
	bids := "/competitions/" + id + "/bids/mine"

	// Received just before the deadline, served 5 s after it: on time.
	e.clock.Set(deadline.Add(5 * time.Second))
	e.lag.Store(int64(5*time.Second + 300*time.Millisecond))
	r := e.must(e.do("provider-tyopaja", "PUT", bids, offer(300000, 120000, 0)), 201)
	receivedAt, _ := time.Parse(time.RFC3339Nano, r.str("receivedAt"))
	if !receivedAt.Before(deadline) || receivedAt.Before(deadline.Add(-time.Second)) {
		t.Errorf("receivedAt = %s, want the gateway's time of receipt, just before the deadline %s", r.str("receivedAt"), deadline)
	}
	// Received exactly at the deadline: late, whenever it is served.
	e.lag.Store(int64(5 * time.Second))
	e.must(e.do("provider-college", "PUT", bids, offer(300000, 120000, 0)), 409)

	// A write that read the competition while it was published and
	// commits after the opening has sealed the invitations is refused.
	e.lag.Store(0)
	foundation := procurement.Actor{UserID: "provider-foundation", Role: procurement.RoleProvider, Org: "prov-foundation"}
	_, err := e.store.WriteBid(t.Context(), foundation, id, 0, "", "", seed.System[procurement.Competition],
		func(c *procurement.Competition, inv *procurement.Invitee, prev *procurement.Bid, now time.Time) (*procurement.Bid, string, error) {
			e.openBids(deadline) // the opening runs between this write's read and its commit
			b, err := c.PlaceBid(prev, inv, procurement.Offer{FixedFeeCents: 290000, OutcomePricesCents: map[string]int64{"employed": 120000},
				Answers: map[string]string{"individual-service": "a", "employer-network": "b", "outcome-follow-up": "c"}}, deadline.Add(-time.Second), now)
			return b, "bid.submitted", err
		})
	if procurement.ErrorCode(err) != procurement.ECONFLICT || !strings.Contains(err.Error(), "sealed") {
		t.Errorf("a bid committing after the seal: %v, want a conflict naming the seal", err)
	}

	// Received before the deadline, still in flight after the opening.
	e.lag.Store(int64(dynamo.OpeningGrace + 2*time.Second))
	e.must(e.do("provider-foundation", "PUT", bids, offer(290000, 120000, 0)), 409)
	e.must(e.do("provider-tyopaja", "PUT", bids, offer(280000, 120000, 1)), 409)
	e.lag.Store(0)

	r = e.must(e.do("officer-lahti", "GET", "/competitions/"+id, nil), 200)
	if n := r.str("opening.bids"); n != "1" {
		t.Errorf("the opening counted %s bids, want 1", n)
	}
	all, err := e.store.AllBids(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].ProviderID != "prov-tyopaja" || all[0].FixedFeeCents != 300000 {
		t.Errorf("stored bids %+v, want only the first bid of prov-tyopaja", all)
	}
	evs, err := e.store.ListEvents(t.Context(), dynamo.BidChain(id, "prov-tyopaja"), 1, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs.Items) != 1 || !strings.Contains(evs.Items[0].Summary, receivedAt.UTC().Format(time.RFC3339Nano)) {
		t.Errorf("the bid's trail does not record its time of receipt: %+v", evs.Items)
	}
}
