package httpapi_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/rengas/rengas/shared/audit"
	"github.com/rengas/rengas/shared/dynamo"
)

func TestOfficerDecidesAndProviderReadsTheDecision(t *testing.T) {
	e := newEnv(t)
	apps := e.pending()
	if len(apps) != 3 {
		t.Fatalf("got %d pending applications, want 3 (staffing, social, consortium)", len(apps))
	}
	staffing, social := apps["prov-staffing"], apps["prov-social"]
	if staffing["workdaysLeft"].(float64) != 10 || staffing["overdue"] != false {
		t.Errorf("fresh application: got %v working days left, overdue %v; want 10, false", staffing["workdaysLeft"], staffing["overdue"])
	}

	r := e.must(e.do("officer-lahti", "POST", dpsPath+"/applications/"+staffing["id"].(string)+"/decisions",
		map[string]any{"category": "job-coaching", "outcome": "admitted", "version": staffing["version"]}), 200)
	if got := r.str("decisions.0.outcome"); got != "admitted" {
		t.Errorf("decision outcome = %s, want admitted", got)
	}
	if got := r.str("status"); got != "received" {
		t.Errorf("status after one of two categories = %s, want received", got)
	}

	reason := "The tax debt certificate shows unpaid VAT (exclusion ground tax-arrears)."
	e.must(e.do("officer-ph", "POST", dpsPath+"/applications/"+social["id"].(string)+"/decisions",
		map[string]any{"category": "rehabilitative-work", "outcome": "rejected", "reason": reason, "version": social["version"]}), 200)

	// The provider reads its decision with the reason.
	r = e.must(e.do("provider-social", "GET", dpsPath+"/applications/"+social["id"].(string), nil), 200)
	if r.str("decisions.0.outcome") != "rejected" || r.str("decisions.0.reason") != reason || r.str("status") != "decided" {
		t.Errorf("provider sees %s / %q / %s, want rejected / %q / decided", r.str("decisions.0.outcome"), r.str("decisions.0.reason"), r.str("status"), reason)
	}
	r = e.must(e.do("provider-social", "GET", "/notifications", nil), 200)
	if !strings.Contains(r.str("items.0.message"), "rejected") {
		t.Errorf("provider notification = %q, want the rejection", r.str("items.0.message"))
	}
	// The admitted provider now appears among the category's admissions.
	r = e.must(e.do("officer-lahti", "GET", dpsPath+"/categories/job-coaching/admissions", nil), 200)
	found := false
	for _, it := range r.body["items"].([]any) {
		found = found || it.(map[string]any)["providerId"] == "prov-staffing"
	}
	if !found {
		t.Errorf("prov-staffing is not listed as admitted in job-coaching: %s", r.raw)
	}
	if got := len(e.pending()); got != 2 {
		t.Errorf("pending after deciding one application fully: got %d, want 2", got)
	}
}

