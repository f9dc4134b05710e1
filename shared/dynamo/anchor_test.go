package dynamo_test

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rengas/rengas/shared/audit"
	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/locals3"
	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/seed"
)

// anchored returns a seeded store whose anchors go to an embedded
// S3-compatible server.
func anchored(t *testing.T) (*dynamo.Store, *dynamo.Clock) {
	t.Helper()
	st, clock := seeded(t)
	srv, err := locals3.Start(locals3.DefaultBucket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if st.Anchors, err = dynamo.ConnectAnchors(context.Background(), srv.Endpoint, srv.Bucket); err != nil {
		t.Fatal(err)
	}
	return st, clock
}

func mustAnchor(t *testing.T, st *dynamo.Store) dynamo.AnchorReport {
	t.Helper()
	r, err := st.Anchor(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func object(t *testing.T, st *dynamo.Store, key string) []byte {
	t.Helper()
	out, err := st.Anchors.S3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &st.Anchors.Bucket, Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	b, _ := io.ReadAll(out.Body)
	return b
}

func TestAnchorsCoverEveryChangedChain(t *testing.T) {
	st, clock := anchored(t)
	ctx := context.Background()
	// The seed wrote its past days ago, and two applications seconds ago:
	// those have not settled, so the first anchor leaves them out.
	r := mustAnchor(t, st)
	early, err := st.GetAnchor(ctx, 1)
	if err != nil || r.Anchors != 1 || r.Sealed != 1 {
		t.Fatalf("first run: %+v %v, want one anchor and the seeded competition's bids left sealed", r, err)
	}
	clock.Advance(dynamo.AnchorSettle + time.Second)
	if r = mustAnchor(t, st); r.Anchors != 1 || r.Heads != 2 || r.Latest != 2 || r.Sealed != 1 {
		t.Fatalf("second run: %+v, want the two recent applications", r)
	}
	rec, err := st.GetAnchor(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	rec.Heads = append(rec.Heads, early.Heads...)
	var chains []string
	for _, h := range rec.Heads {
		chains = append(chains, h.Chain)
		if strings.HasPrefix(h.Chain, "bid.") {
			t.Errorf("anchor 1 publishes the sealed bid chain %s before the opening", h.Chain)
		}
	}
	if !strings.Contains(strings.Join(chains, " "), dynamo.DPSChain(seed.DPSID)) || !strings.Contains(strings.Join(chains, " "), dynamo.ProviderChain("prov-college")) || len(rec.Heads) < 10 {
		t.Errorf("anchor 1 covers %v", chains)
	}
	// The object in the bucket is the record, byte for byte, and its
	// SHA-256 is the anchor's digest.
	rec, _ = st.GetAnchor(ctx, 2)
	body := object(t, st, rec.Object)
	var a audit.Anchor
	if err := json.Unmarshal(body, &a); err != nil || a.Root != rec.Root || audit.Digest(a) != rec.Digest || !rec.Stored || len(a.Check()) != 0 {
		t.Errorf("object %s: %s (%v)", rec.Object, body, err)
	}
	v, err := st.VerifyAnchor(ctx, 2)
	if err != nil || !v.Valid || v.Bucket != "matches" || v.Heads != 2 {
		t.Errorf("verify anchor 2: %+v %v", v, err)
	}

	// Running again at once: nothing new has settled, nothing is written.
	if r := mustAnchor(t, st); r.Anchors != 0 {
		t.Errorf("second run wrote %+v", r)
	}

	// The competition opens: the next anchor takes its bid chains, and
	// links to the first by digest.
	clock.Advance(time.Minute)
	if _, err := st.RunSchedule(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Advance(dynamo.AnchorSettle + time.Second)
	r = mustAnchor(t, st)
	rec2, err := st.GetAnchor(ctx, 3)
	if err != nil || r.Anchors != 1 || r.Sealed != 0 {
		t.Fatalf("after opening: %+v %v", r, err)
	}
	bids := 0
	for _, h := range rec2.Heads {
		if strings.HasPrefix(h.Chain, "bid.") {
			bids++
		}
	}
	if bids != 2 || rec2.PrevDigest != rec.Digest || !rec2.From.Equal(rec.To) {
		t.Errorf("anchor 3: %d bid chains (want 2), prev %s (want %s), from %v (want %v)", bids, rec2.PrevDigest, rec.Digest, rec2.From, rec.To)
	}

	// A chain verifies against the anchors that cover it.
	res, err := st.VerifyChain(ctx, dynamo.DPSChain(seed.DPSID), 1, 0)
	if err != nil || !res.Valid || len(res.Anchors) == 0 || res.Anchors[len(res.Anchors)-1].Bucket != "matches" {
		t.Errorf("verify DPS chain: %+v %v", res, err)
	}
	t.Log(res.Summary)
}

// Whoever can write the table can rewrite a chain and its head so that
// the chain verifies on its own: the anchors give it away.
func TestAnchorsFindAConsistentRewrite(t *testing.T) {
	st, clock := anchored(t)
	ctx := context.Background()
	chain := dynamo.ProviderChain("prov-college")
	clock.Advance(dynamo.AnchorSettle + time.Second)
	mustAnchor(t, st)

	// Rewrite the registration event and re-seal the chain, as an
	// attacker with table access would.
	evs, err := dynamo.All(func(cur string) (dynamo.Page[audit.Event], error) { return st.ListEvents(ctx, chain, 1, cur, 100) })
	if err != nil || len(evs) != 1 {
		t.Fatalf("events: %v %v", evs, err)
	}
	ev := evs[0]
	ev.Summary = "Someone else entirely"
	var head audit.Head
	head = audit.Append(audit.Head{}, &ev)
	if err := dynamo.RewriteForTest(ctx, st, ev, head); err != nil {
		t.Fatal(err)
	}
	res, err := st.VerifyChain(ctx, chain, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Valid || res.BrokenAt == nil || *res.BrokenAt != 1 || res.Anchors[0].Outcome != "differs" {
		t.Errorf("a consistently rewritten chain verifies: %+v", res)
	}
	t.Log(res.Summary)
	v, err := st.VerifyAnchor(ctx, 1)
	if err != nil || v.Valid || !strings.Contains(strings.Join(v.Problems, "\n"), chain) {
		t.Errorf("the anchor does not name the rewritten chain: %+v %v", v, err)
	}
}

// Two runs at once write each anchor once; the loser stops quietly.
func TestConcurrentAnchorRuns(t *testing.T) {
	st, clock := anchored(t)
	clock.Advance(dynamo.AnchorSettle + time.Second)
	var wg sync.WaitGroup
	reps := make([]dynamo.AnchorReport, 4)
	errs := make([]error, 4)
	for i := range reps {
		wg.Go(func() { reps[i], errs[i] = st.Anchor(context.Background()) })
	}
	wg.Wait()
	written := 0
	for i := range reps {
		if errs[i] != nil {
			t.Errorf("run %d: %v", i, errs[i])
		}
		written += reps[i].Anchors
	}
	p, err := st.ListAnchors(context.Background(), "", 10)
	if err != nil || written != 1 || len(p.Items) != 1 || !p.Items[0].Stored {
		t.Errorf("%d anchors written by 4 concurrent runs, %d listed (%v): want 1", written, len(p.Items), err)
	}
}

// A run cut short after the table's record is finished by the next one.
func TestAnchorFinishesAnInterruptedRun(t *testing.T) {
	st, clock := anchored(t)
	clock.Advance(dynamo.AnchorSettle + time.Second)
	bucket := st.Anchors
	st.Anchors = &dynamo.AnchorBucket{S3: bucket.S3, Bucket: "no-such-bucket"}
	if _, err := st.Anchor(context.Background()); err == nil {
		t.Fatal("writing to a missing bucket succeeded")
	}
	rec, err := st.GetAnchor(context.Background(), 1)
	if err != nil || rec.Stored {
		t.Fatalf("record after the failed run: %+v %v", rec, err)
	}
	st.Anchors = bucket
	v, _ := st.VerifyAnchor(context.Background(), 1)
	if !v.Valid || v.Bucket != "not stored yet" {
		t.Errorf("an anchor not yet stored: %+v", v)
	}
	r := mustAnchor(t, st)
	if r.Finished != 1 {
		t.Errorf("second run: %+v, want the first anchor finished", r)
	}
	if rec, _ := st.GetAnchor(context.Background(), 1); !rec.Stored || len(object(t, st, rec.Object)) == 0 {
		t.Errorf("anchor 1 not stored after the second run")
	}
}

// The scheduled job anchors once per interval, and heartbeats when nothing changed.
func TestScheduledAnchoring(t *testing.T) {
	st, clock := anchored(t)
	ctx := context.Background()
	clock.Advance(dynamo.AnchorSettle + time.Second)
	r, err := st.RunSchedule(ctx)
	if err != nil || r.Anchoring.Anchors != 1 {
		t.Fatalf("first scheduled run: %+v %v", r, err)
	}
	// A change, then another run within the hour: not due yet.
	bid := ""
	for k := 7000000; bid == ""; k++ {
		bid = procurement.BusinessIDFor(k)
	}
	if err := st.RegisterProvider(ctx, procurement.Actor{UserID: "p-new", Role: procurement.RoleProvider, Org: "p-new"},
		&procurement.Provider{ID: "p-new", Party: procurement.Party{Name: "New", BusinessID: bid, LegalForm: procurement.FormCompany}}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(dynamo.AnchorSettle + time.Second)
	if r, _ := st.RunSchedule(ctx); r.Anchoring.Anchors != 0 {
		t.Errorf("anchored before the interval: %+v", r.Anchoring)
	}
	clock.Advance(dynamo.DefaultAnchorEvery)
	r, _ = st.RunSchedule(ctx)
	rec, err := st.GetAnchor(ctx, 2)
	if _, ok := rec.Head(dynamo.ProviderChain("p-new")); err != nil || r.Anchoring.Anchors != 1 || !ok {
		t.Errorf("second anchor: %+v %+v %v", r.Anchoring, rec, err)
	}
	clock.Advance(dynamo.DefaultAnchorEvery)
	clock.Advance(dynamo.DefaultAnchorEvery)
	if r, _ = st.RunSchedule(ctx); r.Anchoring.Anchors != 1 || r.Anchoring.Heads != 0 {
		t.Errorf("heartbeat: %+v", r.Anchoring)
	}
}

// A long chain is verified in pieces when time runs short: each piece
// starts from the hash of the event before it, so the pieces chain.
func TestVerifyInPieces(t *testing.T) {
	st, _ := seeded(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const chain, n = "app.pieces", 3000
	if err := dynamo.WriteChainForTest(ctx, st, chain, n); err != nil {
		t.Fatal(err)
	}
	reserve := dynamo.VerifyReserve
	dynamo.VerifyReserve = time.Hour // stop after every page
	t.Cleanup(func() { dynamo.VerifyReserve = reserve })
	res, err := st.VerifyChain(ctx, chain, 1, 0)
	pieces, checked := 1, res.Checked
	for err == nil && !res.Complete && pieces < 20 {
		if !res.Valid || res.ContinueFrom != res.To+1 || len(res.LastHash) != 64 {
			t.Fatalf("piece %d: %+v", pieces, res)
		}
		next := res
		res, err = st.VerifyChain(ctx, chain, next.ContinueFrom, 0, next.LastHash)
		pieces++
		checked += res.Checked
	}
	if err != nil || !res.Valid || !res.Complete || res.To != n || checked != n || pieces < 2 {
		t.Fatalf("after %d pieces (%d events): %+v %v", pieces, checked, res, err)
	}
	t.Logf("%d events in %d pieces; %s", n, pieces, res.Summary)
	// A piece that does not continue from the previous one's hash is refused.
	bad, err := st.VerifyChain(ctx, chain, res.From, 0, strings.Repeat("0", 64))
	if err != nil || bad.Valid || *bad.BrokenAt != res.From {
		t.Errorf("a piece from a wrong hash: %+v %v", bad, err)
	}
}
