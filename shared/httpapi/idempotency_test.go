package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rengas/rengas/shared/auth"
	"github.com/rengas/rengas/shared/httpapi"
	"github.com/rengas/rengas/shared/localdb"
	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/seed"
)

// idemReq is one request on a fresh target of an idempotent route.
type idemReq struct {
	user  string
	vals  map[string]string // the path's parameters
	body  map[string]any
	other map[string]any // another valid body for the same target
	// status is the success status, if not the route's (201 when Created).
	status int
}

// idemCases prepare, for every idempotent route, a target on which its
// request succeeds once. Each call prepares a new one.
var idemCases = map[string]func(e *env) idemReq{
	"POST /dps": func(e *env) idemReq {
		d := e.must(e.do("officer-lahti", "GET", dpsPath, nil), 200).body
		id := fmt.Sprintf("idem-dps-%d", e.next())
		body := map[string]any{"id": id, "title": "Idempotent DPS " + id, "ring": d["ring"], "buyers": []string{seed.BuyerLahti},
			"serviceArea": []string{"Lahti"}, "validFrom": d["validFrom"], "validUntil": d["validUntil"],
			"categories": d["categories"], "exclusionGrounds": d["exclusionGrounds"], "qualityCriteria": []string{}}
		return idemReq{user: "officer-lahti", body: body, other: with(body, "title", "Another title")}
	},
	"POST /files": func(e *env) idemReq {
		b := pdf(fmt.Sprintf("idempotent %d", e.next()))
		body := map[string]any{"name": "a.pdf", "mediaType": "application/pdf", "size": len(b), "sha256": digest(b)}
		return idemReq{user: "provider-college", body: body, other: with(body, "name", "b.pdf")}
	},
	"POST /files/{fileId}/arrival": func(e *env) idemReq {
		b := pdf(fmt.Sprintf("idempotent %d", e.next()))
		id := e.upload("provider-college", "a.pdf", "application/pdf", b, b)
		// The route takes no body; another body is any body at all.
		return idemReq{user: "provider-college", vals: map[string]string{"fileId": id}, other: map[string]any{}}
	},
	"POST /providers": func(e *env) idemReq {
		user, _ := e.newUser()
		body := providerBody("Idempotent Valmennus Oy", e.businessID())
		return idemReq{user: user, body: body, other: with(body, "name", "Another name Oy")}
	},
	"POST /dps/{dpsId}/applications": func(e *env) idemReq {
		body := applicationBody(e, "Sanna")
		return idemReq{user: "provider-social", vals: map[string]string{"dpsId": seed.DPSID}, body: body, other: applicationBody(e, "Someone else")}
	},
	"POST /dps/{dpsId}/applications/{applicationId}/decisions": func(e *env) idemReq {
		a := e.apply("provider-social")
		body := map[string]any{"category": "ips-coaching", "outcome": "rejected", "reason": "The fidelity review is missing.", "version": a["version"]}
		return idemReq{user: "officer-lahti", vals: appVals(a), body: body, other: with(body, "reason", "Another reason.")}
	},
	"POST /dps/{dpsId}/applications/{applicationId}/information-requests": func(e *env) idemReq {
		a := e.apply("provider-social")
		body := map[string]any{"message": "Send the insurance certificate.", "version": a["version"]}
		return idemReq{user: "officer-lahti", vals: appVals(a), body: body, other: with(body, "message", "Another message.")}
	},
	"POST /dps/{dpsId}/applications/{applicationId}/information-responses": func(e *env) idemReq {
		a := e.apply("provider-social")
		r := e.must(e.do("officer-lahti", "POST", fill("/dps/{dpsId}/applications/{applicationId}/information-requests", appVals(a)),
			map[string]any{"message": "Send the insurance certificate.", "version": a["version"]}), 200)
		body := map[string]any{"response": "Attached.", "version": r.body["version"]}
		return idemReq{user: "provider-social", vals: appVals(a), body: body, other: with(body, "response", "Attached twice.")}
	},
	"POST /dps/{dpsId}/applications/{applicationId}/extension": func(e *env) idemReq {
		a := e.apply("provider-social")
		body := map[string]any{"justification": "Many applications at once.", "version": a["version"]}
		return idemReq{user: "officer-lahti", vals: appVals(a), body: body, other: with(body, "justification", "Another justification.")}
	},
	"POST /dps/{dpsId}/categories/{categoryId}/admissions/{providerId}/status": func(e *env) idemReq {
		user, org := e.newUser()
		e.must(e.do(user, "POST", "/providers", providerBody("Admitted Valmennus Oy", e.businessID())), 201)
		a := e.apply(user)
		e.must(e.do("officer-lahti", "POST", fill("/dps/{dpsId}/applications/{applicationId}/decisions", appVals(a)),
			map[string]any{"category": "ips-coaching", "outcome": "admitted", "version": a["version"]}), 200)
		body := map[string]any{"status": "suspended", "reason": "The tax certificate expired.", "version": 1}
		return idemReq{user: "officer-lahti", vals: map[string]string{"dpsId": seed.DPSID, "categoryId": "ips-coaching", "providerId": org},
			body: body, other: with(body, "status", "excluded")}
	},
	"POST /dps/{dpsId}/declaration-requests": func(e *env) idemReq {
		body := map[string]any{"providerIds": []string{"prov-tyopaja", "prov-college"}, "message": "Annual renewal", "dueOn": "2099-01-30"}
		return idemReq{user: "officer-lahti", vals: map[string]string{"dpsId": seed.DPSID}, body: body, other: with(body, "message", "Another renewal")}
	},
	"POST /declaration-requests/{requestId}/answers": func(e *env) idemReq {
		r := e.must(e.do("officer-lahti", "POST", dpsPath+"/declaration-requests",
			map[string]any{"providerIds": []string{"prov-tyopaja"}, "message": "Annual renewal", "dueOn": "2099-01-30"}), 201)
		body := map[string]any{"declaration": declaration("Tiina"), "version": 1}
		var created []map[string]any
		if err := json.Unmarshal(r.raw, &created); err != nil || len(created) != 1 {
			e.t.Fatalf("declaration requests: %s", r.raw)
		}
		return idemReq{user: "provider-tyopaja", vals: map[string]string{"requestId": created[0]["id"].(string)},
			body: body, other: with(body, "declaration", declaration("Someone else"))}
	},
	"POST /dps/{dpsId}/competitions": func(e *env) idemReq {
		def := definition(e.clock.Now())
		return idemReq{user: "officer-lahti", vals: map[string]string{"dpsId": seed.DPSID}, body: def, other: with(def, "title", "Another title")}
	},
	"PUT /competitions/{competitionId}": func(e *env) idemReq {
		def := definition(e.clock.Now())
		id := e.must(e.do("officer-lahti", "POST", dpsPath+"/competitions", def), 201).str("id")
		body := with(with(def, "description", "Clarified."), "version", 1)
		return idemReq{user: "officer-lahti", vals: map[string]string{"competitionId": id}, body: body, other: with(body, "description", "Clarified again.")}
	},
	"POST /competitions/{competitionId}/publication": func(e *env) idemReq {
		id := e.must(e.do("officer-lahti", "POST", dpsPath+"/competitions", definition(e.clock.Now())), 201).str("id")
		return idemReq{user: "officer-lahti", vals: map[string]string{"competitionId": id}, body: map[string]any{"version": 1}, other: map[string]any{"version": 2}}
	},
	"POST /competitions/{competitionId}/cancellation": func(e *env) idemReq {
		id := e.must(e.do("officer-lahti", "POST", dpsPath+"/competitions", definition(e.clock.Now())), 201).str("id")
		body := map[string]any{"reason": "The budget was withdrawn.", "version": 1}
		return idemReq{user: "officer-lahti", vals: map[string]string{"competitionId": id}, body: body, other: with(body, "reason", "Another reason.")}
	},
	"POST /competitions/{competitionId}/questions": func(e *env) idemReq {
		id := e.publish(definition(e.clock.Now()))
		body := map[string]any{"question": "May coaching happen remotely?"}
		return idemReq{user: "provider-college", vals: map[string]string{"competitionId": id}, body: body, other: with(body, "question", "Another question?")}
	},
	"POST /competitions/{competitionId}/questions/{questionId}/answer": func(e *env) idemReq {
		id := e.publish(definition(e.clock.Now()))
		q := e.must(e.do("provider-college", "POST", "/competitions/"+id+"/questions", map[string]any{"question": "May coaching happen remotely?"}), 201)
		body := map[string]any{"answer": "Yes, up to half of the meetings.", "version": 1}
		return idemReq{user: "officer-lahti", vals: map[string]string{"competitionId": id, "questionId": q.str("id")}, body: body, other: with(body, "answer", "No.")}
	},
	"PUT /competitions/{competitionId}/bids/mine": func(e *env) idemReq {
		id := e.publish(definition(e.clock.Now()))
		return idemReq{user: "provider-tyopaja", vals: map[string]string{"competitionId": id}, body: offer(300000, 120000, 0), other: offer(290000, 120000, 0), status: 201}
	},
	"POST /competitions/{competitionId}/bids/mine/withdrawal": func(e *env) idemReq {
		id := e.publish(definition(e.clock.Now()))
		e.must(e.do("provider-tyopaja", "PUT", "/competitions/"+id+"/bids/mine", offer(300000, 120000, 0)), 201)
		return idemReq{user: "provider-tyopaja", vals: map[string]string{"competitionId": id}, body: map[string]any{"version": 1}, other: map[string]any{"version": 2}}
	},
	"POST /competitions/{competitionId}/conflict-declarations": func(e *env) idemReq {
		id := e.opened(false)
		body := map[string]any{"statement": "I have no ties to any bidder."}
		return idemReq{user: "officer-lahti", vals: map[string]string{"competitionId": id}, body: body, other: with(body, "statement", "None at all.")}
	},
	"POST /competitions/{competitionId}/bids/{providerId}/scores": func(e *env) idemReq {
		id := e.opened(true)
		body := map[string]any{"criterion": "individual-service", "score": 4, "reason": "Assessed against the plan.", "version": 1}
		return idemReq{user: "officer-lahti", vals: map[string]string{"competitionId": id, "providerId": "prov-tyopaja"}, body: body, other: with(body, "score", 3)}
	},
	"POST /competitions/{competitionId}/bids/{providerId}/rejection": func(e *env) idemReq {
		id := e.opened(true)
		body := map[string]any{"reason": "The bid is incomplete.", "version": 1}
		return idemReq{user: "officer-lahti", vals: map[string]string{"competitionId": id, "providerId": "prov-tyopaja"}, body: body, other: with(body, "reason", "Another reason.")}
	},
	"POST /competitions/{competitionId}/award": func(e *env) idemReq {
		id := e.opened(true)
		ver := 1
		for _, c := range []string{"individual-service", "employer-network", "outcome-follow-up"} {
			r := e.must(e.do("officer-lahti", "POST", "/competitions/"+id+"/bids/prov-tyopaja/scores",
				map[string]any{"criterion": c, "score": 4, "reason": "Assessed against the plan.", "version": ver}), 200)
			ver = int(r.body["version"].(float64))
		}
		comp := e.must(e.do("officer-lahti", "GET", "/competitions/"+id, nil), 200)
		body := map[string]any{"reasons": "The most economically advantageous bid.", "version": comp.body["version"]}
		return idemReq{user: "officer-lahti", vals: map[string]string{"competitionId": id}, body: body, other: with(body, "reasons", "Other reasons.")}
	},
}

