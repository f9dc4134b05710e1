package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/ocds"
	"github.com/rengas/rengas/shared/ocds/ocdstest"
	"github.com/rengas/rengas/shared/seed"
)

// openData fetches every OCDS document the API publishes and checks each
// against the extended strict schema, and every release in them against
// what was first published under its id.
type openData struct {
	e       *env
	schemas ocdstest.Schemas
	// seen is every release id published so far, with its bytes.
	seen map[string]string
	// count is the number of releases of each ocid at the last fetch.
	count map[string]int
}

type pkgDoc struct {
	URI           string            `json:"uri"`
	PublishedDate string            `json:"publishedDate"`
	Extensions    []string          `json:"extensions"`
	Links         *ocds.Links       `json:"links"`
	Releases      []json.RawMessage `json:"releases"`
	Records       []struct {
		OCID            string            `json:"ocid"`
		Releases        []json.RawMessage `json:"releases"`
		CompiledRelease ocds.Release      `json:"compiledRelease"`
	} `json:"records"`
}

func (o *openData) fetch(path string, record bool) pkgDoc {
	o.e.t.Helper()
	r := o.e.must(o.e.do("", "GET", path, nil), 200)
	s := o.schemas.ReleasePackage
	if record {
		s = o.schemas.RecordPackage
	}
	if err := ocdstest.Validate(s, r.raw); err != nil {
		o.e.t.Errorf("%s does not validate against the extended schema: %v", path, err)
	}
	if cc := r.header.Get("Cache-Control"); !strings.HasPrefix(cc, "public, max-age=") || r.header.Get("ETag") == "" {
		o.e.t.Errorf("%s: Cache-Control %q, ETag %q; want public caching", path, cc, r.header.Get("ETag"))
	}
	var p pkgDoc
	if err := json.Unmarshal(r.raw, &p); err != nil {
		o.e.t.Fatal(err)
	}
	if len(p.Extensions) != len(ocds.Extensions) {
		o.e.t.Errorf("%s declares extensions %v", path, p.Extensions)
	}
	rels := p.Releases
	if record {
		rels = p.Records[0].Releases
	}
	last := ""
	for _, raw := range rels {
		var h struct{ ID, Date string }
		_ = json.Unmarshal(raw, &h)
		if before, ok := o.seen[h.ID]; ok && before != string(raw) {
			o.e.t.Errorf("%s: release %s changed since it was published:\nwas %s\nnow %s", path, h.ID, before, raw)
		}
		o.seen[h.ID] = string(raw)
		if h.Date > last {
			last = h.Date
		}
	}
	if p.PublishedDate != last {
		o.e.t.Errorf("%s: publishedDate %s, want the date of its last release %s", path, p.PublishedDate, last)
	}
	return p
}

// process fetches the release and record packages of a process and checks
// that it has exactly want releases, the last with the tag.
func (o *openData) process(path string, want int, tag string) pkgDoc {
	o.e.t.Helper()
	p := o.fetch(path, false)
	rec := o.fetch(path+"/record", true)
	if len(p.Releases) != want || len(rec.Records[0].Releases) != want {
		o.e.t.Errorf("%s has %d releases (record %d), want %d", path, len(p.Releases), len(rec.Records[0].Releases), want)
	}
	var last struct{ Tag []string }
	_ = json.Unmarshal(p.Releases[len(p.Releases)-1], &last)
	if !slices.Contains(last.Tag, tag) {
		o.e.t.Errorf("%s: the last release has tags %v, want %s", path, last.Tag, tag)
	}
	return rec
}

