package httpapi_test

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rengas/rengas/shared/access"
	"github.com/rengas/rengas/shared/auth"
	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/httpapi"
	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/seed"
)

// The access matrix: every route, as every kind of caller, against objects
// of its own and of other organisations, in every state of a
// mini-competition. Each answer must be what the rule table (package
// access) says: what the caller may not know of answers exactly as what
// does not exist; what it may know of but not do answers 403 or 409; what
// it may do is never refused for who it is. Refused and read-only requests
// never append to any audit chain.

// Callers of the matrix, one per relation the rules know.
var matrixCallers = []string{
	"officer-lahti", // runs the competitions; a buyer of DPS A
	"officer-ph",    // another buyer of DPS A
	"officer-other", // a buyer with no part in DPS A; runs DPS B
	"provider-tyopaja",
	"provider-college", // the bidder
	"provider-staffing",
	"auditor",
	"", // the public
}

const otherDPS = "other-dps"

// probe says what a route is about: the entity the rules decide on, the
// ability it needs, and a body that passes validation (versions are stale
// on purpose, so that an allowed write stops at the domain's version check).
type probe struct {
	entity access.Entity
	need   access.Ability
	body   any
	// bidOf: the route concerns this provider's bid ("" = the caller's own).
	bidOf string
	// maybeMissing: an allowed caller may still get 404 (e.g. no bid of its own).
	maybeMissing bool
}

var stale = 999

// competitionProbes covers every route about one mini-competition.
func competitionProbes(now time.Time) map[string]probe {
	def := definition(now)
	return map[string]probe{
		"GET /competitions/{competitionId}":                                {entity: access.Competition, need: access.See},
		"PUT /competitions/{competitionId}":                                {entity: access.Competition, need: access.Act, body: with(with(def, "version", stale), "reason", "Clarified.")},
		"POST /competitions/{competitionId}/publication":                   {entity: access.Competition, need: access.Act, body: map[string]any{"version": stale}},
		"POST /competitions/{competitionId}/cancellation":                  {entity: access.Competition, need: access.Act, body: map[string]any{"reason": "No budget.", "version": stale}},
		"POST /competitions/{competitionId}/questions":                     {entity: access.Questions, need: access.Act, body: map[string]any{"question": "Is remote coaching allowed?"}},
		"GET /competitions/{competitionId}/questions":                      {entity: access.Questions, need: access.See},
		"POST /competitions/{competitionId}/questions/{questionId}/answer": {entity: access.Questions, need: access.Act, body: map[string]any{"answer": "Yes.", "version": stale}, maybeMissing: true},
		"PUT /competitions/{competitionId}/bids/mine":                      {entity: access.Bid, need: access.Act, body: offer(300000, 120000, stale)},
		"GET /competitions/{competitionId}/bids/mine":                      {entity: access.Bid, need: access.See, maybeMissing: true},
		"POST /competitions/{competitionId}/bids/mine/withdrawal":          {entity: access.Bid, need: access.Act, body: map[string]any{"version": stale}, maybeMissing: true},
		"GET /competitions/{competitionId}/bids":                           {entity: access.Evaluation, need: access.See},
		"GET /competitions/{competitionId}/invitees":                       {entity: access.Internals, need: access.See},
		"POST /competitions/{competitionId}/conflict-declarations":         {entity: access.Internals, need: access.Act, body: map[string]any{"statement": "No ties to any bidder."}},
		"POST /competitions/{competitionId}/bids/{providerId}/scores":      {entity: access.Bid, need: access.Act, bidOf: "prov-college", body: map[string]any{"criterion": "individual-service", "score": 3, "reason": "Plan.", "version": stale}},
		"POST /competitions/{competitionId}/bids/{providerId}/rejection":   {entity: access.Bid, need: access.Act, bidOf: "prov-college", body: map[string]any{"reason": "Incomplete.", "version": stale}},
		"GET /competitions/{competitionId}/evaluation":                     {entity: access.Evaluation, need: access.See},
		"POST /competitions/{competitionId}/award":                         {entity: access.Evaluation, need: access.Act, body: map[string]any{"reasons": "Best value.", "version": stale}},
		"GET /competitions/{competitionId}/decision":                       {entity: access.Decision, need: access.See},
		"GET /audit/competitions/{competitionId}/dossier":                  {entity: access.Internals, need: access.See},
		"GET /competitions/{competitionId}/bids/{providerId}/attachments":  {entity: access.Bid, need: access.See, bidOf: "prov-college", maybeMissing: true},
		// The college's bids carry the fixture's file as an attachment.
		"GET /competitions/{competitionId}/bids/{providerId}/attachments/{fileId}/content": {entity: access.Bid, need: access.See, bidOf: "prov-college", maybeMissing: true},
		"GET /open-data/competitions/{competitionId}/ocds":                                 {entity: access.Release, need: access.See},
		"GET /open-data/competitions/{competitionId}/ocds/record":                          {entity: access.Release, need: access.See},
	}
}

