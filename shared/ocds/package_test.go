package ocds

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rengas/rengas/shared/ocds/ocdstest"
	"github.com/rengas/rengas/shared/procurement"
)

var now = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

var dps = &procurement.DPS{ID: "dps-1", Title: "Employment services DPS", Ring: "Lahti ring", Buyers: []string{"buyer-1"}, ServiceArea: []string{"Lahti"},
	BuyerNames: map[string]string{"buyer-1": "City of Lahti"}, ValidFrom: "2026-01-01", ValidUntil: "2029-12-31",
	Categories: []procurement.Category{{ID: "employment", Name: "Employment coaching", Criteria: []procurement.Criterion{
		{ID: "experience", Kind: procurement.KindMinimum, Text: "Years of experience", Minimum: 2, Unit: "years"}}}},
	ExclusionGrounds: []procurement.ExclusionGround{{ID: "tax", Question: "Unpaid taxes?"}},
	Settings: procurement.Settings{StandstillDays: 14, BuyerDetails: map[string]procurement.BuyerDetails{"buyer-1": {
		BusinessID: "0955271-7", StreetAddress: "Harjukatu 9", PostalCode: "15100", Locality: "Lahti", ContactUnit: "Procurement services", Email: "hankinnat@example.fi"}}}}

// awarded is an awarded mini-competition with two winners and its contracts.
func awarded(t *testing.T) (*procurement.Competition, []procurement.Bid, []procurement.Contract) {
	t.Helper()
	officer := procurement.Actor{UserID: "officer-1", Role: procurement.RoleOfficer, Org: "buyer-1"}
	published := now.AddDate(0, -1, 0)
	c := &procurement.Competition{ID: "comp-1", DPSID: "dps-1", Buyer: "buyer-1", Status: procurement.CompEvaluation, Version: 5,
		PublishedAt: &published, Opening: &procurement.Opening{At: now.Add(-time.Hour), Bids: 2},
		Amendments: []procurement.Amendment{{Reason: "Longer tender period.", Material: true, At: published.Add(time.Hour), OldDeadline: now.Add(-3 * time.Hour), NewDeadline: now.Add(-2 * time.Hour)}},
		Conflicts:  []procurement.ConflictDeclaration{{By: officer.UserID, Statement: "No conflict.", At: now}},
		Definition: procurement.Definition{Category: "employment", Title: "Jobs for young people", Description: "Outcome-based coaching.",
			TargetGroup: "Young unemployed", Places: 21, Awards: 2, PriceWeight: 100, BudgetCeilingCents: 1 << 40,
			ContractStart: "2027-01-01", ContractEnd: "2027-12-31", QuestionDeadline: published.AddDate(0, 0, 7), BidDeadline: now.Add(-2 * time.Hour),
			Milestones: []procurement.Milestone{{ID: procurement.MilestoneEmployed, Name: "Employed", Pricing: "tariff", TariffCents: 333, ExpectedRate: 2500}}}}
	var bids []procurement.Bid
	for i, p := range []string{"prov-a", "prov-b", "prov-c"} {
		st := procurement.BidSubmitted
		if i == 2 {
			st = procurement.BidWithdrawn
		}
		bids = append(bids, procurement.Bid{CompetitionID: c.ID, ProviderID: p, Status: st,
			Bidder: procurement.Party{Name: p, BusinessID: procurement.BusinessIDFor(i + 1), LegalForm: "association", HomeMunicipality: "Lahti"},
			Offer:  procurement.Offer{FixedFeeCents: 99999 + 4*int64(i)}})
	}
	if err := c.Award(dps, officer, bids, "The best bids.", "seed", now); err != nil {
		t.Fatal(err)
	}
	return c, bids, c.Contracts(bids, []string{"Lahti"})
}