// TestEveryWritingRouteIsIdempotent: every route that changes anything
// takes an Idempotency-Key, and each is exercised below.
func TestEveryWritingRouteIsIdempotent(t *testing.T) {
	flagged := 0
	for _, rt := range httpapi.Routes {
		name := rt.Method + " " + rt.Path
		writes := rt.Method != http.MethodGet && rt.Method != http.MethodHead && rt.Method != http.MethodOptions
		switch {
		case writes && !rt.Idempotent:
			t.Errorf("%s changes state but takes no Idempotency-Key: flag it Idempotent", name)
		case rt.Idempotent && !writes:
			t.Errorf("%s is flagged Idempotent but does not change state", name)
		case rt.Idempotent && rt.Roles == nil:
			t.Errorf("%s is idempotent but public: a key must be bound to a caller", name)
		case rt.Idempotent && rt.MayCreate && !rt.KeyInStore:
			t.Errorf("%s may answer 200 or 201; a replay from the record cannot tell which (give it KeyInStore)", name)
		}
		if rt.Idempotent {
			flagged++
			if idemCases[name] == nil {
				t.Errorf("%s is idempotent but TestIdempotencyKeyOnEveryRoute has no case for it; add one to idemCases", name)
			}
		}
	}
	for name := range idemCases {
		if rt, ok := routeByKey(name); !ok || !rt.Idempotent {
			t.Errorf("idemCases has %s, which is not an idempotent route", name)
		}
	}
	t.Logf("%d idempotent routes", flagged)
}