// feed follows the feed from its start and returns every release id in it.
func (o *openData) feed() []string {
	o.e.t.Helper()
	var ids []string
	path := "/open-data/releases?limit=3"
	prev := ""
	for range 200 {
		r := o.e.do("", "GET", path, nil)
		if r.status == 404 {
			return ids
		}
		p := o.fetch(path, false)
		for _, raw := range p.Releases {
			var h struct{ ID, Date string }
			_ = json.Unmarshal(raw, &h)
			if h.Date < prev {
				o.e.t.Errorf("the feed goes back in time: %s after %s", h.Date, prev)
			}
			prev = h.Date
			ids = append(ids, h.ID)
		}
		if p.Links == nil || p.Links.Next == "" {
			o.e.t.Fatalf("feed page %s has no links.next", path)
		}
		u, err := url.Parse(p.Links.Next)
		if err != nil {
			o.e.t.Fatal(err)
		}
		path = u.RequestURI()
	}
	o.e.t.Fatal("the feed does not end")
	return nil
}

// A procedure from the DPS to an award, with an admission, a suspension,
// an amendment, a withdrawn bid and a cancelled competition: at every step
// every package and record validates; every change is a new release; no
// release published once ever changes; nothing sealed or drafted appears.
func TestOpenDataTellsTheWholeStory(t *testing.T) {
	e := newEnv(t)
	o := &openData{e: e, schemas: ocdstest.Build(t), seen: map[string]string{}, count: map[string]int{}}
	dpsData := "/open-data/dps/" + seed.DPSID + "/ocds"

	start := o.process(dpsData, len(o.fetch(dpsData, false).Releases), "award")
	n := len(start.Records[0].Releases)
	compiled := start.Records[0].CompiledRelease
	if compiled.Tender == nil || compiled.Tender.Techniques == nil || !compiled.Tender.Techniques.HasDynamicPurchasingSystem ||
		compiled.Tender.Status != "active" || len(compiled.Tender.Lots) == 0 {
		t.Errorf("the DPS's compiled tender is not an open call with the DPS technique and lots: %+v", compiled.Tender)
	}
	if !slices.ContainsFunc(compiled.Parties, func(p ocds.Organization) bool {
		return slices.Contains(p.Roles, "buyer") && p.Identifier != nil && p.Identifier.Scheme == "FI-PRO" && p.Address != nil && p.ContactPoint != nil
	}) {
		t.Errorf("no buyer with a business id, address and contact point: %+v", compiled.Parties)
	}

	// An admission, a suspension and a reinstatement: three awards releases.
	e.admit("prov-foundation")
	path := dpsPath + "/categories/job-coaching/admissions/prov-tyopaja/status"
	adm := e.must(e.do("officer-lahti", "POST", path, map[string]any{"status": "suspended", "reason": "Tax certificate expired.", "version": 1}), 200)
	rec := o.process(dpsData, n+2, "award")
	award := func(rec pkgDoc, id string) ocds.Award {
		for _, a := range rec.Records[0].CompiledRelease.Awards {
			if a.ID == id {
				return a
			}
		}
		t.Fatalf("no award %s in the DPS's compiled release", id)
		return ocds.Award{}
	}
	if a := award(rec, "job-coaching-prov-tyopaja"); a.Status != "pending" {
		t.Errorf("suspended provider's award is %s, want pending", a.Status)
	}
	if a := award(rec, "job-coaching-prov-foundation"); a.Status != "active" || len(a.Suppliers) < 1 || a.RelatedLots[0] != "job-coaching" {
		t.Errorf("admitted provider's award: %+v", a)
	}
	for id, raw := range o.seen {
		if strings.Contains(raw, "Tax certificate") {
			t.Errorf("release %s publishes a suspension's reason", id)
		}
	}
	e.must(e.do("officer-lahti", "POST", path, map[string]any{"status": "admitted", "reason": "New certificate.", "version": adm.body["version"]}), 200)
	rec = o.process(dpsData, n+3, "award")
	if a := award(rec, "job-coaching-prov-tyopaja"); a.Status != "active" {
		t.Errorf("reinstated provider's award is %s, want active", a.Status)
	}

	// A draft is not open data.
	def := definition(e.clock.Now())
	draft := e.must(e.do("officer-lahti", "POST", dpsPath+"/competitions", def), 201)
	e.problem(e.do("", "GET", "/open-data/competitions/"+draft.str("id")+"/ocds", nil), 404, "")
	e.problem(e.do("", "GET", "/open-data/competitions/"+draft.str("id")+"/ocds/record", nil), 404, "")

	// Publication, then an amendment with its reason.
	comp := e.publish(def)
	data := "/open-data/competitions/" + comp + "/ocds"
	o.process(data, 1, "tender")
	e.problem(e.do("", "GET", data+"?after=bad", nil), 400, "after")
	e.problem(e.do("", "GET", "/open-data/releases?since=31.12.2026", nil), 400, "since")
	base := "/competitions/" + comp
	v := e.must(e.do("officer-lahti", "GET", base, nil), 200).body["version"]
	later := e.clock.Now().Add(14 * 24 * time.Hour).Format(time.RFC3339)
	e.must(e.do("officer-lahti", "PUT", base, with(with(with(def, "bidDeadline", later), "reason", "More time for consortia to form."), "version", v)), 200)
	rec = o.process(data, 2, "tenderAmendment")
	am := rec.Records[0].CompiledRelease.Tender.Amendments
	if len(am) != 1 || am[0].Rationale != "More time for consortia to form." || am[0].Date == "" {
		t.Errorf("amendments %+v, want the reason and date", am)
	}
	amendmentLinks(t, rec, 1)
	if got := rec.Records[0].CompiledRelease.Tender.TenderPeriod.EndDate; got != later {
		t.Errorf("compiled tender period ends %s, want the amended %s", got, later)
	}

	// Bids, one withdrawn: sealed, so nothing changes in the open data.
	e.must(e.do("provider-foundation", "PUT", base+"/bids/mine", offer(250000, 150000, 0)), 201)
	e.must(e.do("provider-tyopaja", "PUT", base+"/bids/mine", offer(320000, 100000, 0)), 201)
	w := e.must(e.do("provider-college", "PUT", base+"/bids/mine", offer(310000, 100000, 0)), 201)
	o.process(data, 2, "tenderAmendment")
	e.must(e.do("provider-college", "POST", base+"/bids/mine/withdrawal", map[string]any{"version": w.body["version"]}), 200)
	o.process(data, 2, "tenderAmendment")
	for id, raw := range o.seen {
		if strings.Contains(raw, "250000") || strings.Contains(raw, "2500.00") || strings.Contains(raw, `"tenderers"`) {
			t.Errorf("release %s shows sealed bids before the opening: %s", id, raw)
		}
	}

	// The opening names the bidders, never the withdrawn one.
	deadline, _ := time.Parse(time.RFC3339, later)
	e.openBids(deadline)
	rec = o.process(data, 3, "tenderUpdate")
	if tn := rec.Records[0].CompiledRelease.Tender; tn.NumberOfTenderers == nil || *tn.NumberOfTenderers != 2 || len(tn.Tenderers) != 2 {
		t.Errorf("after the opening: %d tenderers %+v, want the 2 submitted", len(tn.Tenderers), tn.Tenderers)
	}
	for id, raw := range o.seen {
		if strings.HasPrefix(id, ocds.OCID(comp)) && strings.Contains(raw, "Koulutuskeskus Salpaus") {
			t.Errorf("release %s names the bidder who withdrew", id)
		}
	}

	// The award: awards and contracts with items priced per outcome.
	e.award(comp, map[string][3]int{"prov-foundation": {5, 4, 4}, "prov-tyopaja": {3, 3, 3}})
	rec = o.process(data, 4, "award")
	cr := rec.Records[0].CompiledRelease
	if len(cr.Awards) != 1 || len(cr.Contracts) != 1 || len(cr.Awards[0].Items) < 2 || cr.Awards[0].Items[0].Unit.Value == nil {
		t.Fatalf("awarded: awards %+v contracts %+v", cr.Awards, cr.Contracts)
	}
	if it := cr.Awards[0].Items[0]; it.Quantity != 20 || it.Unit.Name != "client place" {
		t.Errorf("award item %+v, want 20 client places", it)
	}
	if !strings.HasSuffix(cr.Contracts[0].Period.EndDate, "T23:59:59+02:00") {
		t.Errorf("contract ends %s, want the end of the day in Helsinki", cr.Contracts[0].Period.EndDate)
	}
	if cr.RelatedProcesses[0].Identifier != ocds.DPSOCID(seed.DPSID) {
		t.Errorf("the call-off is not related to the DPS process: %+v", cr.RelatedProcesses)
	}
	quarter := fmt.Sprintf("%d-Q%d", e.clock.Now().Year(), (int(e.clock.Now().Month())-1)/3+1)
	o.fetch("/open-data/dps/"+seed.DPSID+"/quarters/"+quarter+"/ocds", false)

	// A competition cancelled after publication.
	other := e.publish(definition(e.clock.Now()))
	ov := e.must(e.do("officer-lahti", "GET", "/competitions/"+other, nil), 200).body["version"]
	e.must(e.do("officer-lahti", "POST", "/competitions/"+other+"/cancellation", map[string]any{"reason": "The budget was withdrawn.", "version": ov}), 200)
	rec = o.process("/open-data/competitions/"+other+"/ocds", 2, "tenderCancellation")
	if s := rec.Records[0].CompiledRelease.Tender.Status; s != "cancelled" {
		t.Errorf("cancelled competition's tender is %s", s)
	}

	// Every release is in the feed, once, in time order; and every package
	// fetched before still holds the same bytes.
	e.clock.Advance(2 * dynamo.FeedLag)
	inFeed := o.feed()
	for id := range o.seen {
		if c := countOf(inFeed, id); c != 1 {
			t.Errorf("release %s is %d times in the feed, want once", id, c)
		}
	}
	o.process(dpsData, n+3, "award")
	amendmentLinks(t, o.process(data, 4, "award"), 1)
	t.Logf("%d releases published and checked; the feed holds %d", len(o.seen), len(inFeed))

	// Control: a release rewritten in the table behind the application's
	// back is served changed, and the comparison above tells.
	q, err := e.db.Query(t.Context(), &dynamodb.QueryInput{TableName: aws.String(e.store.Table()), KeyConditionExpression: aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "OCDS#" + ocds.OCID(comp)}}})
	if err != nil || len(q.Items) == 0 {
		t.Fatalf("read the releases: %v", err)
	}
	item := q.Items[0]
	raw := item["data"].(*types.AttributeValueMemberS).Value
	item["data"] = &types.AttributeValueMemberS{Value: strings.Replace(raw, `"status":"active"`, `"status":"complete"`, 1)}
	if _, err := e.db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(e.store.Table()), Item: item}); err != nil {
		t.Fatal(err)
	}
	var tampered pkgDoc
	_ = json.Unmarshal(e.must(e.do("", "GET", data, nil), 200).raw, &tampered)
	var h struct{ ID string }
	_ = json.Unmarshal(tampered.Releases[0], &h)
	if o.seen[h.ID] == string(tampered.Releases[0]) {
		t.Error("a rewritten release is not told apart from the one first published")
	}
}

