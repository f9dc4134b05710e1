package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rengas/rengas/shared/httpapi"
	"github.com/rengas/rengas/shared/procurement"
)

// Hostile ids in every path parameter of every route, as every caller:
// never a server error, always a problem document, and nothing written.
func TestHostileIDs(t *testing.T) {
	e := newEnv(t)
	hostile := []string{"%25", "%2500", "a%00b", "a%0Ab", "a%3Fb", "a%23b", "a%2Fb", "..", "a%20b", "%C3%A4", strings.Repeat("x", 129), "a%22b", "a%7Bb%7D"}
	// Every chain's head is indexed by the time of its last event.
	changed := func() int {
		hs, err := e.store.ChangedHeads(t.Context(), time.Time{}, e.clock.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return len(hs)
	}
	before, start := changed(), e.clock.Now()
	n := 0
	for _, rt := range httpapi.Routes {
		if !strings.Contains(rt.Path, "{") {
			continue
		}
		for _, h := range hostile {
			for _, user := range []string{"officer-lahti", "provider-tyopaja", "auditor", ""} {
				path := pathParamAll(rt.Path, h)
				req, _ := http.NewRequest(rt.Method, e.url+path, strings.NewReader(`{}`))
				if user != "" {
					req.Header.Set("Authorization", "Bearer "+e.tokens[user])
				}
				req.Header.Set("Content-Type", "application/json")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				n++
				if res.StatusCode >= 500 || res.StatusCode < 400 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
					t.Errorf("%s %s as %q: %d %s %s", rt.Method, path, user, res.StatusCode, res.Header.Get("Content-Type"), body)
				}
			}
		}
	}
	if hs, _ := e.store.ChangedHeads(t.Context(), start, e.clock.Now().Add(time.Hour)); changed() != before || len(hs) != 0 {
		t.Errorf("hostile requests appended to chains: %v", hs)
	}
	t.Logf("%d hostile requests", n)
}

func pathParamAll(path, v string) string {
	for {
		i := strings.Index(path, "{")
		if i < 0 {
			return path
		}
		j := strings.Index(path[i:], "}")
		path = path[:i] + v + path[i+j+1:]
	}
}

// A bid may name only the consortium that was admitted, or none.
func TestBidNamesOnlyTheAdmittedConsortium(t *testing.T) {
	e := newEnv(t)
	id := e.publish(definition(e.clock.Now()))
	o := offer(300000, 120000, 0)
	o["consortiumMembers"] = []map[string]any{{"name": "Ghost Oy", "businessId": "1572860-0", "legalForm": "company", "homeMunicipality": "Lahti"}}
	e.problem(e.do("provider-tyopaja", "PUT", "/competitions/"+id+"/bids/mine", o), 400, "consortiumMembers")
	e.problem(e.do("provider-tyopaja", "GET", "/competitions/"+id+"/bids/mine", nil), 404, "")
	r := e.must(e.do("provider-tyopaja", "PUT", "/competitions/"+id+"/bids/mine", offer(300000, 120000, 0)), 201)
	if n := len(r.body["consortiumMembers"].([]any)); n != 0 {
		t.Errorf("a provider admitted alone bids with %d members", n)
	}
}

// Award CSV cells that a spreadsheet would run as formulas are neutralised.
func TestCSVNeutralisesFormulas(t *testing.T) {
	e := newEnv(t)
	def := definition(e.clock.Now())
	def["title"] = "=HYPERLINK(\"http://x\",\"click\")"
	id := e.publish(def)
	e.must(e.do("provider-tyopaja", "PUT", "/competitions/"+id+"/bids/mine", offer(300000, 120000, 0)), 201)
	e.clock.Advance(13 * 24 * 60 * 60 * 1e9)
	e.award(id, map[string][3]int{"prov-tyopaja": {3, 3, 3}})
	r := e.do("auditor", "GET", "/audit/awards.csv?dpsId=lahti-ph-employment-2026", nil)
	if r.status != 200 || !strings.Contains(string(r.raw), `'=HYPERLINK`) {
		t.Errorf("CSV: %d %s", r.status, r.raw)
	}
}

// A quarter without awards has no OCDS package: 404, not an invalid package.
func TestEmptyQuarterIsNotFound(t *testing.T) {
	e := newEnv(t)
	e.problem(e.do("", "GET", "/open-data/dps/lahti-ph-employment-2026/quarters/2019-Q1/ocds", nil), 404, "")
}

// Reversed ranges are refused with a field error, never passed to DynamoDB.
func TestReversedRanges(t *testing.T) {
	e := newEnv(t)
	e.problem(e.do("auditor", "GET", "/audit/awards?dpsId=lahti-ph-employment-2026&from=2026-12-01&to=2026-01-01", nil), 400, "to")
	e.problem(e.do("auditor", "GET", "/audit/statistics?dpsId=lahti-ph-employment-2026&from=2026-12&to=2026-01", nil), 400, "to")
	e.problem(e.do("auditor", "GET", "/audit/chains/dps.lahti-ph-employment-2026/verification?fromSeq=9&toSeq=2", nil), 400, "toSeq")
	// A cursor that was not issued for this list, or is reused with other filters.
	page := e.must(e.do("auditor", "GET", "/dps/lahti-ph-employment-2026/applications?status=decided&limit=1", nil), 200)
	cur := page.str("cursor")
	if cur == "" || cur == "<nil>" {
		t.Fatalf("no cursor: %s", page.raw)
	}
	e.problem(e.do("auditor", "GET", "/dps/lahti-ph-employment-2026/applications?status=received&limit=1&cursor="+cur, nil), 400, "cursor")
	e.problem(e.do("auditor", "GET", "/dps/lahti-ph-employment-2026/applications?status=decided&limit=1&cursor=eyJQSyI6IngifQ.AAAA", nil), 400, "cursor")
	e.must(e.do("auditor", "GET", "/dps/lahti-ph-employment-2026/applications?status=decided&limit=1&cursor="+cur, nil), 200)
}

// A bid at the limits, written in the characters JSON encoders like to
// escape, is stored: the stored record is no larger than what was sent.
func TestBidOfHTMLCharactersFitsItsItem(t *testing.T) {
	e := newEnv(t)
	def := definition(e.clock.Now())
	id := e.publish(def)
	o := offer(300000, 120000, 0)
	answers := map[string]string{}
	for _, k := range []string{"individual-service", "employer-network", "outcome-follow-up"} {
		answers[k] = strings.Repeat("<&>", 20000/3)
	}
	o["answers"] = answers
	var subs []map[string]any
	for i := range 20 {
		bid := ""
		for k := 0; bid == ""; k++ {
			bid = procurement.BusinessIDFor(4100000 + 10*i + k)
		}
		subs = append(subs, map[string]any{"name": strings.Repeat("&", 200), "businessId": bid, "role": strings.Repeat("<", 500)})
	}
	o["subcontractors"] = subs
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false) // as sent by most clients
	if err := enc.Encode(o); err != nil {
		t.Fatal(err)
	}
	r := e.do("provider-tyopaja", "PUT", "/competitions/"+id+"/bids/mine", body.String())
	if r.status != 201 {
		t.Fatalf("a %d-byte bid of < & > answered %d: %s", body.Len(), r.status, truncate(r.raw, 500))
	}
	b, err := e.store.GetBid(t.Context(), id, "prov-tyopaja")
	if err != nil || b.Answers["employer-network"] != answers["employer-network"] {
		t.Errorf("the bid was not stored as sent: %v", err)
	}
}