// TestIdempotencyKeyOnEveryRoute runs, for every idempotent route of the
// table: the first request, its replay, the key with another body, target
// or user; a commit whose response from DynamoDB is lost (answered from the
// record, or by the client's retry); and concurrent requests with one key.
// Each must store the change exactly once.
func TestIdempotencyKeyOnEveryRoute(t *testing.T) {
	if !engine.Embedded() {
		t.Skip("needs the embedded engine's fault injection")
	}
	root := newEnv(t, quickRetries)
	for _, rt := range httpapi.Routes {
		prepare := idemCases[rt.Method+" "+rt.Path]
		if !rt.Idempotent || prepare == nil {
			continue // TestEveryWritingRouteIsIdempotent reports it
		}
		t.Run(rt.Method+" "+rt.Path, func(t *testing.T) {
			e := root.sub(t)
			want := func(q idemReq) int {
				switch {
				case q.status != 0:
					return q.status
				case rt.Created:
					return 201
				}
				return 200
			}
			send := func(q idemReq, key, path string, body any) resp {
				t.Helper()
				return e.doWith(q.user, rt.Method, path, body, map[string]string{"Idempotency-Key": key})
			}

			// First request, replay, and the key reused for anything else.
			q := prepare(e)
			path := fill(rt.Path, q.vals)
			key := e.newKey()
			before := e.snapshot()
			first := send(q, key, path, q.body)
			if first.status != want(q) {
				t.Fatalf("first request: %d, want %d: %s", first.status, want(q), first.raw)
			}
			if first.header.Get("Idempotent-Replayed") != "" {
				t.Errorf("first request marked as replayed")
			}
			after := e.snapshot()
			shape := written(before, after)
			// One audit event per chain the change appends to: one, or one
			// per declaration request when a call creates several.
			if events := max(1, shape["declrequest"]); shape["event"] != events || shape["idempotency"] != 1 {
				t.Errorf("first request wrote %v; want %d audit event(s) and one idempotency record", shape, events)
			}
			// Another target of the route: the last id changed (it need not
			// exist: the key is checked first), or, on a route whose store
			// asks the access rules about the target before it looks at the
			// key (bids), a target the caller may act on.
			otherPath := ""
			switch {
			case rt.KeyInStore:
				otherPath = fill(rt.Path, prepare(e).vals)
			case len(q.vals) > 0:
				otherPath = otherTarget(rt.Path, q.vals)
			}
			after = e.snapshot()
			w := e.watch(nil)
			again := send(q, key, path, q.body)
			if again.status != first.status || !bytes.Equal(again.raw, first.raw) || again.header.Get("Idempotent-Replayed") != "true" {
				t.Errorf("replay: %d %q (Idempotent-Replayed %q)\nwant %d %q", again.status, again.raw, again.header.Get("Idempotent-Replayed"), first.status, first.raw)
			}
			e.problem(send(q, key, path, q.other), 400, "Idempotency-Key")
			if otherPath != "" {
				e.problem(send(q, key, otherPath, q.body), 400, "Idempotency-Key")
			}
			colleague := e.colleague(q.user)
			e.problem(send(idemReq{user: colleague}, key, path, q.body), 400, "Idempotency-Key")
			if n := w.writes.Load(); n != 0 {
				t.Errorf("replays and refusals sent %d writes to DynamoDB, want none", n)
			}
			if d := written(after, e.snapshot()); len(d) != 0 {
				t.Errorf("replays and refusals changed the table: %v", d)
			}

			// The commit is applied but its response is lost on every try,
			// and so is the read of the record after it: the request fails;
			// the client's retry with the key answers the first result.
			q = prepare(e)
			path, key = fill(rt.Path, q.vals), e.newKey()
			before = e.snapshot()
			var committed atomic.Bool
			e.watch(func(op string, _ []byte) localdb.Fault {
				switch {
				case op == "TransactWriteItems":
					committed.Store(true)
					return localdb.Fault{Kind: localdb.LoseResponse}
				case committed.Load() && (op == "GetItem" || op == "BatchGetItem"):
					return localdb.Fault{Kind: localdb.InternalError}
				}
				return localdb.Fault{}
			})
			// (Internal errors are not in the document: no contract check.)
			lost := e.unchecked(q.user, rt.Method, path, q.body, key)
			e.watch(nil)
			if lost.status < 500 {
				t.Fatalf("the request whose commit response was lost answered %d, want 5xx (the scenario did not happen): %s", lost.status, lost.raw)
			}
			retry := send(q, key, path, q.body)
			if retry.status != want(q) || retry.header.Get("Idempotent-Replayed") != "true" {
				t.Errorf("retry after a lost response: %d (Idempotent-Replayed %q), want %d replayed: %s", retry.status, retry.header.Get("Idempotent-Replayed"), want(q), retry.raw)
			}
			e.dispatch() // the scheduled job finishes what the failed request left
			if got := written(before, e.snapshot()); !maps.Equal(got, shape) {
				t.Errorf("lost response and retry wrote %v, want what one request writes: %v", got, shape)
			}

			// The same, but the request reads the record after the failed
			// commit and answers the success itself.
			{ // WriteBid answers from its own record, as a replay
				q = prepare(e)
				path, key = fill(rt.Path, q.vals), e.newKey()
				before = e.snapshot()
				e.watch(localdb.FaultNext(10, localdb.Fault{Kind: localdb.LoseResponse}, "TransactWriteItems"))
				healed := send(q, key, path, q.body)
				e.watch(nil)
				if healed.status != want(q) || (!rt.KeyInStore && healed.header.Get("Idempotent-Replayed") != "") {
					t.Errorf("lost commit response, record read: %d (Idempotent-Replayed %q), want %d not replayed: %s", healed.status, healed.header.Get("Idempotent-Replayed"), want(q), healed.raw)
				}
				e.dispatch()
				if got := written(before, e.snapshot()); !maps.Equal(got, shape) {
					t.Errorf("lost response answered from the record wrote %v, want %v", got, shape)
				}
			}

			// Concurrent requests with one key: one change; the others
			// answer its result, or 409 while it is being stored.
			q = prepare(e)
			path, key = fill(rt.Path, q.vals), e.newKey()
			before = e.snapshot()
			const n = 4
			got := make([]resp, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { got[i] = send(q, key, path, q.body) })
			}
			wg.Wait()
			var body []byte
			fresh := 0
			for _, r := range got {
				switch {
				case r.status == want(q):
					if body == nil {
						body = r.raw
					}
					if !bytes.Equal(r.raw, body) {
						t.Errorf("concurrent answers differ:\n%s\n%s", r.raw, body)
					}
					if r.header.Get("Idempotent-Replayed") == "" {
						fresh++
					}
				case r.status == 409 && r.ctype == "application/problem+json":
				default:
					t.Errorf("concurrent request answered %d: %s", r.status, r.raw)
				}
			}
			if fresh != 1 {
				t.Errorf("%d of %d concurrent requests answered as the first, want exactly 1 (statuses %v)", fresh, n, statuses(got))
			}
			if r := send(q, key, path, q.body); r.status != want(q) || (body != nil && !bytes.Equal(r.raw, body)) {
				t.Errorf("retry after the concurrent requests: %d %s", r.status, r.raw)
			}
			e.dispatch()
			if got := written(before, e.snapshot()); !maps.Equal(got, shape) {
				t.Errorf("concurrent requests wrote %v, want what one request writes: %v", got, shape)
			}
		})
	}
}