// dpsProbes covers every route about one DPS or what lives in it.
var dpsProbes = map[string]probe{
	"GET /dps/{dpsId}":                                                         {entity: access.DPS, need: access.See},
	"GET /dps/{dpsId}/competitions":                                            {entity: access.DPS, need: access.See},
	"GET /dps/{dpsId}/applications":                                            {entity: access.Application, need: access.See},
	"GET /dps/{dpsId}/applications/{applicationId}":                            {entity: access.Application, need: access.See},
	"POST /dps/{dpsId}/applications/{applicationId}/decisions":                 {entity: access.Application, need: access.Act, body: map[string]any{"category": "job-coaching", "outcome": "admitted", "version": stale}},
	"POST /dps/{dpsId}/applications/{applicationId}/information-requests":      {entity: access.Application, need: access.Act, body: map[string]any{"message": "Send the certificate.", "version": stale}},
	"POST /dps/{dpsId}/applications/{applicationId}/information-responses":     {entity: access.Application, need: access.Act, body: map[string]any{"response": "Attached.", "version": stale}},
	"POST /dps/{dpsId}/applications/{applicationId}/extension":                 {entity: access.Application, need: access.Act, body: map[string]any{"justification": "Many applications.", "version": stale}},
	"GET /dps/{dpsId}/categories/{categoryId}/admissions":                      {entity: access.Admission, need: access.See},
	"POST /dps/{dpsId}/categories/{categoryId}/admissions/{providerId}/status": {entity: access.Admission, need: access.Act, body: map[string]any{"status": "suspended", "reason": "Tax arrears.", "version": stale}, maybeMissing: true},
	"GET /dps/{dpsId}/documents/expiring":                                      {entity: access.Documents, need: access.See},
	"POST /dps/{dpsId}/declaration-requests":                                   {entity: access.DeclarationRequest, need: access.Act, body: map[string]any{"providerIds": []string{"prov-tyopaja"}, "message": "Renew.", "dueOn": "2020-01-01"}},
	"GET /dps/{dpsId}/declaration-requests":                                    {entity: access.DeclarationRequest, need: access.See},
	"POST /dps/{dpsId}/competitions":                                           {entity: access.DPS, need: access.Act, body: definition(time.Now().AddDate(0, 0, 30))},
	"GET /audit/dps/{dpsId}/quarters/{quarter}":                                {entity: access.AwardHistory, need: access.See},
	"GET /open-data/dps/{dpsId}/quarters/{quarter}/ocds":                       {entity: access.OpenData, need: access.See, maybeMissing: true},
	"GET /open-data/dps/{dpsId}/ocds":                                          {entity: access.OpenData, need: access.See},
	"GET /open-data/dps/{dpsId}/ocds/record":                                   {entity: access.OpenData, need: access.See},
	"GET /audit/awards?dpsId={dpsId}":                                          {entity: access.AwardHistory, need: access.See},
	"GET /audit/awards.csv?dpsId={dpsId}":                                      {entity: access.AwardHistory, need: access.See},
	"GET /audit/statistics?dpsId={dpsId}":                                      {entity: access.AwardHistory, need: access.See},
	"GET /dps/{dpsId}/applications/{applicationId}/documents":                  {entity: access.Application, need: access.See},
	// Seeded documents are metadata only (409 to who may see them).
	"GET /dps/{dpsId}/applications/{applicationId}/documents/{documentId}/content": {entity: access.Application, need: access.See, maybeMissing: true},
}