func pkg(t *testing.T, rs ...Release) []byte {
	t.Helper()
	var raws []json.RawMessage
	for _, r := range rs {
		raws = append(raws, Marshal(r))
	}
	b, err := Assemble(Meta{URI: "https://example.org/p", PublishedDate: Stamp(now), Policy: "https://example.org/policy", Base: "https://example.org/"}, raws)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// An empty package cannot be assembled: the schema requires a release. The
// control shows that the validator indeed rejects one.
func TestEmptyPackageIsRefused(t *testing.T) {
	s := ocdstest.Build(t)
	if _, err := Assemble(Meta{}, nil); !errors.Is(err, ErrNoReleases) {
		t.Errorf("Assemble without releases = %v, want ErrNoReleases", err)
	}
	empty := `{"uri":"https://example.org/p","version":"1.1","publishedDate":"2026-01-01T00:00:00Z","publisher":{"name":"Rengas"},"releases":[]}`
	if err := ocdstest.Validate(s.ReleasePackage, []byte(empty)); err == nil || !strings.Contains(err.Error(), "releases") {
		t.Errorf("a package without releases validates (%v); the schema is not applied", err)
	}
}

// Every kind of release validates against the extended, strict schema; an
// undeclared field (legalForm, as published before) fails it.
func TestReleasesValidate(t *testing.T) {
	s := ocdstest.Build(t)
	c, bids, contracts := awarded(t)
	award := CompetitionRelease(dps, c, bids, contracts, CompetitionTags("competition.awarded", c, len(contracts)), c.Version, now)
	ad := procurement.Admit(&procurement.Application{ID: "app-1", DPSID: "dps-1", ProviderID: "prov-a", Applicant: bids[0].Bidder,
		Decisions: []procurement.Decision{{Category: "employment", Outcome: procurement.OutcomeAdmitted}}}, "employment", procurement.Actor{UserID: "o"}, now)
	signed := ContractRelease(c.ID, "prov-a", "contractUpdate", "x2", now.Add(time.Hour), Contract{Status: "active", DateSigned: Stamp(now.Add(time.Hour))})
	rels := []Release{DPSTender(dps, "0001", now.AddDate(-1, 0, 0)), AdmissionAward(dps, ad, "x1", now), award, signed}
	b := pkg(t, rels...)
	if err := ocdstest.Validate(s.ReleasePackage, b); err != nil {
		t.Fatalf("package does not validate: %v\n%s", err, b)
	}
	for _, bad := range []struct{ from, to string }{
		{`"classifications":[`, `"legalForm":"association","classifications":[`},
		{`"hasDynamicPurchasingSystem":true`, `"hasDynamicPurchasingSystem":true,"dpsKind":"x"`},
		{`"tag":["award","contract"]`, `"tag":["bogus"]`},
	} {
		broken := strings.Replace(string(b), bad.from, bad.to, 1)
		if broken == string(b) {
			t.Fatalf("control %q not applied", bad.from)
		}
		if ocdstest.Validate(s.ReleasePackage, []byte(broken)) == nil {
			t.Errorf("a package with %s validates; the strict extended schema is not applied", bad.to)
		}
	}
	// 11 × 1 000.8225 = 11 009.0475 and 10 × 1 000.8625 = 10 008.625, half up.
	var got []string
	for _, a := range award.Awards {
		got = append(got, string(a.Value.Amount))
		if len(a.Items) != 2 || a.Items[0].Unit.Value == nil || a.Items[1].Unit.Value.Amount != "3.33" {
			t.Errorf("award %s items %+v: want places at the fixed fee and the outcome at 3.33", a.ID, a.Items)
		}
	}
	if strings.Join(got, " ") != "11009.05 10008.63" {
		t.Errorf("award values %v, want 11009.05 10008.63", got)
	}
	if award.Tender.ContractPeriod.EndDate != "2027-12-31T23:59:59+02:00" || award.Tender.ContractPeriod.StartDate != "2027-01-01T00:00:00+02:00" {
		t.Errorf("contract period %+v, want the whole days in Helsinki", award.Tender.ContractPeriod)
	}
	if strings.Contains(string(b), `"prov-c"`) {
		t.Error("a withdrawn bid is published")
	}
	if a := award.Tender.Amendments; len(a) != 1 || a[0].Rationale != "Longer tender period." {
		t.Errorf("amendments %+v", a)
	}
	if p := award.Parties[0]; p.ID != "FI-PRO-0955271-7" || p.ContactPoint == nil || p.Address.PostalCode != "15100" {
		t.Errorf("buyer party %+v", p)
	}
}

// The merge follows the OCDS rules: objects merge, arrays of objects with
// ids merge by id, other arrays replace, null removes; the versioned
// release keeps each value with the release that set it.
func TestMerge(t *testing.T) {
	r1 := `{"ocid":"o","id":"1","date":"2026-01-01T00:00:00Z","tag":["tender"],"initiationType":"tender","tender":{"id":"t","title":"A","submissionMethod":["electronicSubmission"],"items":[{"id":"1","quantity":2}]},"awards":[{"id":"a","status":"active"}]}`
	r2 := `{"ocid":"o","id":"2","date":"2026-01-02T00:00:00Z","tag":["award"],"initiationType":"tender","tender":{"title":"B","description":null,"submissionMethod":["written"]},"awards":[{"id":"b","status":"active"},{"id":"a","status":"cancelled"}]}`
	r3 := `{"ocid":"o","id":"3","date":"2026-01-03T00:00:00Z","tag":["tenderUpdate"],"initiationType":"tender","tender":{"title":"B"}}`
	rels := []json.RawMessage{json.RawMessage(r1), json.RawMessage(r2), json.RawMessage(r3)}
	c, err := Compile(rels)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(c)
	want := `{"awards":[{"id":"a","status":"cancelled"},{"id":"b","status":"active"}],"date":"2026-01-03T00:00:00Z","id":"o-2026-01-03T00:00:00Z","initiationType":"tender","ocid":"o","tag":["compiled"],"tender":{"id":"t","items":[{"id":"1","quantity":2}],"submissionMethod":["written"],"title":"B"}}`
	if string(got) != want {
		t.Errorf("compiled\n got %s\nwant %s", got, want)
	}
	v, err := Versioned(rels)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = json.Marshal(v["tender"].(map[string]any)["title"])
	if want := `[{"releaseDate":"2026-01-01T00:00:00Z","releaseID":"1","releaseTag":["tender"],"value":"A"},{"releaseDate":"2026-01-02T00:00:00Z","releaseID":"2","releaseTag":["award"],"value":"B"}]`; string(got) != want {
		t.Errorf("versioned title\n got %s\nwant %s", got, want)
	}
	got, _ = json.Marshal(v["awards"])
	if want := `[{"id":"a","status":[{"releaseDate":"2026-01-01T00:00:00Z","releaseID":"1","releaseTag":["tender"],"value":"active"},{"releaseDate":"2026-01-02T00:00:00Z","releaseID":"2","releaseTag":["award"],"value":"cancelled"}]},{"id":"b","status":[{"releaseDate":"2026-01-02T00:00:00Z","releaseID":"2","releaseTag":["award"],"value":"active"}]}]`; string(got) != want {
		t.Errorf("versioned awards\n got %s\nwant %s", got, want)
	}
}

// A record package of real releases validates, versioned release included.
func TestRecordValidates(t *testing.T) {
	s := ocdstest.Build(t)
	c, bids, contracts := awarded(t)
	var raws []json.RawMessage
	for i, action := range []string{"competition.published", "competition.amended", "competition.opened", "competition.awarded"} {
		raws = append(raws, Marshal(CompetitionRelease(dps, c, bids, contracts, CompetitionTags(action, c, len(contracts)), i+2, now.Add(time.Duration(i)*time.Hour))))
	}
	raws = append(raws, Marshal(ContractRelease(c.ID, "prov-a", "contractUpdate", "x2", now.Add(5*time.Hour), Contract{Status: "active", DateSigned: Stamp(now.Add(5 * time.Hour))})))
	compiled, err := Compile(raws)
	if err != nil {
		t.Fatal(err)
	}
	k := compiled["contracts"].([]any)[0].(map[string]any)
	if k["status"] != "active" || k["dateSigned"] == nil || k["value"] == nil || k["awardID"] != "comp-1-prov-a" {
		t.Errorf("a contract update does not merge into the awarded contract: %v", k)
	}
	b, err := AssembleRecord(Meta{URI: "https://example.org/r", PublishedDate: Stamp(now), Policy: "https://example.org/policy", Base: "https://example.org/"}, OCID(c.ID), "https://example.org/p", raws)
	if err != nil {
		t.Fatal(err)
	}
	if err := ocdstest.Validate(s.RecordPackage, b); err != nil {
		t.Fatalf("record package does not validate: %v", err)
	}
	broken := strings.Replace(string(b), `"releaseTag":`, `"releaseTags":`, 1)
	if ocdstest.Validate(s.RecordPackage, []byte(broken)) == nil {
		t.Error("a versioned release with an unknown field validates; the versioned schema is not applied")
	}
}
