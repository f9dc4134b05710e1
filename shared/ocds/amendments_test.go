package ocds_test

import (
	"encoding/json"
	"testing"

	"github.com/rengas/rengas/shared/ocds"
)

// Each amendment links the tenderAmendment release that published it and
// the release just before it; a release built after later changes keeps
// the same links.
func TestLinkAmendments(t *testing.T) {
	rel := func(id string, tags ...string) json.RawMessage {
		b, _ := json.Marshal(map[string]any{"id": id, "tag": tags})
		return b
	}
	earlier := []json.RawMessage{rel("p-0001-tender", "tender"), rel("p-0003-tenderAmendment", "tenderAmendment"), rel("p-0004-tenderUpdate", "tenderUpdate")}
	two := func() []ocds.Amendment { return []ocds.Amendment{{ID: "1"}, {ID: "2"}} }

	// The second amendment's own release, being built.
	r := ocds.Release{ID: "p-0006-tenderAmendment", Tag: []string{ocds.TagAmendment}, Tender: &ocds.Tender{Amendments: two()}}
	ocds.LinkAmendments(&r, earlier)
	want := [][2]string{{"p-0001-tender", "p-0003-tenderAmendment"}, {"p-0004-tenderUpdate", "p-0006-tenderAmendment"}}
	for i, a := range r.Tender.Amendments {
		if a.AmendsReleaseID != want[i][0] || a.ReleaseID != want[i][1] {
			t.Errorf("amendment %s: amends %q, release %q; want %v", a.ID, a.AmendsReleaseID, a.ReleaseID, want[i])
		}
	}
	// A later release (the award) keeps the links.
	later := ocds.Release{ID: "p-0009-award", Tag: []string{ocds.TagAward}, Tender: &ocds.Tender{Amendments: two()}}
	ocds.LinkAmendments(&later, append(earlier, rel("p-0006-tenderAmendment", "tenderAmendment")))
	for i, a := range later.Tender.Amendments {
		if a.AmendsReleaseID != want[i][0] || a.ReleaseID != want[i][1] {
			t.Errorf("in the award release, amendment %s: amends %q, release %q; want %v", a.ID, a.AmendsReleaseID, a.ReleaseID, want[i])
		}
	}
}