// Routes whose subject is the caller itself, or which create what the
// caller then owns; the tests of each flow cover them.
var selfRoutes = []string{
	"GET /openapi.json", "GET /dps", "POST /dps", "POST /providers", "GET /notifications", "POST /dps/{dpsId}/applications",
	"POST /files", "GET /files",
}

// Routes about a provider or an audit chain; probed below with their own targets.
var otherRoutes = []string{
	"GET /providers/{providerId}", "GET /providers/{providerId}/applications", "GET /providers/{providerId}/admissions",
	"GET /providers/{providerId}/declaration-requests", "POST /declaration-requests/{requestId}/answers",
	"GET /audit/chains/{chainId}/events", "GET /audit/chains/{chainId}/verification",
	"GET /audit/anchors", "GET /audit/anchors/{anchorId}", "GET /audit/anchors/{anchorId}/verification",
	"GET /open-data/anchors", "GET /open-data/anchors/{anchorId}",
	"GET /files/{fileId}", "POST /files/{fileId}/arrival", "GET /files/{fileId}/content",
	"GET /declaration-requests/{requestId}/documents/{documentId}/content",
	"GET /open-data/releases", // every process's releases: TestOpenDataTellsTheWholeStory
}

// matrixFixture holds objects of every kind, in every state.
type matrixFixture struct {
	e     *env
	comps map[access.State]string // one competition per state
	// noBids and withBids are published at the same moment with the same
	// definition; provider-college bid in withBids only.
	noBids, withBids string
	appA, appB       string // applications: prov-staffing's in DPS A, prov-tyopaja's in DPS B
	declA            string // a declaration request of prov-tyopaja in DPS A
	file             string // an arrived file of prov-college, attached to its bids
}

