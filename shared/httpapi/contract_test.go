package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/rengas/rengas/shared/httpapi"
	"github.com/rengas/rengas/shared/seed"
)

// The edge refuses what the document refuses, before any handler runs,
// naming each field and the fix.
func TestEdgeRefusesWhatTheDocumentRefuses(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, user, method, path string
		body                     any
		status                   int
		field, fix               string
	}{
		{"empty question", "provider-tyopaja", "POST", "/competitions/c/questions", map[string]any{"question": ""}, 400, "question", "is required"},
		{"bid without a fee", "provider-tyopaja", "PUT", "/competitions/c/bids/mine", map[string]any{"version": 0}, 400, "fixedFeeCents", "is required"},
		{"score out of range", "officer-lahti", "POST", "/competitions/c/bids/p/scores", map[string]any{"criterion": "x", "score": 6, "reason": "x", "version": 1}, 400, "score", "must be at most 5"},
		{"string for a number", "officer-lahti", "POST", "/competitions/c/publication", map[string]any{"version": "1"}, 400, "version", "must be an integer, not a JSON string"},
		{"nested unknown field", "provider-new", "POST", "/providers", map[string]any{"name": "Uusi", "businessId": "0114162-2", "legalForm": "company",
			"homeMunicipality": "Lahti", "contact": map[string]any{"name": "Ulla", "email": "ulla@example.fi", "fax": "1"}}, 400, "contact.fax", "is not a field"},
		{"rate above 1", "officer-lahti", "PUT", "/competitions/c", map[string]any{"maxOutcomeShare": 1.5}, 400, "maxOutcomeShare", "must be at most 1"},
		{"rate as a string", "officer-lahti", "PUT", "/competitions/c", map[string]any{"maxOutcomeShare": "0.5"}, 400, "maxOutcomeShare", "must be a number"},
		{"array element", "officer-lahti", "POST", dpsPath + "/declaration-requests", map[string]any{"providerIds": []string{""}, "message": "m", "dueOn": "2099-01-30"}, 400, "providerIds[0]", "is required"},
		{"date", "officer-lahti", "POST", dpsPath + "/declaration-requests", map[string]any{"providerIds": []string{"p"}, "message": "m", "dueOn": "30.1.2099"}, 400, "dueOn", "YYYY-MM-DD"},
		{"limit not a number", "officer-lahti", "GET", "/dps?limit=many", nil, 400, "limit", "whole number from 1 to 100"},
		{"limit too large", "officer-lahti", "GET", "/dps?limit=101", nil, 400, "limit", "whole number from 1 to 100"},
		{"sequence number", "auditor", "GET", "/audit/chains/dps." + seed.DPSID + "/verification?toSeq=-1", nil, 400, "toSeq", "whole number from 0"},
		{"days", "officer-lahti", "GET", dpsPath + "/documents/expiring?days=731", nil, 400, "days", "whole number from 0 to 730"},
		{"order", "auditor", "GET", "/audit/awards?dpsId=" + seed.DPSID + "&order=newest", nil, 400, "order", "must be one of: asc, desc"},
		{"legal form", "auditor", "GET", "/audit/awards?dpsId=" + seed.DPSID + "&legalForm=ngo,plc", nil, 400, "legalForm", "ngo or legal forms"},
		{"day", "auditor", "GET", "/audit/awards?dpsId=" + seed.DPSID + "&from=2026-1-1", nil, 400, "from", "YYYY-MM-DD"},
		{"cents", "auditor", "GET", "/audit/awards?dpsId=" + seed.DPSID + "&minValueCents=-5", nil, 400, "minValueCents", "0 or more"},
		{"month", "auditor", "GET", "/audit/statistics?dpsId=" + seed.DPSID + "&to=2026-13", nil, 400, "to", "month YYYY-MM"},
		{"required dpsId", "auditor", "GET", "/audit/statistics?from=2026-01", nil, 400, "dpsId", "is required"},
		{"empty dpsId", "auditor", "GET", "/audit/awards?dpsId=", nil, 400, "dpsId", "is required"},
		{"malformed quarter", "auditor", "GET", "/audit/dps/" + seed.DPSID + "/quarters/2026-Q5", nil, 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			r := e.do(tt.user, tt.method, tt.path, tt.body)
			e.problem(r, tt.status, tt.field)
			if tt.fix != "" && !strings.Contains(string(r.raw), tt.fix) {
				t.Errorf("the problem does not say %q: %s", tt.fix, r.raw)
			}
		})
	}
	e.t = t
	// What the handlers read as absent passes: an empty optional value.
	e.must(e.do("officer-lahti", "GET", dpsPath+"/applications?status=&limit=", nil), 200)
	e.must(e.do("auditor", "GET", "/audit/awards?dpsId="+seed.DPSID+"&legalForm=ngo,%20company&order=desc", nil), 200)
}

// The response check of env.do is no formality: it refuses answers that
// break the document, and passes the real one.
func TestResponseCheckCatchesBrokenAnswers(t *testing.T) {
	e := newEnv(t)
	r := e.must(e.do("officer-lahti", "GET", dpsPath, nil), 200)
	req, _ := http.NewRequest("GET", e.url+dpsPath, nil)
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	if err := conforms(req, 200, jsonCT, r.raw); err != nil {
		t.Fatalf("the real answer breaks the document: %v", err)
	}
	body := string(r.raw)
	broken := []struct {
		name   string
		status int
		header http.Header
		body   string
	}{
		{"undocumented status", http.StatusTeapot, jsonCT, body},
		{"409 on a read", http.StatusConflict, http.Header{"Content-Type": {"application/problem+json"}}, `{"type":"t","title":"Conflict","status":409,"detail":"d"}`},
		{"wrong content type", 200, http.Header{"Content-Type": {"text/plain"}}, body},
		{"problem without detail", 404, http.Header{"Content-Type": {"application/problem+json"}}, `{"type":"t","title":"Not Found","status":404}`},
		{"integer as a string", 200, jsonCT, strings.Replace(body, `"version":1`, `"version":"1"`, 1)},
		{"missing field", 200, jsonCT, strings.Replace(body, `"ring":`, `"ringName":`, 1)},
		{"null object", 200, jsonCT, strings.Replace(body, `"settings":{`, `"settings":null,"x":{`, 1)},
	}
	for _, b := range broken {
		if b.body == body && b.status == 200 && b.header.Get("Content-Type") == "application/json" {
			t.Fatalf("%s: the mutation changed nothing", b.name)
		}
		if err := conforms(req, b.status, b.header, []byte(b.body)); err == nil {
			t.Errorf("%s: the broken answer passed", b.name)
		}
	}
}

// The router the response check uses finds, for every route, the
// operation the server validates its requests against, and the embedded
// document loads and validates.
func TestContractRoutesEveryOperation(t *testing.T) {
	c, err := httpapi.LoadContract()
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range httpapi.Routes {
		req, _ := http.NewRequest(rt.Method, pathParam.Replace(rt.Path), nil)
		route, _, err := c.Router.FindRoute(req)
		if err != nil {
			t.Errorf("%s %s: %v", rt.Method, rt.Path, err)
			continue
		}
		if route.Path != rt.Path || route.Method != rt.Method {
			t.Errorf("%s %s is routed to %s %s", rt.Method, rt.Path, route.Method, route.Path)
		}
	}
}
