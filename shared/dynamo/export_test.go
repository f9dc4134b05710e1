package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rengas/rengas/shared/audit"
	"github.com/rengas/rengas/shared/procurement"
)

// RewriteForTest overwrites an event and its chain's head directly, as
// someone with write access to the table (not the application) could.
func RewriteForTest(ctx context.Context, s *Store, ev audit.Event, head audit.Head) error {
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: entity(eventKey(ev.Chain, ev.Seq), "event", 1, ev).av()}); err != nil {
		return err
	}
	h := s.headPut(ev.Chain, audit.Head{}, head, ev.At).Put
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: h.Item})
	return err
}

// WriteChainForTest writes a chain of n events and its head directly, 25
// items per BatchWriteItem, rather than through n transactions; and, at
// each sequence number in anchoredAt, an anchor's entry for the chain.
func WriteChainForTest(ctx context.Context, s *Store, chain string, n int, anchoredAt ...int64) error {
	var head audit.Head
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var reqs []types.WriteRequest
	flush := func(all bool) error {
		for len(reqs) >= 25 || (all && len(reqs) > 0) {
			k := min(25, len(reqs))
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{s.table: reqs[:k]}})
			if err != nil {
				return err
			}
			reqs = append(out.UnprocessedItems[s.table], reqs[k:]...)
		}
		return nil
	}
	anchored := map[int64]bool{}
	for _, a := range anchoredAt {
		anchored[a] = true
	}
	for i := range n {
		ev := audit.Event{Chain: chain, At: at.Add(time.Duration(i) * time.Second), Actor: "officer-lahti", Role: "officer", Org: "buyer-lahti",
			Action: "application.info_requested", EntityType: "application", EntityID: "bench", Digest: audit.Digest(i), Summary: "Send the certificate of insurance."}
		head = audit.Append(head, &ev)
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: entity(eventKey(chain, ev.Seq), "event", 1, ev).av()}})
		if anchored[ev.Seq] {
			it := entity(anchoredHeadKey(chain, ev.Seq), "anchored", 1, anchoredEntry{Anchor: ev.Seq, Seq: ev.Seq, Hash: ev.Hash})
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it.av()}})
		}
		if err := flush(false); err != nil {
			return err
		}
	}
	if err := flush(true); err != nil {
		return err
	}
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: s.headPut(chain, audit.Head{}, head, at).Put.Item})
	return err
}

// CloseEvaluation exposes the award's closing writes to the tests, which
// commit them at a moment of their choosing.
func CloseEvaluation(s *Store, ctx context.Context, comp string) ([]Write, error) {
	return s.closeEvaluation(ctx, comp)
}

// CommitWrites writes the writes in one transaction.
func CommitWrites(s *Store, ctx context.Context, ws []Write) error {
	items := make([]types.TransactWriteItem, len(ws))
	for i, w := range ws {
		items[i] = w.tw
	}
	return s.transact(ctx, items)
}

// PutInvitations writes invitations as a publication that lost the race
// to another would, after the winner committed.
func PutInvitations(s *Store, ctx context.Context, comp, publication string, invited []procurement.Invitee) error {
	return s.putInvitations(ctx, comp, publication, invited)
}