func newMatrixFixture(t *testing.T) *matrixFixture {
	e := newEnv(t)
	ctx := context.Background()
	f := &matrixFixture{e: e, comps: map[access.State]string{}}
	other := auth.User{ID: "officer-other", Name: "Olli Other", Role: procurement.RoleOfficer, Org: "buyer-other"}
	tok, err := e.issuer.Sign(other, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	e.tokens[other.ID] = tok

	// DPS B, run by a buyer outside the ring of DPS A, with an application.
	now := e.clock.Now()
	b := seed.DemoDPS(now)
	b.ID, b.Buyers, b.BuyerNames = otherDPS, []string{"buyer-other"}, map[string]string{"buyer-other": "Other town"}
	if err := e.store.CreateDPS(ctx, procurement.Actor{UserID: other.ID, Role: other.Role, Org: other.Org}, b); err != nil {
		t.Fatal(err)
	}
	decl, docs := seed.Declaration(b, "prov-tyopaja", []string{"job-coaching"}, 10, now)
	app := &procurement.Application{Categories: []string{"job-coaching"}, Declaration: decl, Documents: docs}
	if err := e.store.SubmitApplication(ctx, procurement.Actor{UserID: "provider-tyopaja", Role: procurement.RoleProvider, Org: "prov-tyopaja"}, otherDPS, app); err != nil {
		t.Fatal(err)
	}
	f.appB = app.ID
	f.appA = e.pending()["prov-staffing"]["id"].(string)
	due := now.AddDate(0, 0, 21).Format(time.DateOnly)
	r := e.must(e.do("officer-lahti", "POST", dpsPath+"/declaration-requests", map[string]any{"providerIds": []string{"prov-tyopaja"}, "message": "Renew.", "dueOn": due}), 201)
	var reqs []map[string]any
	if err := json.Unmarshal(r.raw, &reqs); err != nil || len(reqs) != 1 {
		t.Fatalf("declaration requests: %s", r.raw)
	}
	f.declA = reqs[0]["id"].(string)

	body := pdf("Työnantajaverkosto")
	f.file = e.upload("provider-college", "verkosto.pdf", "application/pdf", body, body)
	e.must(e.do("provider-college", "POST", "/files/"+f.file+"/arrival", nil), 200)

	draft := func(deadline time.Duration) (string, int) {
		d := definition(now)
		d["questionDeadline"] = now.Add(deadline - 24*time.Hour).Format(time.RFC3339)
		d["bidDeadline"] = now.Add(deadline).Format(time.RFC3339)
		r := e.must(e.do("officer-lahti", "POST", dpsPath+"/competitions", d), 201)
		return r.str("id"), int(r.body["version"].(float64))
	}
	publish := func(deadline time.Duration, bidders ...string) string {
		id, v := draft(deadline)
		e.must(e.do("officer-lahti", "POST", "/competitions/"+id+"/publication", map[string]any{"version": v}), 200)
		for _, u := range bidders {
			o := offer(300000, 120000, 0)
			if u == "provider-college" {
				o = with(o, "attachments", map[string]any{"employer-network": []any{map[string]any{"fileId": f.file}}})
			}
			e.must(e.do(u, "PUT", "/competitions/"+id+"/bids/mine", o), 201)
		}
		return id
	}
	cancel := func(id string) {
		v := e.must(e.do("officer-lahti", "GET", "/competitions/"+id, nil), 200).body["version"]
		e.must(e.do("officer-lahti", "POST", "/competitions/"+id+"/cancellation", map[string]any{"reason": "No budget.", "version": v}), 200)
	}
	day := 24 * time.Hour
	f.comps[access.Draft], _ = draft(40 * day)
	id, v := draft(40 * day)
	e.must(e.do("officer-lahti", "POST", "/competitions/"+id+"/cancellation", map[string]any{"reason": "Drafted in error.", "version": v}), 200)
	f.comps[access.CancelledUnpublished] = id
	f.noBids = publish(40 * day)
	f.withBids = publish(40*day, "provider-college")
	f.comps[access.Published] = f.withBids
	f.comps[access.Cancelled] = publish(40*day, "provider-college")
	cancel(f.comps[access.Cancelled])
	f.comps[access.Closed] = publish(25*day, "provider-college")
	f.comps[access.InEvaluation] = publish(11*day, "provider-college", "provider-tyopaja")
	f.comps[access.Awarded] = publish(11*day, "provider-college", "provider-tyopaja")
	f.comps[access.CancelledOpened] = publish(11*day, "provider-college", "provider-tyopaja")

	e.clock.Set(now.Add(12 * day))
	e.award(f.comps[access.Awarded], map[string][3]int{"prov-college": {4, 4, 4}, "prov-tyopaja": {3, 3, 3}})
	cancel(f.comps[access.CancelledOpened])
	e.clock.Set(now.Add(26 * day)) // the closed one is past its deadline, not opened
	if _, err := e.store.Anchor(ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

// heads reads the heads of the chains a request could touch.
func (f *matrixFixture) heads(t *testing.T) map[string]int64 {
	chains := []string{dynamo.DPSChain(seed.DPSID), dynamo.DPSChain(otherDPS), dynamo.ApplicationChain(f.appA), dynamo.ApplicationChain(f.appB),
		dynamo.DeclarationChain(f.declA), dynamo.AdmissionChain(seed.DPSID, "job-coaching", "prov-tyopaja"), dynamo.AdmissionChain(otherDPS, "job-coaching", "prov-tyopaja")}
	for _, u := range seed.Users {
		if u.Role == procurement.RoleProvider {
			chains = append(chains, dynamo.ProviderChain(u.Org))
		}
	}
	for _, id := range f.comps {
		chains = append(chains, dynamo.CompetitionChain(id), dynamo.BidChain(id, "prov-college"), dynamo.BidChain(id, "prov-tyopaja"))
	}
	out := map[string]int64{}
	for _, c := range chains {
		h, err := f.e.store.ChainHead(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		out[c] = h.Seq
	}
	return out
}

// actorOf returns the caller as the rules see it.
func actorOf(e *env, user string) *procurement.Actor {
	if user == "" {
		return nil
	}
	if user == "officer-other" {
		return &procurement.Actor{UserID: user, Role: procurement.RoleOfficer, Org: "buyer-other"}
	}
	u, _ := seed.User(user)
	return &procurement.Actor{UserID: u.ID, Role: u.Role, Org: u.Org}
}

func routeByKey(key string) (httpapi.Route, bool) {
	key, _, _ = strings.Cut(key, "?")
	for _, rt := range httpapi.Routes {
		if rt.Method+" "+rt.Path == key {
			return rt, true
		}
	}
	return httpapi.Route{}, false
}

// expect checks one answer against a verdict. missing is the answer the
// same route gives for an id that does not exist.
func expect(t *testing.T, what string, got, missing resp, know bool, v access.Verdict, p probe) {
	t.Helper()
	switch {
	case !know || !v.Can(access.Know):
		if got.status != 404 || got.str("type") != missing.str("type") || got.str("detail") != missing.str("detail") {
			t.Errorf("%s: hidden, want the answer of a missing one (%d %s), got %d %s", what, missing.status, missing.str("detail"), got.status, got.raw)
		}
	case !v.Can(p.need):
		if got.status != 403 && got.status != 409 {
			t.Errorf("%s: %s may know of the %s (%s) but not %v it; got %d %s", what, v.Relation, v.Entity, v.State, p.need, got.status, got.raw)
		}
	default:
		if got.status == 401 || got.status == 403 || (got.status == 404 && !p.maybeMissing) || got.status >= 500 {
			t.Errorf("%s: %s may %v the %s (%s); got %d %s", what, v.Relation, p.need, v.Entity, v.State, got.status, got.raw)
		}
	}
}

// roleRefused reports whether the route table refuses the caller's role
// (401 without a token, 403 with one), and checks that answer.
func roleRefused(t *testing.T, what string, rt httpapi.Route, who *procurement.Actor, got resp) bool {
	t.Helper()
	if rt.Roles == nil {
		return false
	}
	if who == nil {
		if got.status != 401 {
			t.Errorf("%s: no token, want 401, got %d", what, got.status)
		}
		return true
	}
	if !slices.Contains(rt.Roles, who.Role) {
		if got.status != 403 {
			t.Errorf("%s: role %s, want 403, got %d", what, who.Role, got.status)
		}
		return true
	}
	return false
}

func fill(path string, vals map[string]string) string {
	for k, v := range vals {
		path = strings.ReplaceAll(path, "{"+k+"}", v)
	}
	return path
}

func TestAccessMatrix(t *testing.T) {
	f := newMatrixFixture(t)
	e := f.e
	ctx := context.Background()
	probes := competitionProbes(e.clock.Now())

	// Every route is probed, or named as the caller's own.
	for _, rt := range httpapi.Routes {
		k := rt.Method + " " + rt.Path
		_, inComp := probes[k]
		inDPS := false
		for pk := range dpsProbes {
			inDPS = inDPS || strings.SplitN(pk, "?", 2)[0] == k
		}
		for pk := range contractProbes {
			inDPS = inDPS || strings.SplitN(pk, "?", 2)[0] == k
		}
		inDPS = inDPS || slices.Contains(contractOtherRoutes, k)
		if !inComp && !inDPS && !slices.Contains(selfRoutes, k) && !slices.Contains(otherRoutes, k) {
			t.Errorf("route %s is in no probe of the access matrix", k)
		}
	}

	requests, checked := 0, 0
	do := func(user, method, path string, body any) resp {
		before := f.heads(t)
		r := e.do(user, method, path, body)
		requests++
		if r.status >= 400 || method == "GET" {
			if after := f.heads(t); !mapsEqual(before, after) {
				t.Errorf("%s %s as %q answered %d and moved a chain: %v -> %v", method, path, user, r.status, before, after)
			}
		}
		return r
	}

	// Mini-competitions, in every state.
	for key, p := range probes {
		rt, _ := routeByKey(key)
		method, path, _ := strings.Cut(key, " ")
		for _, user := range matrixCallers {
			who := actorOf(e, user) // reset per caller; public routes clear it below
			vals := map[string]string{"competitionId": "nonexistent00000000", "providerId": "prov-college", "questionId": "q0000", "fileId": f.file}
			missing := do(user, method, fill(path, vals), p.body)
			for state, id := range f.comps {
				vals["competitionId"] = id
				what := key + " as " + user + " on " + string(state)
				got := do(user, method, fill(path, vals), p.body)
				if roleRefused(t, what, rt, who, got) {
					continue
				}
				comp, err := e.store.ReadCompetition(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				now := e.clock.Now()
				if rt.Roles == nil {
					who = nil // a public route answers everyone as the public
				}
				know := access.AskCompetition(who, access.Competition, comp, now).Can(access.Know)
				v := access.AskCompetition(who, p.entity, comp, now)
				if p.entity == access.Bid {
					owner := p.bidOf
					if owner == "" && who != nil {
						owner = who.Org
					}
					v = access.Ask(who, access.Bid, access.CompetitionState(comp, now), access.BidScope(comp, owner))
				}
				expect(t, what, got, missing, know, v, p)
				checked++
			}
		}
	}

	// A DPS of the ring and one of another buyer, with what lives in them.
	for key, p := range dpsProbes {
		rt, ok := routeByKey(key)
		if !ok {
			t.Fatalf("no route %s", key)
		}
		method, path, _ := strings.Cut(key, " ")
		for _, user := range matrixCallers {
			who := actorOf(e, user)
			for _, target := range []struct{ dps, app, owner string }{{seed.DPSID, f.appA, "prov-staffing"}, {otherDPS, f.appB, "prov-tyopaja"}} {
				vals := map[string]string{"dpsId": target.dps, "applicationId": target.app, "categoryId": "job-coaching", "providerId": "prov-tyopaja", "quarter": "2026-Q4", "documentId": "tax-certificate"}
				what := key + " as " + user + " in " + target.dps
				got := do(user, method, fill(path, vals), p.body)
				if roleRefused(t, what, rt, who, got) {
					continue
				}
				d, err := e.store.GetDPS(ctx, target.dps)
				if err != nil {
					t.Fatal(err)
				}
				var providers []string
				if strings.Contains(path, "{applicationId}") {
					providers = []string{target.owner}
				}
				v := access.Ask(who, p.entity, access.Any, access.DPSScope(d, providers...))
				// A DPS that does not exist: its lists are empty rather than
				// missing, so compare hidden answers with a missing application.
				missing := resp{status: 404, body: map[string]any{"type": "urn:rengas:problem:not_found", "detail": notFoundDetail}}
				if strings.Contains(path, "{applicationId}") {
					missing = do(user, method, fill(path, map[string]string{"dpsId": target.dps, "applicationId": "nonexistent-app"}), p.body)
				}
				expect(t, what, got, missing, true, v, p)
				checked++
			}
		}
	}

	// Providers: their registration and what is listed under it.
	for _, key := range []string{"GET /providers/{providerId}", "GET /providers/{providerId}/applications",
		"GET /providers/{providerId}/admissions", "GET /providers/{providerId}/declaration-requests"} {
		rt, _ := routeByKey(key)
		method, path, _ := strings.Cut(key, " ")
		for _, user := range matrixCallers {
			who := actorOf(e, user)
			for _, prov := range []string{"prov-tyopaja", "prov-staffing"} {
				what := key + " as " + user + " of " + prov
				got := do(user, method, fill(path, map[string]string{"providerId": prov}), nil)
				if roleRefused(t, what, rt, who, got) {
					continue
				}
				v := access.Ask(who, access.Provider, access.Any, access.Scope{Providers: []string{prov}})
				expect(t, what, got, resp{status: 404, body: map[string]any{"type": "urn:rengas:problem:not_found", "detail": notFoundDetail}}, true, v, probe{need: access.See})
				checked++
				// Lists hold only items of DPSs the caller may see.
				items, _ := got.body["items"].([]any)
				for _, it := range items {
					dps, _ := it.(map[string]any)["dpsId"].(string)
					d, err := e.store.GetDPS(ctx, dps)
					if err != nil {
						t.Fatal(err)
					}
					ent := map[string]access.Entity{"applications": access.Application, "admissions": access.Admission, "declaration-requests": access.DeclarationRequest}[path[strings.LastIndex(path, "/")+1:]]
					if !access.Ask(who, ent, access.Any, access.DPSScope(d, prov)).Can(access.See) {
						t.Errorf("%s lists an item of DPS %s that the caller may not see", what, dps)
					}
				}
			}
		}
	}

	// A declaration request: only its provider answers it.
	for _, user := range matrixCallers {
		rt, _ := routeByKey("POST /declaration-requests/{requestId}/answers")
		who := actorOf(e, user)
		body := map[string]any{"declaration": map[string]any{"signedBy": "x", "criteria": []any{}, "exclusions": []any{}}, "version": stale}
		got := do(user, "POST", "/declaration-requests/"+f.declA+"/answers", body)
		if roleRefused(t, "answer as "+user, rt, who, got) {
			continue
		}
		missing := do(user, "POST", "/declaration-requests/nonexistent-req/answers", body)
		v := access.Ask(who, access.DeclarationRequest, access.Any, access.Scope{Providers: []string{"prov-tyopaja"}})
		expect(t, "answer as "+user, got, missing, true, v, probe{need: access.Act})
		checked++
	}

	// A declaration request's documents: whoever may see the request (the
	// fixture's has none: 404 to them too).
	for _, user := range matrixCallers {
		rt, _ := routeByKey("GET /declaration-requests/{requestId}/documents/{documentId}/content")
		who := actorOf(e, user)
		got := do(user, "GET", "/declaration-requests/"+f.declA+"/documents/tax-certificate/content", nil)
		if roleRefused(t, "declaration document as "+user, rt, who, got) {
			continue
		}
		missing := do(user, "GET", "/declaration-requests/nonexistent-req/documents/tax-certificate/content", nil)
		d, err := e.store.GetDPS(ctx, seed.DPSID)
		if err != nil {
			t.Fatal(err)
		}
		v := access.Ask(who, access.DeclarationRequest, access.Any, access.DPSScope(d, "prov-tyopaja"))
		expect(t, "declaration document as "+user, got, missing, true, v, probe{need: access.See, maybeMissing: true})
		checked++
	}

	// Audit chains: a bid's chain is unknown to everyone until its bids are opened.
	for _, key := range []string{"GET /audit/chains/{chainId}/events", "GET /audit/chains/{chainId}/verification"} {
		rt, _ := routeByKey(key)
		_, path, _ := strings.Cut(key, " ")
		for _, user := range matrixCallers {
			who := actorOf(e, user)
			missing := do(user, "GET", fill(path, map[string]string{"chainId": "bid.nonexistent00000000.prov-college"}), nil)
			for state, id := range f.comps {
				what := key + " as " + user + " on the bid chain of a " + string(state) + " competition"
				got := do(user, "GET", fill(path, map[string]string{"chainId": dynamo.BidChain(id, "prov-college")}), nil)
				if roleRefused(t, what, rt, who, got) {
					continue
				}
				comp, _ := e.store.ReadCompetition(ctx, id)
				v := access.Ask(who, access.Bid, access.CompetitionState(comp, e.clock.Now()), access.BidScope(comp, "prov-college"))
				p := probe{need: access.See, maybeMissing: true} // some states have no bid chain of the college
				expect(t, what, got, missing, true, v, p)
				checked++
			}
		}
	}
	// Anchors: verifying them is the auditors'; the anchors themselves are open data.
	for _, key := range []string{"GET /audit/anchors", "GET /audit/anchors/{anchorId}", "GET /audit/anchors/{anchorId}/verification",
		"GET /open-data/anchors", "GET /open-data/anchors/{anchorId}"} {
		rt, _ := routeByKey(key)
		_, path, _ := strings.Cut(key, " ")
		ent := access.Anchor
		if rt.Roles == nil {
			ent = access.OpenData
		}
		for _, user := range matrixCallers {
			who := actorOf(e, user)
			what := key + " as " + user
			got := do(user, "GET", fill(path, map[string]string{"anchorId": "1"}), nil)
			if roleRefused(t, what, rt, who, got) {
				continue
			}
			if rt.Roles == nil {
				who = nil
			}
			missing := resp{status: 404, body: map[string]any{"type": "urn:rengas:problem:not_found", "detail": notFoundDetail}}
			if strings.Contains(path, "{anchorId}") {
				missing = do(user, "GET", fill(path, map[string]string{"anchorId": "999"}), nil)
			}
			expect(t, what, got, missing, true, access.Ask(who, ent, access.Any, access.Scope{}), probe{need: access.See})
			checked++
		}
	}
	// Uploaded files by their own id: the uploader's alone.
	for _, key := range []string{"GET /files/{fileId}", "POST /files/{fileId}/arrival", "GET /files/{fileId}/content"} {
		rt, _ := routeByKey(key)
		method, path, _ := strings.Cut(key, " ")
		file, err := e.store.GetFile(ctx, f.file)
		if err != nil {
			t.Fatal(err)
		}
		for _, user := range matrixCallers {
			who := actorOf(e, user)
			what := key + " as " + user
			got := do(user, method, fill(path, map[string]string{"fileId": f.file}), nil)
			if roleRefused(t, what, rt, who, got) {
				continue
			}
			missing := do(user, method, fill(path, map[string]string{"fileId": "nonexistent-file"}), nil)
			// Confirming a file that has arrived reads it as it is.
			expect(t, what, got, missing, true, access.AskFile(who, file), probe{need: access.See})
			checked++
		}
	}
	t.Logf("%d answers checked against the rule table, %d requests", checked, requests)

	// Afterwards every chain still verifies.
	for chain := range f.heads(t) {
		if h, _ := e.store.ChainHead(ctx, chain); h.Seq > 0 {
			verifyChain(t, e.store, chain)
		}
	}
}

const notFoundDetail = "nothing was found at this address: it does not exist, or it is not yours to see"

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// Before opening, no answer to anyone but the bidder depends on whether a
// bid exists: every route, as every caller, answers the same for a
// competition with a bid as for its twin without one.
func TestSealedAnswersDoNotDependOnBids(t *testing.T) {
	f := newMatrixFixture(t)
	e := f.e
	// The twins are published at the same moment; put the clock back into
	// their tender period so that they are open for bids.
	e.clock.Set(e.clock.Now().Add(-20 * 24 * time.Hour))
	ids := regexp.MustCompile(`\b[0-9a-z]{10,24}\b|\b[0-9a-f]{64}\b|"seq":\d+`)
	times := regexp.MustCompile(`\d{4}-\d\d-\d\dT[0-9:.]+(Z|[+-]\d\d:\d\d)|\b\d{8}T\d{6}\b`)
	normal := func(r resp, id string) string {
		s := strings.ReplaceAll(string(r.raw), id, "ID")
		return times.ReplaceAllString(ids.ReplaceAllString(s, "X"), "T")
	}
	compared := 0
	for key, p := range competitionProbes(e.clock.Now()) {
		method, path, _ := strings.Cut(key, " ")
		for _, user := range matrixCallers {
			if user == "provider-college" {
				continue // the bidder sees its own bid
			}
			vals := map[string]string{"providerId": "prov-college", "questionId": "q0000", "fileId": f.file}
			vals["competitionId"] = f.noBids
			without := e.do(user, method, fill(path, vals), p.body)
			vals["competitionId"] = f.withBids
			with := e.do(user, method, fill(path, vals), p.body)
			if without.status != with.status || normal(without, f.noBids) != normal(with, f.withBids) {
				t.Errorf("%s as %q: without bids %d %s; with a bid %d %s", key, user, without.status, without.raw, with.status, with.raw)
			}
			compared++
		}
	}
	t.Logf("%d answers compared", compared)
}

// Reading never writes: after every read route has been called by every
// caller, no chain has a new event and no competition changed state.
func TestReadsNeverAppend(t *testing.T) {
	f := newMatrixFixture(t)
	e := f.e
	ctx := context.Background()
	before := f.heads(t)
	states := map[string]procurement.CompetitionStatus{}
	for _, id := range f.comps {
		c, _ := e.store.ReadCompetition(ctx, id)
		states[id] = c.Status
	}
	n := 0
	for _, rt := range httpapi.Routes {
		if rt.Method != "GET" {
			continue
		}
		for _, user := range matrixCallers {
			for _, id := range f.comps {
				vals := map[string]string{"competitionId": id, "dpsId": seed.DPSID, "applicationId": f.appA, "providerId": "prov-college", "fileId": f.file, "documentId": "tax-certificate", "requestId": f.declA,
					"categoryId": "job-coaching", "quarter": "2026-Q4", "chainId": dynamo.BidChain(id, "prov-college")}
				e.do(user, "GET", fill(rt.Path, vals)+"?dpsId="+seed.DPSID, nil)
				n++
			}
		}
	}
	if after := f.heads(t); !mapsEqual(before, after) {
		t.Errorf("%d reads moved chains: %v -> %v", n, before, after)
	}
	for id, st := range states {
		if c, _ := e.store.ReadCompetition(ctx, id); c.Status != st {
			t.Errorf("reads changed competition %s from %s to %s", id, st, c.Status)
		}
	}
}
