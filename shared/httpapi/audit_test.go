package httpapi_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/rengas/rengas/shared/ocds/ocdstest"

	"github.com/rengas/rengas/shared/audit"
	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/httpapi"
	"github.com/rengas/rengas/shared/seed"
)

var pathParam = strings.NewReplacer("{dpsId}", seed.DPSID, "{competitionId}", "c", "{applicationId}", "a", "{providerId}", "p",
	"{categoryId}", "job-coaching", "{questionId}", "q", "{requestId}", "r", "{chainId}", "x", "{quarter}", "2026-Q4", "{fileId}", "f", "{documentId}", "d",
	"{referralId}", "r", "{claimId}", "c", "{entryId}", "000000000001")

// An auditor reads everything and changes nothing: every route that
// writes refuses the auditor role.
func TestAuditorCannotWrite(t *testing.T) {
	e := newEnv(t)
	writes := 0
	for _, rt := range httpapi.Routes {
		if rt.Method == "GET" {
			continue
		}
		writes++
		e.problem(e.do("auditor", rt.Method, pathParam.Replace(rt.Path), map[string]any{}), 403, "")
	}
	if writes < 20 {
		t.Errorf("only %d write routes checked", writes)
	}
}

// award scores and awards a competition that is past its deadline.
func (e *env) award(comp string, scores map[string][3]int) map[string]any {
	e.t.Helper()
	base := "/competitions/" + comp
	e.openBids(e.clock.Now())
	e.must(e.do("officer-lahti", "POST", base+"/conflict-declarations", map[string]any{"statement": "No ties to any bidder."}), 201)
	bids := e.must(e.do("officer-lahti", "GET", base+"/bids", nil), 200)
	for _, b := range bids.body["items"].([]any) {
		b := b.(map[string]any)
		sc, ok := scores[b["providerId"].(string)]
		if !ok || b["status"] != "submitted" {
			continue
		}
		ver := b["version"]
		for i, c := range []string{"individual-service", "employer-network", "outcome-follow-up"} {
			r := e.must(e.do("officer-lahti", "POST", base+"/bids/"+b["providerId"].(string)+"/scores",
				map[string]any{"criterion": c, "score": sc[i], "reason": "Assessed.", "version": ver}), 200)
			ver = r.body["version"]
		}
	}
	v := e.must(e.do("officer-lahti", "GET", base, nil), 200).body["version"]
	return e.must(e.do("officer-lahti", "POST", base+"/award", map[string]any{"reasons": "Best value.", "version": v}), 200).body
}

// history builds two awards: the seeded competition (won by the college)
// and a second one won by the consortium led by the foundation.
func (e *env) history() (first, second string) {
	e.t.Helper()
	comps := e.must(e.do("auditor", "GET", dpsPath+"/competitions", nil), 200)
	first = comps.str("items.0.id")
	e.award(first, map[string][3]int{"prov-tyopaja": {4, 3, 5}, "prov-college": {5, 5, 2}})

	e.admit("prov-foundation")
	def := definition(e.clock.Now())
	second = e.publish(def)
	e.must(e.do("provider-foundation", "PUT", "/competitions/"+second+"/bids/mine", offer(250000, 150000, 0)), 201)
	e.must(e.do("provider-tyopaja", "PUT", "/competitions/"+second+"/bids/mine", offer(320000, 100000, 0)), 201)
	deadline, _ := time.Parse(time.RFC3339, def["bidDeadline"].(string))
	e.clock.Set(deadline.Add(time.Minute))
	e.award(second, map[string][3]int{"prov-foundation": {5, 4, 4}, "prov-tyopaja": {3, 3, 3}})
	return first, second
}