func TestBadRequestsChangeNothing(t *testing.T) {
	e := newEnv(t)
	app := e.pending()["prov-staffing"]
	id, ver := app["id"].(string), app["version"]
	decide := dpsPath + "/applications/" + id + "/decisions"

	tests := []struct {
		name   string
		user   string
		method string
		path   string
		body   any
		status int
		field  string
	}{
		{"invalid business ID", "provider-new", "POST", "/providers", map[string]any{"name": "Uusi Valmennus Oy", "businessId": "1234567-8",
			"legalForm": "company", "homeMunicipality": "Lahti", "contact": map[string]any{"name": "Ulla", "email": "ulla@example.fi"}}, 400, "businessId"},
		{"unknown legal form", "provider-new", "POST", "/providers", map[string]any{"name": "Uusi", "businessId": "0201256-6",
			"legalForm": "plc", "homeMunicipality": "Lahti", "contact": map[string]any{"name": "Ulla", "email": "ulla@example.fi"}}, 400, "legalForm"},
		{"rejection without reason", "officer-lahti", "POST", decide, map[string]any{"category": "job-coaching", "outcome": "rejected", "version": ver}, 400, "reason"},
		{"unknown outcome", "officer-lahti", "POST", decide, map[string]any{"category": "job-coaching", "outcome": "maybe", "version": ver}, 400, "outcome"},
		{"category not applied for", "officer-lahti", "POST", decide, map[string]any{"category": "immigrant-coaching", "outcome": "admitted", "version": ver}, 400, "category"},
		{"wrong role", "provider-staffing", "POST", decide, map[string]any{"category": "job-coaching", "outcome": "admitted", "version": ver}, 403, ""},
		{"auditor may not write", "auditor", "POST", decide, map[string]any{"category": "job-coaching", "outcome": "admitted", "version": ver}, 403, ""},
		{"stale version", "officer-lahti", "POST", decide, map[string]any{"category": "job-coaching", "outcome": "admitted", "version": 99}, 409, ""},
		{"malformed body", "officer-lahti", "POST", decide, `{"category": "job-coaching",`, 400, "body"},
		{"unknown field", "officer-lahti", "POST", decide, map[string]any{"category": "job-coaching", "outcome": "admitted", "version": ver, "admin": true}, 400, "admin"},
		{"wrong type", "officer-lahti", "POST", decide, map[string]any{"category": "job-coaching", "outcome": "admitted", "version": "1"}, 400, "version"},
		{"too large", "officer-lahti", "POST", decide, `{"reason":"` + strings.Repeat("x", 300<<10) + `"}`, 413, ""},
		{"no token", "", "POST", decide, map[string]any{"category": "job-coaching", "outcome": "admitted", "version": ver}, 401, ""},
		{"not yours", "provider-social", "GET", dpsPath + "/applications/" + id, nil, 404, ""},
		{"other provider's list", "provider-social", "GET", "/providers/prov-staffing/applications", nil, 404, ""},
		{"bad cursor", "officer-lahti", "GET", dpsPath + "/applications?cursor=abc", nil, 400, "cursor"},
		{"bad status filter", "officer-lahti", "GET", dpsPath + "/applications?status=open", nil, 400, "status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			e.problem(e.do(tt.user, tt.method, tt.path, tt.body), tt.status, tt.field)
		})
	}
	e.t = t
	// Nothing changed: the application is still pending at its version and
	// the rejected provider registration did not happen.
	after := e.pending()["prov-staffing"]
	if after["version"] != ver || after["decisions"].([]any)[0].(map[string]any)["outcome"] != "pending" {
		t.Errorf("application changed by refused requests: version %v, decisions %v", after["version"], after["decisions"])
	}
	e.problem(e.do("provider-new", "GET", "/providers/prov-new", nil), 404, "")
}

func TestForgedTokenIsRefused(t *testing.T) {
	e := newEnv(t)
	other := newEnv(t) // a token signed with another key
	r := e.do("", "GET", dpsPath, nil)
	e.problem(r, 401, "")
	e.tokens["x"] = other.tokens["officer-lahti"]
	e.problem(e.do("x", "GET", dpsPath, nil), 401, "")
}

func TestProviderRegistersAndApplies(t *testing.T) {
	e := newEnv(t)
	// Applying before registering is refused with a pointer to the fix.
	e.problem(e.do("provider-new", "POST", dpsPath+"/applications", map[string]any{"categories": []string{"ips-coaching"},
		"declaration": map[string]any{"signedBy": "Ulla", "criteria": []any{}, "exclusions": []any{}}}), 409, "")

	e.must(e.do("provider-new", "POST", "/providers", map[string]any{"name": "Uusi Valmennus Oy", "businessId": "2617416-4",
		"legalForm": "company", "homeMunicipality": "Lahti", "contact": map[string]any{"name": "Ulla", "email": "ulla@example.fi"}}), 409)
	e.must(e.do("provider-new", "POST", "/providers", map[string]any{"name": "Uusi Valmennus Oy", "businessId": "0114162-2",
		"legalForm": "company", "homeMunicipality": "Lahti", "contact": map[string]any{"name": "Ulla", "email": "ulla@example.fi"}}), 201)

	// An incomplete declaration names every missing answer.
	r := e.do("provider-new", "POST", dpsPath+"/applications", map[string]any{"categories": []string{"ips-coaching"},
		"declaration": map[string]any{"signedBy": "Ulla", "criteria": []any{}, "exclusions": []any{}}})
	e.problem(r, 400, "declaration.exclusions")
	e.problem(r, 400, "declaration.criteria[ips-coaching/ips-fidelity]")

	tr, fa := true, false
	excl := []map[string]any{}
	for _, g := range []string{"convictions", "tax-arrears", "bankruptcy", "professional-misconduct"} {
		excl = append(excl, map[string]any{"ground": g, "applies": fa})
	}
	doc := func(id, typ string) map[string]any {
		return map[string]any{"id": id, "name": id, "type": typ, "sha256": strings.Repeat("ab", 32), "issuedOn": "2026-11-01", "expiresOn": "2026-12-15"}
	}
	r = e.must(e.do("provider-new", "POST", dpsPath+"/applications", map[string]any{
		"categories": []string{"ips-coaching"},
		"declaration": map[string]any{"signedBy": "Ulla", "exclusions": excl, "criteria": []map[string]any{
			{"category": "ips-coaching", "criterion": "tax-certificate", "documentId": "tax"},
			{"category": "ips-coaching", "criterion": "pension-certificate", "documentId": "pension"},
			{"category": "ips-coaching", "criterion": "insurance", "confirmed": tr},
			{"category": "ips-coaching", "criterion": "ips-fidelity", "confirmed": tr},
		}},
		"documents": []any{doc("tax", "tax-certificate"), doc("pension", "pension-certificate")},
	}), 201)
	if r.str("status") != "received" || r.str("decisions.0.outcome") != "pending" {
		t.Errorf("new application: %s", r.raw)
	}
	// Its documents show up among those expiring within 30 days.
	r = e.must(e.do("officer-lahti", "GET", dpsPath+"/documents/expiring?days=60", nil), 200)
	if !strings.Contains(string(r.raw), `"providerId":"prov-new"`) {
		t.Errorf("expiring documents do not include the new provider's: %s", r.raw)
	}
	r = e.must(e.do("provider-new", "GET", "/providers/prov-new/applications", nil), 200)
	if n := len(r.body["items"].([]any)); n != 1 {
		t.Errorf("provider sees %d applications, want 1", n)
	}
}