// A request that fails leaves its key free: the same key may be sent again.
func TestFailedRequestLeavesTheKeyFree(t *testing.T) {
	e := newEnv(t)
	user, _ := e.newUser()
	key := e.newKey()
	send := func(body any) resp {
		return e.doWith(user, "POST", "/providers", body, map[string]string{"Idempotency-Key": key})
	}
	// The business ID is already registered to another provider: 409.
	taken := providerBody("Uusi Valmennus Oy", "2617416-4")
	e.problem(send(taken), 409, "")
	e.problem(send(taken), 409, "") // tried again, not replayed: nothing was stored
	ok := e.must(send(providerBody("Uusi Valmennus Oy", e.businessID())), 201)
	if ok.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("a first success marked as replayed")
	}
	// Now the key is taken by the success.
	e.problem(send(taken), 400, "Idempotency-Key")
}

// A key is the caller's across routes, and the bid route (which keeps its
// record in its own round trips) refuses a key used elsewhere, and the
// other routes refuse a key used on a bid, the same way.
func TestKeyIsBoundToItsRoute(t *testing.T) {
	e := newEnv(t)
	id := e.publish(definition(e.clock.Now()))
	base := "/competitions/" + id
	key := e.newKey()
	h := map[string]string{"Idempotency-Key": key}
	e.must(e.doWith("provider-college", "POST", base+"/questions", map[string]any{"question": "Remote coaching?"}, h), 201)
	e.problem(e.doWith("provider-college", "PUT", base+"/bids/mine", offer(300000, 120000, 0), h), 400, "Idempotency-Key")

	bidKey := map[string]string{"Idempotency-Key": e.newKey()}
	e.must(e.doWith("provider-college", "PUT", base+"/bids/mine", offer(300000, 120000, 0), bidKey), 201)
	r := e.must(e.doWith("provider-college", "PUT", base+"/bids/mine", offer(300000, 120000, 0), bidKey), 201)
	if r.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("bid replay not marked")
	}
	e.problem(e.doWith("provider-college", "POST", base+"/questions", map[string]any{"question": "Remote coaching?"}, bidKey), 400, "Idempotency-Key")
	e.problem(e.doWith("provider-college", "POST", base+"/bids/mine/withdrawal", map[string]any{"version": 1}, bidKey), 400, "Idempotency-Key")
	// Another organisation has keys of its own.
	e.must(e.doWith("provider-tyopaja", "POST", base+"/questions", map[string]any{"question": "Remote coaching?"}, h), 201)
	// Malformed keys are refused before anything is read.
	for _, bad := range []string{strings.Repeat("k", 101), "-leading-dash", "spa ce", "ä"} {
		e.problem(e.doWith("provider-college", "POST", base+"/questions", map[string]any{"question": "Q?"}, map[string]string{"Idempotency-Key": bad}), 400, "Idempotency-Key")
	}
	// The body is bound as JSON, not as bytes: the same object in another
	// layout is the same request.
	k := map[string]string{"Idempotency-Key": e.newKey()}
	a := e.must(e.doWith("provider-tyopaja", "POST", base+"/questions", `{"question":"Evening sessions?"}`, k), 201)
	b := e.must(e.doWith("provider-tyopaja", "POST", base+"/questions", "{ \"question\" : \"Evening sessions?\" }\n", k), 201)
	if b.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(a.raw, b.raw) {
		t.Errorf("the same JSON in another layout was not replayed: %s / %s", a.raw, b.raw)
	}
}