func TestAwardHistoryFiltersAndStatistics(t *testing.T) {
	e := newEnv(t)
	first, second := e.history()
	list := func(q string) []string {
		r := e.must(e.do("auditor", "GET", "/audit/awards?dpsId="+seed.DPSID+q, nil), 200)
		var ids []string
		for _, it := range r.body["items"].([]any) {
			ids = append(ids, it.(map[string]any)["competitionId"].(string)+"/"+it.(map[string]any)["providerId"].(string))
		}
		return ids
	}
	today := e.clock.Now().UTC().Format(time.DateOnly)
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{first + "/prov-college", second + "/prov-foundation"}},
		{"&order=desc", []string{second + "/prov-foundation", first + "/prov-college"}},
		{"&legalForm=ngo", []string{second + "/prov-foundation"}},
		{"&legalForm=educational_institution", []string{first + "/prov-college"}},
		{"&provider=0127614-8", []string{second + "/prov-foundation"}}, // a consortium member
		{"&provider=prov-college", []string{first + "/prov-college"}},
		{"&category=ips-coaching", nil},
		{"&buyer=buyer-lahti", []string{first + "/prov-college", second + "/prov-foundation"}},
		// The consortium: 20 × (2500 + 1500 × 0.25 + 800 × 0.15) = 59 900.00 EUR.
		{"&minValueCents=5990000&maxValueCents=5990000", []string{second + "/prov-foundation"}},
		{"&from=" + today, []string{second + "/prov-foundation"}},
		{"&to=2020-01-01", nil},
	}
	for _, tt := range tests {
		if got := list(tt.query); fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("awards%s = %v, want %v", tt.query, got, tt.want)
		}
	}
	e.problem(e.do("auditor", "GET", "/audit/awards?dpsId="+seed.DPSID+"&legalForm=charity", nil), 400, "legalForm")
	e.problem(e.do("auditor", "GET", "/audit/awards", nil), 400, "dpsId")
	e.problem(e.do("provider-tyopaja", "GET", "/audit/awards?dpsId="+seed.DPSID, nil), 403, "")

	// Paging: one award per page, then none.
	r := e.must(e.do("auditor", "GET", "/audit/awards?limit=1&dpsId="+seed.DPSID, nil), 200)
	r = e.must(e.do("auditor", "GET", "/audit/awards?limit=1&dpsId="+seed.DPSID+"&cursor="+r.str("cursor"), nil), 200)
	if r.str("items.0.providerId") != "prov-foundation" {
		t.Errorf("second page: %s", r.raw)
	}

	// CSV: the same rows.
	c := e.do("auditor", "GET", "/audit/awards.csv?dpsId="+seed.DPSID, nil)
	rows, err := csv.NewReader(strings.NewReader(string(c.raw))).ReadAll()
	if err != nil || c.status != 200 || len(rows) != 3 || rows[0][0] != "decisionDate" || !strings.Contains(c.ctype, "text/csv") {
		t.Errorf("CSV: %d %s %v %v", c.status, c.ctype, rows, err)
	}

	// Statistics: two competitions, four bids, one award of two to the
	// third sector (the foundation's consortium), both to local providers.
	from := e.clock.Now().AddDate(0, -2, 0).UTC().Format("2006-01")
	s := e.must(e.do("auditor", "GET", "/audit/statistics?dpsId="+seed.DPSID+"&from="+from+"&to="+e.clock.Now().UTC().Format("2006-01"), nil), 200)
	got := fmt.Sprint(s.body["competitions"], s.body["bids"], s.body["averageBidsPerCompetition"], s.body["awards"],
		dig(s.body, "thirdSector.awardSharePercent"), dig(s.body, "localProviders.awardSharePercent"), dig(s.body, "byLegalForm.educational_institution.awards"))
	if got != fmt.Sprint(2, 4, "2.00", 2, "50.00", "100.00", 1) {
		t.Errorf("statistics: %s", s.raw)
	}
}

func TestDossierFollowsTheProcedure(t *testing.T) {
	e := newEnv(t)
	comps := e.must(e.do("auditor", "GET", dpsPath+"/competitions", nil), 200)
	id := comps.str("items.0.id")
	e.award(id, map[string][3]int{"prov-tyopaja": {4, 3, 5}, "prov-college": {5, 5, 2}})
	d := e.must(e.do("auditor", "GET", "/audit/competitions/"+id+"/dossier", nil), 200)
	var actions []string
	last := ""
	for _, ev := range d.body["trail"].([]any) {
		ev := ev.(map[string]any)
		if at := ev["at"].(string); at < last {
			t.Errorf("trail out of order at %s", ev["action"])
		} else {
			last = at
		}
		if a := ev["action"].(string); len(actions) == 0 || actions[len(actions)-1] != a {
			actions = append(actions, a)
		}
	}
	want := "competition.drafted competition.published question.asked question.answered bid.submitted competition.opened " +
		"competition.conflict_declared bid.scored competition.awarded"
	if strings.Join(actions, " ") != want {
		t.Errorf("dossier trail:\n got %s\nwant %s", strings.Join(actions, " "), want)
	}
	if n := len(d.body["bids"].([]any)); n != 2 {
		t.Errorf("dossier has %d bids, want 2", n)
	}
	var notices []string
	for _, n := range d.body["notifications"].([]any) {
		notices = append(notices, n.(map[string]any)["kind"].(string))
	}
	if strings.Join(notices, " ") != "competition.invited question.answered competition.awarded" {
		t.Errorf("notifications: %v", notices)
	}
	if dig(d.body, "competition.conflictDeclarations.0.by") != "officer-lahti" || d.str("questions.0.askedBy") != "prov-college" {
		t.Errorf("auditor must see declarations and askers: %s", d.raw)
	}
}

