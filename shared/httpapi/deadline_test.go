package httpapi_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rengas/rengas/shared/auth"
	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/seed"
)

// Two hundred invited providers submit concurrently around the deadline,
// 800 ms before it to 800 ms after. Every answer must agree with the time
// the gateway stamped on its request (stored before the deadline, refused
// at or after it), and exactly the stored bids must be opened.
func TestTwoHundredBiddersAtTheDeadline(t *testing.T) {
	const n = 200
	e := newEnv(t)
	users := e.loadProviders(n)
	res := e.rush(users, n, func(i int) time.Duration { return time.Duration(i) * 8 * time.Millisecond }, 800*time.Millisecond)
	if res.accepted == 0 || res.refused == 0 {
		t.Errorf("accepted %d, refused %d: the submissions should straddle the deadline", res.accepted, res.refused)
	}
	t.Logf("%d bids accepted before the deadline, %d refused after it", res.accepted, res.refused)
}

// rushResult is what a rush of bids came to.
type rushResult struct {
	accepted, refused, unknown, landed int
	// stampedLate counts bids sent before the deadline that the gateway
	// received at or after it.
	stampedLate int
	latency     []time.Duration
}

// rush publishes a competition, sets the clock lead before its deadline
// and sends user i's bid at schedule(i) from then; the bids of the first
// before users are due before the deadline. Each answer is judged by the
// time the gateway stamped on its request: stored if before the deadline,
// refused at or after it. Then the competition is opened, and every
// accepted bid must be in the opening, no refused one stored. The
// embedded engine serves one request at a time (and slower under the
// race detector), so the budgets are raised: its queue shows as latency
// rather than as 503s.
func (e *env) rush(users []string, before int, schedule func(i int) time.Duration, lead time.Duration) rushResult {
	e.t.Helper()
	e.srv.Budget, e.store.Timeout = 5*time.Minute, 5*time.Minute
	def := definition(e.clock.Now())
	id := e.publish(def)
	deadline, _ := time.Parse(time.RFC3339, def["bidDeadline"].(string))
	e.clock.Set(deadline.Add(-lead))

	answers := make([]resp, len(users))
	res := rushResult{latency: make([]time.Duration, len(users))}
	var wg sync.WaitGroup
	start := time.Now()
	for i := range users {
		wg.Go(func() {
			time.Sleep(time.Until(start.Add(schedule(i))))
			t0 := time.Now()
			answers[i] = e.do(users[i], "PUT", "/competitions/"+id+"/bids/mine", offer(300000+i, 120000, 0))
			res.latency[i] = time.Since(t0)
		})
	}
	wg.Wait()

	receivedAt := regexp.MustCompile(`your request was received at (\S+);`)
	accepted, unknown := map[string]bool{}, map[string]bool{}
	for i, r := range answers {
		prov := fmt.Sprintf("prov-load-%04d", i)
		var at string
		switch r.status {
		case 201:
			accepted[prov], at = true, r.str("receivedAt")
		case 409:
			res.refused++
			if m := receivedAt.FindStringSubmatch(r.str("detail")); m != nil {
				at = m[1]
			}
		case 503:
			// The engine did not answer in time: the bidder is told the
			// outcome is unknown and to read its bid or retry.
			unknown[prov] = true
			continue
		default:
			e.t.Errorf("bidder %d got %d", i, r.status)
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, at)
		switch {
		case err != nil:
			e.t.Errorf("bidder %d got %d without a time of receipt: %s", i, r.status, r.raw)
		case t.Before(deadline) != (r.status == 201):
			e.t.Errorf("bidder %d received at %s (deadline %s) got %d", i, at, deadline.Format(time.RFC3339), r.status)
		case i < before && !t.Before(deadline):
			res.stampedLate++
		}
	}
	e.openBids(deadline)
	r := e.must(e.do("officer-lahti", "GET", "/competitions/"+id, nil), 200)
	opened := r.str("opening.bids")
	stored, err := e.store.AllBids(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, bid := range stored {
		switch {
		case unknown[bid.ProviderID]:
			res.landed++
		case !accepted[bid.ProviderID]:
			e.t.Errorf("bid of %s is stored but was refused", bid.ProviderID)
		}
	}
	res.accepted, res.unknown = len(accepted), len(unknown)
	if len(stored) != res.accepted+res.landed || opened != fmt.Sprint(len(stored)) {
		e.t.Errorf("accepted %d, refused %d, unknown %d (%d of them stored), stored %d, opened %s",
			res.accepted, res.refused, res.unknown, res.landed, len(stored), opened)
	}
	return res
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

// setupWorkers is how many registrations and admissions loadProviders
// runs at once.
const setupWorkers = 1

// loadProviders registers n providers, each with a user and a token, and
// admits them all to job-coaching, setupWorkers at a time. It returns their users.
func (e *env) loadProviders(n int) []string {
	e.t.Helper()
	ctx := context.Background()
	d, err := e.store.GetDPS(ctx, seed.DPSID)
	if err != nil {
		e.t.Fatal(err)
	}
	officer := procurement.Actor{UserID: "officer-lahti", Role: procurement.RoleOfficer, Org: seed.BuyerLahti}
	users := make([]string, n)
	tokens := make([]string, n)
	var wg sync.WaitGroup
	work := make(chan int)
	for range setupWorkers {
		wg.Go(func() {
			for i := range work {
				org := fmt.Sprintf("prov-load-%04d", i)
				u := auth.User{ID: "user-" + org, Name: org, Role: procurement.RoleProvider, Org: org}
				users[i] = u.ID
				tok, err := e.issuer.Sign(u, time.Hour)
				if err != nil {
					e.t.Error(err)
					return
				}
				tokens[i] = tok
				actor := procurement.Actor{UserID: u.ID, Role: u.Role, Org: org}
				bid := ""
				for k := 0; bid == ""; k++ {
					bid = procurement.BusinessIDFor(3100000 + 10*i + k)
				}
				if err := e.store.RegisterProvider(ctx, actor, &procurement.Provider{ID: org, Contact: procurement.Contact{Name: org, Email: "x@example.fi"},
					Party: procurement.Party{Name: org, BusinessID: bid, LegalForm: procurement.FormCompany, HomeMunicipality: "Lahti"}}); err != nil {
					e.t.Error(err)
					return
				}
				decl, docs := seed.Declaration(d, org, []string{"job-coaching"}, 10, e.clock.Now())
				a := &procurement.Application{Categories: []string{"job-coaching"}, Declaration: decl, Documents: docs}
				if err := e.store.SubmitApplication(ctx, actor, seed.DPSID, a); err != nil {
					e.t.Error(err)
					return
				}
				if _, err := e.store.Decide(ctx, officer, seed.DPSID, a.ID, a.Version, "job-coaching", procurement.OutcomeAdmitted, "", seed.SystemApplication); err != nil {
					e.t.Error(err)
					return
				}
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	if e.t.Failed() {
		e.t.FailNow()
	}
	for i, u := range users {
		e.tokens[u] = tokens[i]
	}
	return users
}

// BenchmarkDeadlineRush: 1,000 admitted bidders send their bids in the
// last 5 s before the deadline and 100 more in the second after it,
// through the local gateway and the strict engine. Every bid received
// before the deadline must be stored and opened, none received after it,
// and nothing may answer 5xx. It reports the latency percentiles and the
// transaction conflicts the strict layer saw during the rush.
//
// The figure is 1,000 bidders and 100 late ones (RENGAS_RUSH=1000).
// The embedded engine takes one lock for every request and copies the
// whole table for each transaction, so at 1,100 admitted providers that
// rush takes minutes to drain; by default the rush is 200 + 20, which CI
// can afford.
func BenchmarkDeadlineRush(b *testing.B) {
	before := 200
	if n, err := strconv.Atoi(os.Getenv("RENGAS_RUSH")); err == nil && n > 0 {
		before = n
	}
	after := before / 10
	for b.Loop() {
		b.StopTimer()
		e := newEnv(b)
		users := e.loadProviders(before + after)
		conflicts := engine.Conflicts()
		b.StartTimer()
		res := e.rush(users, before, func(i int) time.Duration {
			if i < before {
				return time.Duration(i) * 5 * time.Second / time.Duration(before) // over the last 5 s
			}
			return 5*time.Second + time.Duration(i-before)*time.Second/time.Duration(after) // over the next second
		}, 5*time.Second)
		b.StopTimer()
		conflicts = engine.Conflicts() - conflicts
		latency := res.latency
		slices.Sort(latency)
		pct := func(p float64) float64 { return float64(latency[int(p*float64(len(latency)-1))].Milliseconds()) }
		b.ReportMetric(pct(0.5), "p50-ms")
		b.ReportMetric(pct(0.95), "p95-ms")
		b.ReportMetric(pct(0.99), "p99-ms")
		b.ReportMetric(pct(1), "max-ms")
		b.ReportMetric(float64(res.accepted), "accepted")
		b.ReportMetric(float64(res.refused), "refused")
		b.ReportMetric(float64(res.stampedLate), "sent-before-stamped-after")
		b.ReportMetric(float64(res.unknown), "5xx")
		b.ReportMetric(float64(res.landed), "5xx-stored")
		b.ReportMetric(float64(conflicts), "tx-conflicts")
		b.StartTimer()
	}
}

// A bid stored before the deadline whose answer was lost is retried after
// it with the same Idempotency-Key: the retry gets the first answer, not
// "bids are closed", even once the competition is opened.
func TestRetryAfterTheDeadlineReplaysTheBid(t *testing.T) {
	e := newEnv(t)
	def := definition(e.clock.Now())
	id := e.publish(def)
	deadline, _ := time.Parse(time.RFC3339, def["bidDeadline"].(string))
	bids := "/competitions/" + id + "/bids/mine"
	key := map[string]string{"Idempotency-Key": e.newKey()}
	e.clock.Set(deadline.Add(-time.Minute)) // keys are remembered for 24 hours
	first := e.doWith("provider-tyopaja", "PUT", bids, offer(300000, 120000, 0), key)
	if first.status != 201 {
		t.Fatalf("first bid: %d %s", first.status, first.raw)
	}
	for _, step := range []string{"closed", "opened"} {
		if step == "closed" {
			e.clock.Set(deadline.Add(time.Second))
		} else {
			e.openBids(deadline)
		}
		retry := e.doWith("provider-tyopaja", "PUT", bids, offer(300000, 120000, 0), key)
		if retry.status != 201 || retry.header.Get("Idempotent-Replayed") != "true" || string(retry.raw) != string(first.raw) {
			t.Errorf("retry once %s: %d (replayed %q), want the first answer replayed: %s", step, retry.status, retry.header.Get("Idempotent-Replayed"), retry.raw)
		}
	}
	if other := e.doWith("provider-tyopaja", "PUT", bids, offer(290000, 120000, 1), map[string]string{"Idempotency-Key": e.newKey()}); other.status != 409 {
		t.Errorf("a new bid after the deadline: %d, want 409", other.status)
	}
}