// --- helpers ---

// quickRetries keeps the SDK's three attempts but waits at most 5 ms
// between them and never runs out of retry quota, so that tests which
// fail every attempt on purpose stay fast and repeatable.
func quickRetries(o *dynamodb.Options) {
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
		so.Backoff = retry.NewExponentialJitterBackoff(5 * time.Millisecond)
		so.RateLimiter = ratelimit.None
	})
}

// unchecked sends a keyed request without checking the answer against the
// document, for answers the document does not list (500).
func (e *env) unchecked(user, method, path string, body any, key string) resp {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.url+path, strings.NewReader(mustJSON(body)))
	req.Header.Set("Authorization", "Bearer "+e.tokens[user])
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, ctype: res.Header.Get("Content-Type"), raw: raw, header: res.Header}
}

// sub is the env for a subtest: the same server and table, reporting to t.
func (e *env) sub(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

var idemCounter atomic.Int64

func (e *env) next() int64 { return idemCounter.Add(1) }

func (e *env) newKey() string { return fmt.Sprintf("key-%d-%d", time.Now().UnixNano(), e.next()) }

// newUser signs in a provider user of a new, unregistered organisation.
func (e *env) newUser() (user, org string) {
	e.t.Helper()
	n := e.next()
	u := auth.User{ID: fmt.Sprintf("provider-idem-%d", n), Name: "Idem " + strconv.FormatInt(n, 10), Role: procurement.RoleProvider, Org: fmt.Sprintf("prov-idem-%d", n)}
	return e.sign(u), u.Org
}

// colleague signs in another user of the same organisation and role.
func (e *env) colleague(user string) string {
	e.t.Helper()
	for _, u := range seed.Users {
		if u.ID == user {
			return e.sign(auth.User{ID: u.ID + "-colleague", Name: "Colleague", Role: u.Role, Org: u.Org})
		}
	}
	if org, ok := strings.CutPrefix(user, "provider-idem-"); ok {
		return e.sign(auth.User{ID: user + "-colleague", Name: "Colleague", Role: procurement.RoleProvider, Org: "prov-idem-" + org})
	}
	e.t.Fatalf("no user %s", user)
	return ""
}

func (e *env) sign(u auth.User) string {
	e.t.Helper()
	tok, err := e.issuer.Sign(u, time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	e.tokens[u.ID] = tok
	return u.ID
}

// businessID returns a new valid Finnish business ID (y-tunnus).
func (e *env) businessID() string {
	for {
		n := fmt.Sprintf("%07d", 3100000+e.next()*7)
		w := []int{7, 9, 10, 5, 8, 4, 2}
		sum := 0
		for i, d := range n {
			sum += int(d-'0') * w[i]
		}
		switch r := sum % 11; r {
		case 0:
			return n + "-0"
		case 1:
		default:
			return n + "-" + strconv.Itoa(11-r)
		}
	}
}

func providerBody(name, businessID string) map[string]any {
	return map[string]any{"name": name, "businessId": businessID, "legalForm": "company", "homeMunicipality": "Lahti",
		"contact": map[string]any{"name": "Ulla", "email": "ulla@example.fi"}}
}

func declaration(signedBy string) map[string]any {
	excl := []map[string]any{}
	for _, g := range []string{"convictions", "tax-arrears", "bankruptcy", "professional-misconduct"} {
		excl = append(excl, map[string]any{"ground": g, "applies": false})
	}
	return map[string]any{"signedBy": signedBy, "exclusions": excl, "criteria": []any{}}
}

// applicationBody is a complete application to ips-coaching.
func applicationBody(e *env, signedBy string) map[string]any {
	day := e.clock.Now().UTC()
	doc := func(id, typ string) map[string]any {
		return map[string]any{"id": id, "name": id, "type": typ, "sha256": strings.Repeat("ab", 32),
			"issuedOn": day.AddDate(0, 0, -10).Format("2006-01-02"), "expiresOn": day.AddDate(0, 3, 0).Format("2006-01-02")}
	}
	decl := declaration(signedBy)
	decl["criteria"] = []map[string]any{
		{"category": "ips-coaching", "criterion": "tax-certificate", "documentId": "tax"},
		{"category": "ips-coaching", "criterion": "pension-certificate", "documentId": "pension"},
		{"category": "ips-coaching", "criterion": "insurance", "confirmed": true},
		{"category": "ips-coaching", "criterion": "ips-fidelity", "confirmed": true},
	}
	return map[string]any{"categories": []string{"ips-coaching"}, "declaration": decl,
		"documents": []any{doc("tax", "tax-certificate"), doc("pension", "pension-certificate")}}
}

// apply submits an application to ips-coaching as the user.
func (e *env) apply(user string) map[string]any {
	e.t.Helper()
	return e.must(e.do(user, "POST", dpsPath+"/applications", applicationBody(e, "Sanna")), 201).body
}

func appVals(a map[string]any) map[string]string {
	return map[string]string{"dpsId": seed.DPSID, "applicationId": a["id"].(string)}
}

// opened publishes a competition, bids on it as prov-tyopaja and opens
// it; declared adds the officer's conflict-of-interest declaration.
func (e *env) opened(declared bool) string {
	e.t.Helper()
	def := definition(e.clock.Now())
	id := e.publish(def)
	e.must(e.do("provider-tyopaja", "PUT", "/competitions/"+id+"/bids/mine", offer(300000, 120000, 0)), 201)
	deadline, _ := time.Parse(time.RFC3339, def["bidDeadline"].(string))
	e.openBids(deadline)
	if declared {
		e.must(e.do("officer-lahti", "POST", "/competitions/"+id+"/conflict-declarations", map[string]any{"statement": "No ties."}), 201)
	}
	return id
}

// otherTarget is the path with its last parameter changed.
func otherTarget(path string, vals map[string]string) string {
	params := regexp.MustCompile(`\{(\w+)\}`).FindAllStringSubmatch(path, -1)
	other := maps.Clone(vals)
	last := params[len(params)-1][1]
	other[last] = "other-" + vals[last]
	return fill(path, other)
}

func statuses(rs []resp) []int {
	out := make([]int, len(rs))
	for i, r := range rs {
		out[i] = r.status
	}
	return out
}

// dbWatch counts the writes sent to the env's table while it is set.
type dbWatch struct{ writes atomic.Int64 }

// watch counts the writes to the env's table and injects the faults f
// decides into its requests (f may be nil); watch(nil) then stops the
// faults. Only the env's own table is touched.
func (e *env) watch(f localdb.FaultFunc) *dbWatch {
	w := &dbWatch{}
	marker := []byte(`"TableName":"` + e.store.Table() + `"`)
	engine.Faults(func(op string, body []byte) localdb.Fault {
		if !bytes.Contains(body, marker) {
			return localdb.Fault{}
		}
		switch op {
		case "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems":
			w.writes.Add(1)
		}
		if f == nil {
			return localdb.Fault{}
		}
		return f(op, body)
	})
	e.t.Cleanup(func() { engine.Faults(nil) })
	return w
}

func (e *env) dispatch() {
	e.t.Helper()
	if _, err := e.store.DispatchPending(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// tableState is every item of the env's table: its stored type and content.
type tableState map[string][2]string

func (e *env) snapshot() tableState {
	e.t.Helper()
	out := tableState{}
	p := dynamodb.NewScanPaginator(e.db, &dynamodb.ScanInput{TableName: aws.String(e.store.Table()), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			e.t.Fatal(err)
		}
		for _, it := range page.Items {
			typ, _ := it["type"].(*types.AttributeValueMemberS)
			t := ""
			if typ != nil {
				t = typ.Value
			}
			out[avText(it["PK"])+"\x00"+avText(it["SK"])] = [2]string{t, itemText(it)}
		}
	}
	return out
}

func itemText(it map[string]types.AttributeValue) string {
	names := slices.Sorted(maps.Keys(it))
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s=%s;", n, avText(it[n]))
	}
	return b.String()
}

func avText(v types.AttributeValue) string {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return "S:" + x.Value
	case *types.AttributeValueMemberN:
		return "N:" + x.Value
	case *types.AttributeValueMemberSS:
		s := slices.Clone(x.Value)
		sort.Strings(s)
		return "SS:" + strings.Join(s, ",")
	case *types.AttributeValueMemberBOOL:
		return "BOOL:" + strconv.FormatBool(x.Value)
	case *types.AttributeValueMemberL:
		parts := make([]string, len(x.Value))
		for i, p := range x.Value {
			parts[i] = avText(p)
		}
		return "L:[" + strings.Join(parts, ",") + "]"
	case *types.AttributeValueMemberM:
		return "M:{" + itemText(x.Value) + "}"
	}
	return fmt.Sprintf("%T", v)
}

// written counts, by stored type, the items added or changed from a to b
// ("type") and those removed ("-type").
func written(a, b tableState) map[string]int {
	out := map[string]int{}
	for k, v := range b {
		if a[k] != v {
			out[v[0]]++
		}
	}
	for k, v := range a {
		if _, ok := b[k]; !ok {
			out["-"+v[0]]++
		}
	}
	return out
}

// TestKeyCosts: a key adds one GetItem to a request, a replay is that one
// GetItem, and a bid keeps its two round trips with or without a key.
func TestKeyCosts(t *testing.T) {
	e := newEnv(t)
	cost := func(user, method, path string, body any, key string, status int) int64 {
		t.Helper()
		h := map[string]string{}
		if key != "" {
			h["Idempotency-Key"] = key
		}
		n := e.store.RoundTrips()
		e.must(e.doWith(user, method, path, body, h), status)
		return e.store.RoundTrips() - n
	}
	apps := dpsPath + "/applications"
	plain := cost("provider-social", "POST", apps, applicationBody(e, "Sanna"), "", 201)
	key := e.newKey()
	keyed := cost("provider-social", "POST", apps, applicationBody(e, "Sanna"), key, 201)
	replay := cost("provider-social", "POST", apps, applicationBody(e, "Sanna"), key, 201)
	t.Logf("application: %d round trips, %d with a key, %d for its replay", plain, keyed, replay)
	if keyed != plain+1 || replay != 1 {
		t.Errorf("application: %d round trips, %d with a key, %d for the replay; want n, n+1, 1", plain, keyed, replay)
	}
	id := e.publish(definition(e.clock.Now()))
	bids := "/competitions/" + id + "/bids/mine"
	plain = cost("provider-college", "PUT", bids, offer(300000, 120000, 0), "", 201)
	key = e.newKey()
	keyed = cost("provider-tyopaja", "PUT", bids, offer(300000, 120000, 0), key, 201)
	replay = cost("provider-tyopaja", "PUT", bids, offer(300000, 120000, 0), key, 201)
	t.Logf("bid: %d round trips, %d with a key, %d for its replay", plain, keyed, replay)
	if plain != 2 || keyed != 2 || replay != 1 {
		t.Errorf("bid: %d round trips, %d with a key, %d for the replay; want 2, 2, 1", plain, keyed, replay)
	}
}