func TestSealedTrailsBeforeTheDeadline(t *testing.T) {
	e := newEnv(t)
	id := e.publish(definition(e.clock.Now()))
	e.must(e.do("provider-tyopaja", "PUT", "/competitions/"+id+"/bids/mine", offer(300000, 120000, 0)), 201)
	e.problem(e.do("auditor", "GET", "/audit/chains/"+dynamo.BidChain(id, "prov-tyopaja")+"/events", nil), 404, "")
	e.problem(e.do("auditor", "GET", "/audit/chains/"+dynamo.BidChain(id, "prov-college")+"/events", nil), 404, "")
	d := e.must(e.do("auditor", "GET", "/audit/competitions/"+id+"/dossier", nil), 200)
	if strings.Contains(string(d.raw), "bid.submitted") || len(d.body["bids"].([]any)) != 0 {
		t.Errorf("dossier reveals sealed bids: %s", d.raw)
	}
	e.problem(e.do("auditor", "GET", "/competitions/"+id+"/bids", nil), 409, "")
}

// Altering one stored event directly in the database makes verification
// fail at exactly that event.
func TestTamperingIsFound(t *testing.T) {
	e := newEnv(t)
	app := e.pending()["prov-staffing"]
	chain := dynamo.ApplicationChain(app["id"].(string))
	r := e.must(e.do("officer-lahti", "POST", dpsPath+"/applications/"+app["id"].(string)+"/decisions",
		map[string]any{"category": "job-coaching", "outcome": "admitted", "version": app["version"]}), 200)
	e.must(e.do("officer-lahti", "POST", dpsPath+"/applications/"+app["id"].(string)+"/decisions",
		map[string]any{"category": "ips-coaching", "outcome": "rejected", "reason": "No IPS fidelity review yet.", "version": r.body["version"]}), 200)
	r = e.must(e.do("auditor", "GET", "/audit/chains/"+chain+"/verification", nil), 200)
	if r.body["valid"] != true || r.body["checked"].(float64) != 3 {
		t.Fatalf("untouched chain: %s", r.raw)
	}
	const seq = 2
	e.alterEvent(chain, seq, func(ev map[string]any) { ev["actor"] = "someone-else" })
	r = e.must(e.do("auditor", "GET", "/audit/chains/"+chain+"/verification", nil), 200)
	if r.body["valid"] != false || r.body["brokenAt"].(float64) != seq {
		t.Errorf("after altering event %d: %s", seq, r.raw)
	}
	// A range before the altered event still verifies.
	r = e.must(e.do("auditor", "GET", "/audit/chains/"+chain+"/verification?toSeq=1", nil), 200)
	if r.body["valid"] != true {
		t.Errorf("range 1-1: %s", r.raw)
	}
	e.problem(e.do("officer-lahti", "GET", "/audit/chains/"+chain+"/verification", nil), 403, "")
}

// alterEvent rewrites a stored event directly in the table, as someone
// with write access to the table could, without recomputing any hash.
func (e *env) alterEvent(chain string, seq int64, change func(map[string]any)) {
	e.t.Helper()
	k := map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "CHAIN#" + chain}, "SK": &types.AttributeValueMemberS{Value: fmt.Sprintf("EV#%012d", seq)}}
	got, err := e.db.GetItem(e.t.Context(), &dynamodb.GetItemInput{TableName: aws.String(e.store.Table()), Key: k})
	if err != nil || got.Item == nil {
		e.t.Fatalf("read event %d: %v", seq, err)
	}
	var ev map[string]any
	_ = json.Unmarshal([]byte(got.Item["data"].(*types.AttributeValueMemberS).Value), &ev)
	change(ev)
	b, _ := json.Marshal(ev)
	got.Item["data"] = &types.AttributeValueMemberS{Value: string(b)}
	if _, err := e.db.PutItem(e.t.Context(), &dynamodb.PutItemInput{TableName: aws.String(e.store.Table()), Item: got.Item}); err != nil {
		e.t.Fatal(err)
	}
}

