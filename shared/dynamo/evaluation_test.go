package dynamo_test

import (
	"context"
	"testing"
	"time"

	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/seed"
)

// An award commits only on the evaluation it was computed from: a score
// recorded after the award read the evaluation shards makes the award's
// closing writes fail, and once they commit no score can.
func TestAwardCommitsOnTheEvaluationItRead(t *testing.T) {
	st, clock := seeded(t)
	ctx := context.Background()
	officer := procurement.Actor{UserID: "officer-lahti", Role: procurement.RoleOfficer, Org: seed.BuyerLahti}
	comps, err := st.ListCompetitions(ctx, seed.DPSID, "", 10)
	if err != nil || len(comps.Items) == 0 {
		t.Fatalf("no seeded competition: %v", err)
	}
	comp := comps.Items[0]
	clock.Set(comp.BidDeadline.Add(dynamo.OpeningGrace + time.Second))
	if _, err := st.OpenDue(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DeclareNoConflict(ctx, officer, comp.ID, "No ties.", seed.System[procurement.Competition]); err != nil {
		t.Fatal(err)
	}
	bids, err := st.AllBids(ctx, comp.ID)
	if err != nil || len(bids) == 0 {
		t.Fatalf("no bids: %v", err)
	}
	score := func(b procurement.Bid, version int) error {
		_, err := st.UpdateBidEvaluation(ctx, officer, comp.ID, b.ProviderID, version, "bid.scored", seed.System[procurement.Competition],
			func(c *procurement.Competition, bid *procurement.Bid) error {
				return c.ScoreBid(officer, bid, "individual-service", 4, "Clear plan.", clock.Now())
			})
		return err
	}

	closing, err := dynamo.CloseEvaluation(st, ctx, comp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := score(bids[0], bids[0].Version); err != nil {
		t.Fatal(err)
	}
	if err := dynamo.CommitWrites(st, ctx, closing); err == nil {
		t.Fatal("the award's closing writes committed although a score came in after the evaluation was read")
	}

	closing, err = dynamo.CloseEvaluation(st, ctx, comp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := dynamo.CommitWrites(st, ctx, closing); err != nil {
		t.Fatal(err)
	}
	if err := score(bids[0], bids[0].Version+1); procurement.ErrorCode(err) != procurement.ECONFLICT {
		t.Errorf("a score after the evaluation was closed: %v, want a conflict", err)
	}
}

// Two officers publish one draft at once: one commits, and the other's
// invitations, written before its commit failed, may land after the
// winner's. They must not take the winner's invitations away.
func TestALosingPublicationLeavesTheInvitationsValid(t *testing.T) {
	st, _ := seeded(t)
	ctx := context.Background()
	comp := openCompetition(t, st)
	inv, err := st.ListInvitees(ctx, comp, "", 100)
	if err != nil || len(inv.Items) == 0 {
		t.Fatalf("no invitees: %v", err)
	}
	if err := dynamo.PutInvitations(st, ctx, comp, "the-losing-publication", inv.Items); err != nil {
		t.Fatal(err)
	}
	if _, err := st.WriteBid(ctx, provider, comp, 0, "", "", seed.System[procurement.Competition], place(300000)); err != nil {
		t.Errorf("an invitee cannot bid after a losing publication wrote its invitations: %v", err)
	}
}