func countOf(ids []string, id string) int {
	n := 0
	for _, x := range ids {
		if x == id {
			n++
		}
	}
	return n
}

// A DPS's buyer details are checked field by field, and nothing is stored
// when one is wrong; a DPS created with them publishes its call with the
// buyer as a full party.
func TestBuyerDetailsAreValidated(t *testing.T) {
	e := newEnv(t)
	d := e.must(e.do("officer-lahti", "GET", dpsPath, nil), 200).body
	settings := d["settings"].(map[string]any)
	body := func(id string, details map[string]any) map[string]any {
		s := map[string]any{}
		for k, v := range settings {
			s[k] = v
		}
		s["buyerDetails"] = details
		return map[string]any{"id": id, "title": "DPS " + id, "ring": d["ring"], "buyers": []string{seed.BuyerLahti},
			"serviceArea": []string{"Lahti"}, "validFrom": d["validFrom"], "validUntil": d["validUntil"],
			"categories": d["categories"], "exclusionGrounds": d["exclusionGrounds"], "qualityCriteria": []string{}, "settings": s}
	}
	good := map[string]any{"businessId": "1234560-4", "streetAddress": "Harjukatu 31", "postalCode": "15100", "locality": "Lahti",
		"contactUnit": "Procurement services", "email": "hankinnat@lahti.example.fi"}
	for _, tc := range []struct {
		name    string
		details map[string]any
		field   string
	}{
		{"wrong check digit", map[string]any{seed.BuyerLahti: with(good, "businessId", "1234560-5")}, "businessId"},
		{"no e-mail", map[string]any{seed.BuyerLahti: with(good, "email", "")}, "email"},
		{"postal code", map[string]any{seed.BuyerLahti: with(good, "postalCode", "1510")}, "postalCode"},
		{"not a buyer of the DPS", map[string]any{"buyer-elsewhere": good}, "settings.buyerDetails.buyer-elsewhere"},
	} {
		r := e.do("officer-lahti", "POST", "/dps", body("bad-details", tc.details))
		if r.status != 400 || !strings.Contains(string(r.raw), tc.field) {
			t.Errorf("%s: got %d %s, want 400 naming %s", tc.name, r.status, r.raw, tc.field)
		}
	}
	e.problem(e.do("", "GET", "/open-data/dps/bad-details/ocds", nil), 404, "")
	e.problem(e.do("officer-lahti", "GET", "/dps/bad-details", nil), 404, "")

	e.must(e.do("officer-lahti", "POST", "/dps", body("with-details", map[string]any{seed.BuyerLahti: good})), 201)
	r := e.must(e.do("", "GET", "/open-data/dps/with-details/ocds", nil), 200)
	if err := ocdstest.Validate(ocdstest.Build(t).ReleasePackage, r.raw); err != nil {
		t.Errorf("the new DPS's package does not validate: %v", err)
	}
	for _, want := range []string{`"id":"FI-PRO-1234560-4"`, `"postalCode":"15100"`, `"contactPoint":{"name":"Procurement services","email":"hankinnat@lahti.example.fi"}`, `"hasDynamicPurchasingSystem":true`} {
		if !strings.Contains(string(r.raw), want) {
			t.Errorf("the new DPS's package lacks %s: %s", want, r.raw)
		}
	}
}

// amendmentLinks checks that each of the record's want amendments names
// the tenderAmendment release that published it (releaseID) and the
// release just before it (amendsReleaseID), both in the record.
func amendmentLinks(t *testing.T, rec pkgDoc, want int) {
	t.Helper()
	var ids []string
	tags := map[string][]string{}
	for _, raw := range rec.Records[0].Releases {
		var h struct {
			ID  string
			Tag []string
		}
		_ = json.Unmarshal(raw, &h)
		ids = append(ids, h.ID)
		tags[h.ID] = h.Tag
	}
	am := rec.Records[0].CompiledRelease.Tender.Amendments
	if len(am) != want {
		t.Fatalf("%d amendments, want %d", len(am), want)
	}
	for _, a := range am {
		i := slices.Index(ids, a.ReleaseID)
		if i < 1 || !slices.Contains(tags[a.ReleaseID], ocds.TagAmendment) || a.AmendsReleaseID != ids[i-1] {
			t.Errorf("amendment %s links releaseID %q, amendsReleaseID %q; want its tenderAmendment release and the one before it among %v", a.ID, a.ReleaseID, a.AmendsReleaseID, ids)
		}
	}
}
