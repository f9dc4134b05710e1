package access

import (
	"testing"
	"time"

	"github.com/rengas/rengas/shared/procurement"
)

// Each test walks the whole table and checks one rule of the law or of the
// ring (../shared/BRIEF.md §2) against every row it concerns.

func allowed(t *testing.T, each func(e Entity, s State, r Relation, a Ability)) {
	t.Helper()
	for _, rule := range Rules {
		for _, r := range Relations() {
			each(rule.Entity, rule.State, r, rule.Allow[r])
		}
	}
}

func TestAbilitiesAreConsistent(t *testing.T) {
	allowed(t, func(e Entity, s State, r Relation, a Ability) {
		if a != None && a&Know == 0 {
			t.Errorf("%s/%s: %s may %v without knowing of it", e, s, r, a)
		}
	})
}

// Every part of a mini-competition is ruled in every state (Decision only
// exists once awarded), so no state falls through to a default.
func TestEveryCompetitionStateIsRuled(t *testing.T) {
	for _, e := range []Entity{Competition, Internals} {
		for _, s := range CompetitionStates {
			if _, ok := rules[[2]string{string(e), string(s)}]; !ok {
				t.Errorf("no rule for %s in state %s", e, s)
			}
		}
	}
}

// Rule 11: before opening nobody but the bidder may learn that a bid
// exists, nor see the evaluation.
func TestSealedUntilOpening(t *testing.T) {
	for _, s := range []State{Draft, Published, Closed, Cancelled, CancelledUnpublished} {
		for _, r := range Relations() {
			if a := Allowed(Bid, s, r); r != OwnProvider && a != None {
				t.Errorf("bid in state %s: %s may %v", s, r, a)
			}
			if Allowed(Evaluation, s, r)&See != 0 {
				t.Errorf("evaluation in state %s: %s may see it", s, r)
			}
		}
	}
}

// Drafts are the running buyer's (and the auditors') only, for ever if
// cancelled before publication.
func TestDraftsStayUnknown(t *testing.T) {
	for _, s := range []State{Draft, CancelledUnpublished} {
		for _, e := range []Entity{Competition, Internals, Questions, Bid, Evaluation, Decision, Release} {
			for _, r := range []Relation{RingBuyer, Outsider, OwnProvider, OtherProvider, Public} {
				if a := Allowed(e, s, r); a != None {
					t.Errorf("%s of a %s competition: %s may %v", e, s, r, a)
				}
			}
		}
	}
}

// Auditors and the public never change anything.
func TestAuditorsAndPublicNeverAct(t *testing.T) {
	allowed(t, func(e Entity, s State, r Relation, a Ability) {
		if (r == Auditor || r == Public) && a&Act != 0 {
			t.Errorf("%s/%s: %s may act", e, s, r)
		}
	})
}

// Buyer scope: the ring's other buyers never see a procedure's non-public
// parts; officers of other buyers see nothing of a DPS's qualification.
func TestBuyerScope(t *testing.T) {
	allowed(t, func(e Entity, s State, r Relation, a Ability) {
		switch e {
		case Internals, Bid, Evaluation, Questions:
			if (r == RingBuyer || r == Outsider) && a != None {
				t.Errorf("%s/%s: %s may %v", e, s, r, a)
			}
		case Application, Admission, DeclarationRequest, Documents, AwardHistory:
			if (r == RingBuyer || r == Outsider) && a != None {
				t.Errorf("%s: %s may %v", e, r, a)
			}
		}
		if (r == RingBuyer || r == Outsider) && a&Act != 0 {
			t.Errorf("%s/%s: %s may act", e, s, r)
		}
	})
}

// Providers see their own data only; what another provider's is stays
// unknown. The public sees published notices, awards and open data only.
func TestProvidersAndPublic(t *testing.T) {
	public := map[Entity]bool{DPS: true, Competition: true, Decision: true, OpenData: true, Release: true}
	allowed(t, func(e Entity, s State, r Relation, a Ability) {
		if r == OtherProvider && a != None && e != DPS && e != OpenData && e != Release {
			t.Errorf("%s/%s: another provider may %v", e, s, r)
		}
		if r == Public && a != None && !public[e] {
			t.Errorf("%s/%s: the public may %v", e, s, a)
		}
	})
}

func TestRelations(t *testing.T) {
	c := &procurement.Competition{ID: "c", Buyer: "b1", DPSBuyers: []string{"b1", "b2"}, Invitees: []string{"p1"}}
	sc := CompetitionScope(c)
	for _, tt := range []struct {
		a    *procurement.Actor
		want Relation
	}{
		{&procurement.Actor{Role: procurement.RoleOfficer, Org: "b1"}, OwnBuyer},
		{&procurement.Actor{Role: procurement.RoleOfficer, Org: "b2"}, RingBuyer},
		{&procurement.Actor{Role: procurement.RoleOfficer, Org: "b3"}, Outsider},
		{&procurement.Actor{Role: procurement.RoleProvider, Org: "p1"}, OwnProvider},
		{&procurement.Actor{Role: procurement.RoleProvider, Org: "p2"}, OtherProvider},
		{&procurement.Actor{Role: procurement.RoleAuditor, Org: "audit"}, Auditor},
		{nil, Public},
	} {
		if got := RelationOf(tt.a, sc); got != tt.want {
			t.Errorf("RelationOf(%+v) = %s, want %s", tt.a, got, tt.want)
		}
	}
	// A DPS-wide scope makes every buyer of the DPS an own buyer.
	if got := RelationOf(&procurement.Actor{Role: procurement.RoleOfficer, Org: "b2"}, Scope{Buyers: []string{"b1", "b2"}}); got != OwnBuyer {
		t.Errorf("buyer of the DPS: %s, want own buyer", got)
	}
}

func TestClosedIsNotStored(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	c := &procurement.Competition{Status: procurement.CompPublished}
	c.BidDeadline = now.Add(-time.Second)
	if s := CompetitionState(c, now); s != Closed {
		t.Errorf("past its deadline: %s, want closed", s)
	}
	if v := CompetitionView(nil, c, now); v.Status != procurement.CompClosed || c.Status != procurement.CompPublished {
		t.Errorf("view %s, stored %s", v.Status, c.Status)
	}
}