func TestClockPausesAndExtendsOnce(t *testing.T) {
	e := newEnv(t)
	app := e.pending()["prov-foundation"]
	base := dpsPath + "/applications/" + app["id"].(string)
	if n := len(app["members"].([]any)); n != 2 {
		t.Fatalf("consortium has %d members, want 2", n)
	}
	r := e.must(e.do("officer-lahti", "POST", base+"/information-requests", map[string]any{"message": "Send the members' insurance certificates.", "version": app["version"]}), 200)
	if r.str("status") != "information_requested" || r.body["workdaysLeft"].(float64) != 10 {
		t.Errorf("after the request: status %s, %v days left; want information_requested, 10", r.str("status"), r.body["workdaysLeft"])
	}
	// Deciding while waiting is refused.
	e.problem(e.do("officer-lahti", "POST", base+"/decisions", map[string]any{"category": "job-coaching", "outcome": "admitted", "version": r.body["version"]}), 409, "")
	r = e.must(e.do("officer-lahti", "POST", base+"/extension", map[string]any{"justification": "Many applications at once.", "version": r.body["version"]}), 200)
	if r.body["workdaysLeft"].(float64) != 15 {
		t.Errorf("extension while paused: %v working days left, want 15", r.body["workdaysLeft"])
	}
	e.problem(e.do("officer-lahti", "POST", base+"/extension", map[string]any{"justification": "Again.", "version": r.body["version"]}), 409, "")
	e.problem(e.do("provider-staffing", "POST", base+"/information-responses", map[string]any{"response": "x", "version": r.body["version"]}), 404, "")
	r = e.must(e.do("provider-foundation", "POST", base+"/information-responses", map[string]any{"response": "Attached.", "version": r.body["version"]}), 200)
	if r.str("status") != "received" || r.body["workdaysLeft"].(float64) != 15 {
		t.Errorf("after the answer: status %s, %v days left; want received, 15", r.str("status"), r.body["workdaysLeft"])
	}
}

func TestSuspendReinstateExclude(t *testing.T) {
	e := newEnv(t)
	path := dpsPath + "/categories/job-coaching/admissions/prov-tyopaja/status"
	r := e.must(e.do("officer-lahti", "POST", path, map[string]any{"status": "suspended", "reason": "Tax certificate expired.", "version": 1}), 200)
	e.problem(e.do("officer-lahti", "POST", path, map[string]any{"status": "suspended", "version": r.body["version"]}), 400, "reason")
	r = e.must(e.do("officer-lahti", "POST", path, map[string]any{"status": "admitted", "reason": "New certificate received.", "version": r.body["version"]}), 200)
	r = e.must(e.do("officer-ph", "POST", path, map[string]any{"status": "excluded", "reason": "Conviction under section 80.", "version": r.body["version"]}), 200)
	e.problem(e.do("officer-lahti", "POST", path, map[string]any{"status": "admitted", "reason": "x", "version": r.body["version"]}), 409, "")
	if n := len(r.body["history"].([]any)); n != 4 {
		t.Errorf("history has %d entries, want 4", n)
	}
	r = e.must(e.do("provider-tyopaja", "GET", "/notifications", nil), 200)
	if !strings.Contains(r.str("items.0.message"), "excluded") {
		t.Errorf("provider was not told of the exclusion: %s", r.str("items.0.message"))
	}
}