// Real exports validate against the OCDS 1.1.5 release package schema
// with the declared extensions, strictly (no undeclared field).
func TestOCDSExportsValidate(t *testing.T) {
	e := newEnv(t)
	first, second := e.history()
	schema := ocdstest.Build(t).ReleasePackage
	quarter := fmt.Sprintf("%d-Q%d", e.clock.Now().Year(), (int(e.clock.Now().Month())-1)/3+1)
	for _, path := range []string{
		"/open-data/competitions/" + first + "/ocds",
		"/open-data/competitions/" + second + "/ocds",
		"/open-data/dps/" + seed.DPSID + "/quarters/" + quarter + "/ocds",
	} {
		r := e.must(e.do("", "GET", path, nil), 200)
		if err := ocdstest.Validate(schema, r.raw); err != nil {
			t.Errorf("%s does not validate: %v", path, err)
		}
		if !strings.Contains(string(r.raw), `"award"`) || !strings.Contains(string(r.raw), `"framework"`) {
			t.Errorf("%s lacks awards or the DPS relation", path)
		}
		// Control: the validator rejects a broken copy of the same export.
		if ocdstest.Validate(schema, []byte(strings.Replace(string(r.raw), `"tag":["award"`, `"tag":["bogus"`, 1))) == nil {
			t.Errorf("%s: a release with tag bogus validates; the schema is not being applied", path)
		}
	}
	q := e.must(e.do("auditor", "GET", "/audit/dps/"+seed.DPSID+"/quarters/"+quarter, nil), 200)
	if q.body["awards"].(float64) != 2 || q.body["competitions"].(float64) != 2 || q.str("noticeDueBy") == "" {
		t.Errorf("quarterly grouping: %s", q.raw)
	}
	// A draft is not open data.
	r := e.must(e.do("officer-lahti", "POST", dpsPath+"/competitions", definition(e.clock.Now())), 201)
	e.problem(e.do("", "GET", "/open-data/competitions/"+r.str("id")+"/ocds", nil), 404, "")
}

// The audit function may only read (its IAM role, and a read-only store
// here): an auditor who is the first to look at a competition past its
// deadline gets answers, and the competition stays unopened until the
// scheduled job opens it.
func TestAuditReadsNeverWrite(t *testing.T) {
	e := newEnv(t)
	def := definition(e.clock.Now())
	id := e.publish(def)
	e.must(e.do("provider-tyopaja", "PUT", "/competitions/"+id+"/bids/mine", offer(300000, 120000, 0)), 201)
	deadline, _ := time.Parse(time.RFC3339, def["bidDeadline"].(string))
	e.clock.Set(deadline.Add(time.Hour))
	for _, path := range []string{"/audit/competitions/" + id + "/dossier", "/open-data/competitions/" + id + "/ocds",
		"/audit/chains/" + dynamo.DPSChain(seed.DPSID) + "/verification"} {
		e.must(e.do("auditor", "GET", path, nil), 200)
	}
	if r := e.must(e.do("auditor", "GET", "/competitions/"+id, nil), 200); r.str("status") != "closed" {
		t.Errorf("past its deadline and unopened, the competition shows as %s, want closed", r.str("status"))
	}
	e.problem(e.do("auditor", "GET", "/audit/chains/"+dynamo.BidChain(id, "prov-tyopaja")+"/events", nil), 404, "")
	if c, _ := e.store.ReadCompetition(t.Context(), id); c.Status != "published" {
		t.Errorf("an auditor's reads changed the competition to %s", c.Status)
	}
}

