package dynamo_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/seed"
)

// One call asks up to 25 providers in one transaction (four actions
// each: the request, the notification, and the first event and head of
// the request's own chain); a 26th is refused, naming the field, and
// nothing is written.
func TestDeclarationRequestsStartTheirOwnChains(t *testing.T) {
	st, _ := seeded(t)
	ctx := context.Background()
	officer := procurement.Actor{UserID: "officer-lahti", Role: procurement.RoleOfficer, Org: seed.BuyerLahti}
	var provs []string
	for i := range dynamo.MaxDeclarationRequests + 1 {
		id := fmt.Sprintf("prov-decl-%02d", i)
		provs = append(provs, id)
		bid := ""
		for k := 0; bid == ""; k++ {
			bid = procurement.BusinessIDFor(6000000 + 10*i + k)
		}
		if err := st.RegisterProvider(ctx, procurement.Actor{UserID: id, Role: procurement.RoleProvider, Org: id},
			&procurement.Provider{ID: id, Party: procurement.Party{Name: id, BusinessID: bid, LegalForm: procurement.FormCompany}}); err != nil {
			t.Fatal(err)
		}
	}
	due := st.Now().AddDate(0, 0, 30).Format("2006-01-02")
	_, err := st.RequestDeclarations(ctx, officer, seed.DPSID, provs, "Renew.", due, seed.System[procurement.DPS])
	if procurement.ErrorCode(err) != procurement.EINVALID {
		t.Fatalf("%d providers: %v, want EINVALID", len(provs), err)
	}
	if p, _ := st.ListDeclarationRequests(ctx, seed.DPSID, "", 100); len(p.Items) != 0 {
		t.Fatalf("a refused call wrote %d requests", len(p.Items))
	}
	reqs, err := st.RequestDeclarations(ctx, officer, seed.DPSID, provs[:dynamo.MaxDeclarationRequests], "Renew.", due, seed.System[procurement.DPS])
	if err != nil || len(reqs) != dynamo.MaxDeclarationRequests {
		t.Fatalf("25 providers: %d requests, %v", len(reqs), err)
	}
	for _, r := range reqs {
		h, err := st.ChainHead(ctx, dynamo.DeclarationChain(r.ID))
		if err != nil || h.Seq != 1 {
			t.Errorf("request %s: chain head %+v %v", r.ID, h, err)
		}
	}
}
