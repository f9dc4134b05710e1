package ocds

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rengas/rengas/shared/procurement"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

var now = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

func releasePackageSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, name := range []string{"release-package-schema.json", "release-schema.json"} {
		raw, err := os.ReadFile(filepath.Join("testdata", "ocds-1.1.5", name))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddResource("https://standard.open-contracting.org/schema/1__1__5/"+name, doc); err != nil {
			t.Fatal(err)
		}
	}
	s, err := c.Compile("https://standard.open-contracting.org/schema/1__1__5/release-package-schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, p Package) error {
	t.Helper()
	raw, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return s.Validate(inst)
}

// awarded is the release of an awarded mini-competition with two winners.
func awarded(t *testing.T) Release {
	t.Helper()
	officer := procurement.Actor{UserID: "officer-1", Role: procurement.RoleOfficer, Org: "buyer-1"}
	published := now.AddDate(0, -1, 0)
	c := &procurement.Competition{ID: "comp-1", DPSID: "dps-1", Buyer: "buyer-1", Status: procurement.CompEvaluation,
		PublishedAt: &published, Opening: &procurement.Opening{At: now.Add(-time.Hour), Bids: 2},
		Conflicts: []procurement.ConflictDeclaration{{By: officer.UserID, Statement: "No conflict.", At: now}},
		Definition: procurement.Definition{Category: "employment", Title: "Jobs for young people", Description: "Outcome-based coaching.",
			TargetGroup: "Young unemployed", Places: 21, Awards: 2, PriceWeight: 100, BudgetCeilingCents: 1 << 40,
			ContractStart: "2027-01-01", ContractEnd: "2027-12-31", QuestionDeadline: published.AddDate(0, 0, 7), BidDeadline: now.Add(-2 * time.Hour),
			Milestones: []procurement.Milestone{{ID: procurement.MilestoneEmployed, Pricing: "tariff", TariffCents: 333, ExpectedRate: 2500}}}}
	var bids []procurement.Bid
	for i, p := range []string{"prov-a", "prov-b"} {
		bids = append(bids, procurement.Bid{CompetitionID: c.ID, ProviderID: p, Status: procurement.BidSubmitted,
			Bidder: procurement.Party{Name: p, BusinessID: "123456" + string(rune('7'+i)) + "-1", LegalForm: "oy", HomeMunicipality: "Lahti"},
			Offer:  procurement.Offer{FixedFeeCents: 99999 + 4*int64(i)}})
	}
	d := &procurement.DPS{ID: "dps-1", Title: "Employment services DPS", Settings: procurement.Settings{StandstillDays: 14}}
	if err := c.Award(d, officer, bids, "The best bids.", "seed", now); err != nil {
		t.Fatal(err)
	}
	return ReleaseOf(d, c, bids, c.Contracts(bids, []string{"Lahti"}), "City of Lahti")
}

// An empty package cannot be built: the schema requires a release. The
// control shows that the validator indeed rejects one.
func TestEmptyPackageIsRefused(t *testing.T) {
	schema := releasePackageSchema(t)
	for _, releases := range [][]Release{nil, {}} {
		if _, err := Build("https://example.org/p", "Rengas", now, releases); !errors.Is(err, ErrNoReleases) {
			t.Errorf("Build(%v) = %v, want ErrNoReleases", releases, err)
		}
	}
	empty := Package{URI: "https://example.org/p", Version: "1.1", PublishedDate: stamp(now), Publisher: Publisher{Name: "Rengas"}, Releases: []Release{}}
	if err := validate(t, schema, empty); err == nil || !strings.Contains(err.Error(), "releases") {
		t.Errorf("a package without releases validates (%v); the schema is not applied", err)
	}
}

// A package of an awarded competition validates, and its award values are
// the contracts' values to the cent.
func TestAwardPackageValidates(t *testing.T) {
	r := awarded(t)
	p, err := Build("https://example.org/p", "Rengas", now, []Release{r})
	if err != nil {
		t.Fatal(err)
	}
	if err := validate(t, releasePackageSchema(t), p); err != nil {
		t.Errorf("package does not validate: %v", err)
	}
	// 11 × 1 000.8225 = 11 009.0475 and 10 × 1 000.8625 = 10 008.625, half up.
	var got []string
	for _, a := range r.Awards {
		got = append(got, string(a.Value.Amount))
	}
	if strings.Join(got, " ") != "11009.05 10008.63" {
		t.Errorf("award values %v, want 11009.05 10008.63", got)
	}
}