// Anchors are open data that never name a sealed bid's chain before the
// opening; auditors verify them, and chains against them; a chain
// rewritten consistently in the table no longer verifies.
func TestAnchorsAreOpenDataAndVerify(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	def := definition(e.clock.Now())
	comp := e.publish(def)
	e.must(e.do("provider-tyopaja", "PUT", "/competitions/"+comp+"/bids/mine", offer(300000, 120000, 0)), 201)
	e.clock.Advance(dynamo.AnchorSettle + time.Second)
	anchor := func() string {
		t.Helper()
		if _, err := e.store.Anchor(ctx); err != nil {
			t.Fatal(err)
		}
		return e.must(e.do("", "GET", "/open-data/anchors?limit=1", nil), 200).str("items.0.seq")
	}
	n := anchor()
	a := e.must(e.do("", "GET", "/open-data/anchors/"+n, nil), 200)
	if strings.Contains(string(a.raw), "bid.") || strings.Contains(string(a.raw), comp+".") {
		t.Errorf("anchor %s names a sealed bid's chain before the opening: %s", n, a.raw)
	}
	// Anyone can recompute the Merkle root from the published heads.
	var pub struct {
		Root  string               `json:"merkleRoot"`
		Heads []audit.AnchoredHead `json:"heads"`
	}
	if err := json.Unmarshal(a.raw, &pub); err != nil || len(pub.Heads) == 0 || audit.MerkleRoot(pub.Heads) != pub.Root {
		t.Errorf("published anchor: root %s, recomputed %s (%v)", pub.Root, audit.MerkleRoot(pub.Heads), err)
	}
	v := e.must(e.do("auditor", "GET", "/audit/anchors/"+n+"/verification", nil), 200)
	if v.body["valid"] != true || v.str("bucket") != "matches" || v.str("summary") == "" {
		t.Errorf("anchor verification: %s", v.raw)
	}
	e.problem(e.do("officer-lahti", "GET", "/audit/anchors/"+n+"/verification", nil), 403, "")
	e.problem(e.do("auditor", "GET", "/audit/anchors/0/verification", nil), 404, "") // not an anchor number

	// After the opening (the scheduled job opens, then anchors) the bid
	// chains are anchored.
	sealed := n
	deadline, _ := time.Parse(time.RFC3339, def["bidDeadline"].(string))
	e.openBids(deadline)
	e.clock.Advance(dynamo.AnchorSettle + time.Second)
	n = anchor()
	found := false
	from, _ := strconv.Atoi(sealed)
	last, _ := strconv.Atoi(n)
	for k := from + 1; k <= last; k++ {
		r := e.must(e.do("", "GET", fmt.Sprintf("/open-data/anchors/%d", k), nil), 200)
		found = found || strings.Contains(string(r.raw), dynamo.BidChain(comp, "prov-tyopaja"))
	}
	if !found {
		t.Errorf("no anchor after the opening has the bid chain")
	}

	// A provider's registration chain, rewritten with its hashes and head
	// recomputed: the chain alone would verify, the anchor does not agree.
	chain := dynamo.ProviderChain("prov-college")
	r := e.must(e.do("auditor", "GET", "/audit/chains/"+chain+"/verification", nil), 200)
	if r.body["valid"] != true || r.str("anchors.0.outcome") != "matches" || r.str("anchors.0.bucket") != "matches" {
		t.Fatalf("untouched chain: %s", r.raw)
	}
	e.alterEvent(chain, 1, func(ev map[string]any) {
		var x audit.Event
		ev["summary"] = "Someone else entirely"
		b, _ := json.Marshal(ev)
		_ = json.Unmarshal(b, &x)
		x.Hash = x.ComputeHash()
		b, _ = json.Marshal(x)
		clear(ev)
		_ = json.Unmarshal(b, &ev)
		head := map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "CHAIN#" + chain}, "SK": &types.AttributeValueMemberS{Value: "HEAD"}}
		if _, err := e.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(e.store.Table()), Key: head,
			UpdateExpression: aws.String("SET #h = :h"), ExpressionAttributeNames: map[string]string{"#h": "hash"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":h": &types.AttributeValueMemberS{Value: x.Hash}}}); err != nil {
			t.Fatal(err)
		}
	})
	var own audit.Result
	evs, _ := dynamo.All(func(cur string) (dynamo.Page[audit.Event], error) { return e.store.ListEvents(ctx, chain, 1, cur, 100) })
	head, _ := e.store.ChainHead(ctx, chain)
	ver := audit.NewVerifier(chain, 1)
	for _, ev := range evs {
		ver.Add(ev)
	}
	if own = ver.Finish(head, true); !own.Valid {
		t.Fatalf("the rewrite is not consistent, the test proves nothing: %+v", own)
	}
	r = e.must(e.do("auditor", "GET", "/audit/chains/"+chain+"/verification", nil), 200)
	if r.body["valid"] != false || r.str("anchors.0.outcome") != "differs" || !strings.Contains(r.str("summary"), "broken") {
		t.Errorf("a consistently rewritten chain: %s", r.raw)
	}
	first := e.must(e.do("auditor", "GET", "/audit/anchors?limit=100", nil), 200)
	items := first.body["items"].([]any)
	oldest := fmt.Sprint(items[len(items)-1].(map[string]any)["seq"])
	v = e.must(e.do("auditor", "GET", "/audit/anchors/"+oldest+"/verification", nil), 200)
	if v.body["valid"] != false || !strings.Contains(string(v.raw), chain) {
		t.Errorf("the anchor that fixed %s: %s", chain, v.raw)
	}
}