func TestRenewedDeclaration(t *testing.T) {
	e := newEnv(t)
	e.problem(e.do("officer-lahti", "POST", dpsPath+"/declaration-requests", map[string]any{"providerIds": []string{"prov-tyopaja"}, "message": "Renew", "dueOn": "2026-11-24"}), 400, "dueOn")
	e.problem(e.do("officer-lahti", "POST", dpsPath+"/declaration-requests", map[string]any{"providerIds": []string{"prov-nobody"}, "message": "Renew", "dueOn": "2099-01-30"}), 400, "providerIds[0]")
	r := e.must(e.do("officer-lahti", "POST", dpsPath+"/declaration-requests", map[string]any{"providerIds": []string{"prov-tyopaja", "prov-college"}, "message": "Annual renewal", "dueOn": "2099-01-30"}), 201)
	raw := r.raw
	list := e.must(e.do("provider-tyopaja", "GET", "/providers/prov-tyopaja/declaration-requests", nil), 200)
	id := list.str("items.0.id")
	if !strings.Contains(string(raw), id) {
		t.Fatalf("provider's request %s not among those created: %s", id, raw)
	}
	fa := false
	excl := []map[string]any{}
	for _, g := range []string{"convictions", "tax-arrears", "bankruptcy", "professional-misconduct"} {
		excl = append(excl, map[string]any{"ground": g, "applies": fa})
	}
	e.problem(e.do("provider-college", "POST", "/declaration-requests/"+id+"/answers", map[string]any{"declaration": map[string]any{"signedBy": "x", "exclusions": excl, "criteria": []any{}}, "version": 1}), 404, "")
	r = e.must(e.do("provider-tyopaja", "POST", "/declaration-requests/"+id+"/answers", map[string]any{"declaration": map[string]any{"signedBy": "Tiina", "exclusions": excl, "criteria": []any{}}, "version": 1}), 200)
	if r.body["answeredAt"] == nil {
		t.Errorf("answer not recorded: %s", r.raw)
	}
}

func TestListsPageWithCursors(t *testing.T) {
	e := newEnv(t)
	var ids []string
	cursor := ""
	for range 5 {
		r := e.must(e.do("officer-lahti", "GET", dpsPath+"/applications?limit=1&cursor="+cursor, nil), 200)
		for _, it := range r.body["items"].([]any) {
			ids = append(ids, it.(map[string]any)["id"].(string))
		}
		cursor, _ = r.body["cursor"].(string)
		if cursor == "" {
			break
		}
	}
	if len(ids) != 3 {
		t.Errorf("paged through %d applications one at a time, want 3", len(ids))
	}
}

// Two officers deciding the same application at once: exactly one wins, the
// other is told to reload, and the audit chain stays whole.
func TestConcurrentDecisionsConflict(t *testing.T) {
	e := newEnv(t)
	app := e.pending()["prov-staffing"]
	path := dpsPath + "/applications/" + app["id"].(string) + "/decisions"
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	for i, who := range []string{"officer-lahti", "officer-ph"} {
		wg.Go(func() {
			statuses[i] = e.do(who, "POST", path, map[string]any{"category": "job-coaching", "outcome": "admitted", "version": app["version"]}).status
		})
	}
	wg.Wait()
	if !(statuses[0] == 200 && statuses[1] == 409 || statuses[0] == 409 && statuses[1] == 200) {
		t.Errorf("got statuses %v, want one 200 and one 409", statuses)
	}
	verifyChain(t, e.store, dynamo.ApplicationChain(app["id"].(string)))
}

func verifyChain(t *testing.T, st *dynamo.Store, chain string) {
	t.Helper()
	ctx := t.Context()
	v := audit.NewVerifier(chain, 1)
	events, err := dynamo.All(func(cur string) (dynamo.Page[audit.Event], error) { return st.ListEvents(ctx, chain, 1, cur, 100) })
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		v.Add(ev)
	}
	head, err := st.ChainHead(ctx, chain)
	if err != nil {
		t.Fatal(err)
	}
	if res := v.Finish(head, true); !res.Valid || res.Checked == 0 {
		t.Errorf("chain %s: %+v", chain, res)
	}
}
