package dynamo

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rengas/rengas/shared/audit"
	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/scoring"
	"github.com/rengas/rengas/shared/workdays"
)

// deadlineKey formats a deadline so that keys sort and compare in time order.
func deadlineKey(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// competitionItem is the competition without its decision, which has an
// item of its own (its per-bid results grow with the bids).
func (s *Store) competitionItem(c *procurement.Competition) item {
	bare := *c
	bare.Decision = nil
	it := entity(competitionKey(c.ID), "competition", 0, &bare)
	it.GSI[0] = key{competitionsOf(c.DPSID), deadlineKey(c.CreatedAt) + "#" + c.ID}
	if c.Status == procurement.CompPublished {
		// Indexed only while published: the scheduled job finds the
		// competitions whose deadline has passed without a Scan.
		it.GSI[2] = key{publishedPartition, deadlineKey(c.BidDeadline) + "#" + c.ID}
	}
	it.Extras = map[string]types.AttributeValue{"status": str(string(c.Status)), "bidDeadline": str(deadlineKey(c.BidDeadline))}
	return it
}

// fanout is a notification to many organisations, written in the same
// transaction as the change (the transactional outbox) and expanded into
// each recipient's outbox afterwards, by the request itself or, if it is
// cut short, by the scheduled job. Expansion is idempotent.
type fanout struct {
	ID         string   `json:"id"`
	At         string   `json:"at"`
	Recipients []string `json:"recipients"`
	Kind       string   `json:"kind"`
	Ref        string   `json:"ref"`
	Subject    string   `json:"subject,omitempty"`
	Message    string   `json:"message"`
}

func (s *Store) newFanout(recipients []string, kind, ref, subject, message string) (*fanout, write) {
	f := &fanout{ID: s.NewID(), At: s.Now().UTC().Format("2006-01-02T15:04:05.000000Z"), Recipients: recipients, Kind: kind, Ref: ref, Subject: subject, Message: message}
	return f, s.putNew(entity(fanoutKey(f.At, f.ID), "fanout", 1, f), "fan-out exists")
}

// dispatch expands a fan-out into the recipients' outboxes, 25 per
// BatchWriteItem, then deletes it.
func (s *Store) dispatch(ctx context.Context, f *fanout) error {
	return s.expand(ctx, f, nil)
}

// expand writes the fan-out's notifications, except those for the
// recipients in skip.
func (s *Store) expand(ctx context.Context, f *fanout, skip map[string]bool) error {
	if s.ReadOnly {
		return errReadOnly
	}
	var reqs []types.WriteRequest
	for _, org := range f.Recipients {
		if skip[org] {
			continue
		}
		nt := Notification{ID: f.ID, To: org, Kind: f.Kind, Ref: f.Ref, Subject: f.Subject, Message: f.Message, At: f.At}
		it := queueMail(entity(key{outboxPartition(org), f.At + "#" + f.ID}, "notification", 1, nt), nt)
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it.av()}})
	}
	for len(reqs) > 0 {
		n := min(25, len(reqs))
		s.calls.Add(1)
		out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{s.table: reqs[:n]}})
		if err != nil {
			return procurement.Internal(err)
		}
		reqs = append(out.UnprocessedItems[s.table], reqs[n:]...)
	}
	s.calls.Add(1)
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: fanoutKey(f.At, f.ID).av()})
	if err != nil {
		return procurement.Internal(err)
	}
	return nil
}

// DispatchPending expands fan-outs left behind by interrupted requests.
func (s *Store) DispatchPending(ctx context.Context) (int, error) {
	pending, err := All(func(cur string) (Page[fanout], error) {
		return queryPage[fanout](ctx, s, query{pk: fanoutPartition, cursor: cur})
	})
	for i := range pending {
		// A notification written before the interruption may have been
		// mailed since: writing it again would put it back on the mail
		// queue, so the ones that exist are left as they are.
		f := &pending[i]
		keys := make([]key, len(f.Recipients))
		for j, org := range f.Recipients {
			keys[j] = key{outboxPartition(org), f.At + "#" + f.ID}
		}
		got, err := s.getChunked(ctx, keys)
		if err != nil {
			return i, err
		}
		written := map[string]bool{}
		for j, org := range f.Recipients {
			written[org] = got[keys[j]] != nil
		}
		if err := s.expand(ctx, f, written); err != nil {
			return i, err
		}
	}
	return len(pending), err
}

// CreateCompetition drafts a mini-competition. may is asked first, with
// the DPS. Errors: EINVALID, ENOTFOUND, and may's.
func (s *Store) CreateCompetition(ctx context.Context, actor procurement.Actor, dpsID string, def procurement.Definition, may func(*procurement.DPS) error) (*procurement.Competition, error) {
	m, err := s.get(ctx, dpsKey(dpsID))
	if err != nil {
		return nil, err
	}
	d, err := decodeAs[procurement.DPS](m, "DPS "+dpsID)
	if err != nil {
		return nil, err
	}
	if err := may(d); err != nil {
		return nil, err
	}
	c, err := procurement.NewCompetition(d, actor, def, s.Now())
	if err != nil {
		return nil, err
	}
	c.ID, c.Version = s.NewID(), 1
	// A new competition starts a chain of its own.
	_, err = s.commit(ctx, &audit.Head{}, Change{Actor: actor, Chain: CompetitionChain(c.ID), Action: "competition.drafted",
		EntityType: "competition", EntityID: c.ID, Subject: c.ID, State: c, Summary: c.Title},
		s.putVersion(s.competitionItem(c), 0, "competition exists"))
	return c, err
}

// ReadCompetition returns a competition as stored, with its decision, in
// one BatchGetItem. Reading never writes: only the scheduled job opens
// competitions past their deadline. Errors: ENOTFOUND.
func (s *Store) ReadCompetition(ctx context.Context, id string) (*procurement.Competition, error) {
	c, _, err := s.loadCompetition(ctx, id)
	return c, err
}

// loadCompetition reads the competition and its decision together with
// the extra items asked for, in one BatchGetItem.
func (s *Store) loadCompetition(ctx context.Context, id string, extra ...key) (*procurement.Competition, map[key]map[string]types.AttributeValue, error) {
	got, err := s.getMany(ctx, append([]key{competitionKey(id), decisionKey(id)}, extra...)...)
	if err != nil {
		return nil, nil, err
	}
	c, err := decodeAs[procurement.Competition](got[competitionKey(id)], "mini-competition "+id)
	if err != nil {
		return nil, nil, err
	}
	if m := got[decisionKey(id)]; m != nil {
		if c.Decision, err = s.readDecision(ctx, id, m); err != nil {
			return nil, nil, err
		}
	}
	return c, got, nil
}

// resultsPerItem is how many bids' results the decision item holds; the
// rest go into items of their own (each bid's result can take some 5 KB).
const resultsPerItem = 40

// decisionWrites splits a decision into its item, holding the first
// results, and the items of the remaining results, keyed by the
// decision's own id. The result items are written first (they are inert
// until a decision item names their id); the decision item goes into the
// award's transaction.
func (s *Store) decisionWrites(ctx context.Context, comp string, d *procurement.AwardDecision) (write, error) {
	id := s.NewID()
	results := d.Comparison.Results
	head := *d
	head.Comparison.Results = results[:min(resultsPerItem, len(results))]
	var reqs []types.WriteRequest
	chunks := 0
	for start := resultsPerItem; start < len(results); start += resultsPerItem {
		part := results[start:min(start+resultsPerItem, len(results))]
		it := entity(resultsKey(comp, id, chunks), "results", 1, part)
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it.av()}})
		chunks++
	}
	if err := s.batchWrite(ctx, reqs); err != nil {
		return write{}, err
	}
	it := entity(decisionKey(comp), "decision", 1, &head)
	it.Extras = map[string]types.AttributeValue{"did": str(id), "chunks": num(int64(chunks))}
	return s.putNew(it, "the competition was already decided"), nil
}

// readDecision decodes a decision item and, when the decision has more
// results than the item holds, reads the rest in one BatchGetItem.
func (s *Store) readDecision(ctx context.Context, comp string, m map[string]types.AttributeValue) (*procurement.AwardDecision, error) {
	d, err := decodeAs[procurement.AwardDecision](m, "decision")
	if err != nil {
		return nil, err
	}
	n := int(attrInt(m, "chunks"))
	if n == 0 {
		return d, nil
	}
	keys := make([]key, n)
	for i := range keys {
		keys[i] = resultsKey(comp, attrString(m, "did"), i)
	}
	got, err := s.getMany(ctx, keys...)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		part, err := decodeAs[[]scoring.Result](got[k], "decision results")
		if err != nil {
			return nil, procurement.Internal(fmt.Errorf("decision of %s: %w", comp, err))
		}
		d.Comparison.Results = append(d.Comparison.Results, *part...)
	}
	return d, nil
}

// ListCompetitions pages through a DPS's competitions, oldest first.
func (s *Store) ListCompetitions(ctx context.Context, dpsID, cursor string, limit int) (Page[procurement.Competition], error) {
	return queryPage[procurement.Competition](ctx, s, query{index: &GSI1, pk: competitionsOf(dpsID), cursor: cursor, limit: limit})
}

// CompetitionUpdate applies a domain rule to a competition, returning the
// audit action and summary, extra writes and an optional fan-out.
type CompetitionUpdate func(c *procurement.Competition, d *procurement.DPS) (action, summary string, extra []write, fan *fanout, err error)

// UpdateCompetition loads the competition, asks may, then loads its DPS,
// applies fn and writes the result on condition of the version (and, with
// version 0, of the version read, retrying a few times when another change
// came in between). may runs before any answer that depends on the
// competition's state. Errors: ENOTFOUND, ECONFLICT, and may's and fn's.
func (s *Store) UpdateCompetition(ctx context.Context, actor procurement.Actor, id string, version int, may func(*procurement.Competition) error, fn CompetitionUpdate) (*procurement.Competition, error) {
	for attempt := 0; ; attempt++ {
		c, err := s.updateCompetition(ctx, actor, id, version, may, fn)
		if version != 0 || attempt >= 3 || !errors.Is(err, errStaleCompetition) {
			if errors.Is(err, errStaleCompetition) {
				err = procurement.Errorf(procurement.ECONFLICT, "%s", staleVersion("the mini-competition"))
			}
			return c, err
		}
	}
}

var errStaleCompetition = errors.New("stale competition")

func (s *Store) updateCompetition(ctx context.Context, actor procurement.Actor, id string, version int, may func(*procurement.Competition) error, fn CompetitionUpdate) (*procurement.Competition, error) {
	chain := CompetitionChain(id)
	c, got, err := s.loadCompetition(ctx, id, chainHeadKey(chain))
	if err != nil {
		return nil, err
	}
	if err := may(c); err != nil {
		return nil, err
	}
	if version != 0 && c.Version != version {
		return nil, procurement.Errorf(procurement.ECONFLICT, "%s", staleVersion(fmt.Sprintf("the mini-competition (you sent version %d, it is at %d)", version, c.Version)))
	}
	dm, err := s.get(ctx, dpsKey(c.DPSID))
	if err != nil {
		return nil, err
	}
	d, err := decodeAs[procurement.DPS](dm, "DPS")
	if err != nil {
		return nil, err
	}
	prev := c.Version
	action, summary, extra, fan, err := fn(c, d)
	if err != nil {
		return nil, err
	}
	c.Version = prev + 1
	put := s.putVersion(s.competitionItem(c), prev, staleVersion("the mini-competition"))
	writes := append([]write{put}, extra...)
	published, err := s.competitionRelease(ctx, action, c, d, nil) // the OCDS release of a public change
	if err != nil {
		return nil, err
	}
	writes = append(writes, published...)
	if fan != nil {
		f, w := s.newFanout(fan.Recipients, fan.Kind, fan.Ref, fan.Subject, fan.Message)
		fan = f
		// The dossier keeps what was sent to whom, after the outbox is expanded.
		notice := s.putNew(entity(key{competitionKey(c.ID).PK, "NOTICE#" + f.At + "#" + f.ID}, "notice", 1, f), "notice exists")
		writes = append(writes, w, notice)
	}
	head := headFrom(got[chainHeadKey(chain)])
	if _, err := s.commit(ctx, &head, Change{Actor: actor, Chain: chain, Action: action,
		EntityType: "competition", EntityID: c.ID, Subject: c.ID, State: c, Summary: summary}, writes...); err != nil {
		if procurement.ErrorCode(err) == procurement.ECONFLICT && err.(*procurement.Error).Message == staleVersion("the mini-competition") {
			return nil, errStaleCompetition
		}
		return nil, err
	}
	if fan != nil {
		if err := s.dispatch(ctx, fan); err != nil {
			// Committed; the scheduled job finishes the fan-out.
			return c, nil
		}
	}
	return c, nil
}

func invitees(c *procurement.Competition) []string { return slices.Clone(c.Invitees) }

// putInvitations writes the invitees of a publication before the
// publication commits, eight UpdateItems at a time (each is idempotent, so
// the SDK may retry it). Each invitation adds the publication's id to its
// set of publications: until the competition names one of them it is
// inert, so a publication that fails leaves nothing that admits a bid, and
// two officers publishing at once (one of whom will fail) cannot take away
// each other's ids, whatever the order of their writes.
func (s *Store) putInvitations(ctx context.Context, comp, publication string, invited []procurement.Invitee) error {
	if s.ReadOnly {
		return errReadOnly
	}
	work := make(chan int)
	errs := make(chan error, len(invited))
	var wg sync.WaitGroup
	for range min(8, len(invited)) {
		wg.Go(func() {
			for i := range work {
				it := entity(invitationKey(comp, invited[i].ProviderID), "invitation", 1, &invited[i])
				s.calls.Add(1)
				cctx, cancel := context.WithTimeout(ctx, s.Timeout)
				_, err := s.db.UpdateItem(cctx, &dynamodb.UpdateItemInput{
					TableName: &s.table, Key: it.key.av(),
					UpdateExpression:         aws.String("SET #type = :type, #data = :data, version = :one ADD pubs :pub"),
					ExpressionAttributeNames: map[string]string{"#type": "type", "#data": "data"},
					ExpressionAttributeValues: map[string]types.AttributeValue{":type": str(it.Type), ":data": str(string(it.Data)), ":one": num(1),
						":pub": &types.AttributeValueMemberSS{Value: []string{publication}}},
				})
				cancel()
				if err != nil {
					errs <- dbError(err)
				}
			}
		})
	}
	for i := range invited {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	return <-errs // nil when none failed
}

// invitedBy reports whether an invitation item belongs to the publication.
func invitedBy(m map[string]types.AttributeValue, publication string) bool {
	ss, ok := m["pubs"].(*types.AttributeValueMemberSS)
	return ok && slices.Contains(ss.Value, publication)
}

// batchWrite writes the requests 25 per BatchWriteItem, resending what
// DynamoDB leaves unprocessed with a growing pause.
func (s *Store) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	for attempt := 0; len(reqs) > 0; {
		n := min(25, len(reqs))
		s.calls.Add(1)
		cctx, cancel := context.WithTimeout(ctx, s.Timeout)
		out, err := s.db.BatchWriteItem(cctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{s.table: reqs[:n]}})
		cancel()
		if err != nil {
			return dbError(err)
		}
		left := out.UnprocessedItems[s.table]
		reqs = append(left, reqs[n:]...)
		if len(left) > 0 {
			attempt++
			select {
			case <-ctx.Done():
				return unavailable(ctx.Err())
			case <-time.After(time.Duration(min(attempt, 8)*10) * time.Millisecond):
			}
		}
	}
	return nil
}

// ListInvitees pages through the invitees of a competition as they stood
// at publication.
func (s *Store) ListInvitees(ctx context.Context, comp, cursor string, limit int) (Page[procurement.Invitee], error) {
	return queryPage[procurement.Invitee](ctx, s, query{pk: competitionKey(comp).PK, skBegin: "INV#", cursor: cursor, limit: limit})
}

// seal closes every invitation of a competition to bid writes. Each bid
// write carries a condition that its own invitation is not sealed, so once
// seal returns no bid can commit: an opening that reads the bids after it
// sees every bid that will ever be stored. Bidders never share an item;
// only the opening touches all invitations. Safe to run again.
func (s *Store) seal(ctx context.Context, comp string, at time.Time) error {
	all, err := All(func(cur string) (Page[map[string]types.AttributeValue], error) {
		items, next, err := s.query(ctx, query{pk: competitionKey(comp).PK, skBegin: "INV#", cursor: cur})
		return Page[map[string]types.AttributeValue]{Items: items, Cursor: next}, err
	})
	if err != nil {
		return err
	}
	open := slices.DeleteFunc(all, func(m map[string]types.AttributeValue) bool { return m["sealed"] != nil })
	for start := 0; start < len(open); start += 100 {
		var items []types.TransactWriteItem
		for _, m := range open[start:min(start+100, len(open))] {
			items = append(items, types.TransactWriteItem{Update: &types.Update{
				TableName: &s.table, Key: key{attrString(m, AttrPK), attrString(m, AttrSK)}.av(),
				UpdateExpression:          aws.String("SET sealed = :at"),
				ConditionExpression:       aws.String("attribute_exists(PK)"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":at": str(deadlineKey(at))},
			}})
		}
		if err := s.transactRetrying(ctx, items); err != nil {
			return err
		}
	}
	return nil
}

// PublishCompetition publishes a draft and invites, at one moment, every
// provider admitted and not suspended in its category. The transaction
// checks that none of the category's membership shards changed since the
// admissions were read (they are read first), so no admission or
// suspension can slip between the read and the publication. Errors:
// ECONFLICT, EFORBIDDEN.
func (s *Store) PublishCompetition(ctx context.Context, actor procurement.Actor, id string, version int, may func(*procurement.Competition) error) (*procurement.Competition, error) {
	return s.UpdateCompetition(ctx, actor, id, version, may, func(c *procurement.Competition, d *procurement.DPS) (string, string, []write, *fanout, error) {
		shards := make([]key, membershipShards)
		for i := range shards {
			shards[i] = membershipKey(c.DPSID, c.Category, i)
		}
		membership, err := s.getMany(ctx, shards...)
		if err != nil {
			return "", "", nil, nil, err
		}
		admitted, err := All(func(cur string) (Page[procurement.Admission], error) {
			return s.ListAdmissions(ctx, c.DPSID, c.Category, cur, 100)
		})
		if err != nil {
			return "", "", nil, nil, err
		}
		invited, err := c.Publish(d, actor, admitted, s.Now())
		if err != nil {
			return "", "", nil, nil, err
		}
		c.Publication = s.NewID()
		if err := s.putInvitations(ctx, c.ID, c.Publication, invited); err != nil {
			return "", "", nil, nil, err
		}
		checks := make([]write, len(shards))
		for i, k := range shards {
			checks[i] = s.check(k, "attribute_not_exists(version) OR version = :v", map[string]types.AttributeValue{":v": num(attrInt(membership[k], "version"))},
				"the providers admitted in the category changed while publishing; publish again to invite the current list")
		}
		fan := &fanout{Recipients: invitees(c), Kind: "competition.invited", Ref: c.ID, Subject: c.Title,
			Message: fmt.Sprintf("You are invited to bid in %q. Bids close %s.", c.Title, c.BidDeadline.UTC().Format(time.RFC3339))}
		return "competition.published", fmt.Sprintf("%d invitees frozen", len(c.Invitees)), checks, fan, nil
	})
}

// AmendCompetition edits a draft, or amends a published competition with a
// reason; a material amendment notifies every invitee.
func (s *Store) AmendCompetition(ctx context.Context, actor procurement.Actor, id string, version int, def procurement.Definition, reason string, may func(*procurement.Competition) error) (*procurement.Competition, error) {
	return s.UpdateCompetition(ctx, actor, id, version, may, func(c *procurement.Competition, d *procurement.DPS) (string, string, []write, *fanout, error) {
		wasDraft := c.Status == procurement.CompDraft
		mat, err := c.Update(d, actor, def, reason, s.Now())
		if err != nil {
			return "", "", nil, nil, err
		}
		if wasDraft {
			return "competition.edited", c.Title, nil, nil, nil
		}
		fan := &fanout{Recipients: invitees(c), Kind: "competition.amended", Ref: c.ID, Subject: c.Title,
			Message: fmt.Sprintf("%q was amended (%s). Bids close %s.", c.Title, reason, c.BidDeadline.UTC().Format(time.RFC3339))}
		return "competition.amended", fmt.Sprintf("material: %t; %s", mat, reason), nil, fan, nil
	})
}

// CancelCompetition cancels a competition with a reason and tells
// invitees. A published competition's invitations are sealed after the
// cancellation commits, so no bid is stored afterwards; a bid that commits
// in between is never opened.
func (s *Store) CancelCompetition(ctx context.Context, actor procurement.Actor, id string, version int, reason string, may func(*procurement.Competition) error) (*procurement.Competition, error) {
	c, err := s.UpdateCompetition(ctx, actor, id, version, may, func(c *procurement.Competition, d *procurement.DPS) (string, string, []write, *fanout, error) {
		if err := c.Cancel(actor, reason, s.Now()); err != nil {
			return "", "", nil, nil, err
		}
		var fan *fanout
		if len(c.Invitees) > 0 {
			fan = &fanout{Recipients: invitees(c), Kind: "competition.cancelled", Ref: c.ID, Subject: c.Title, Message: fmt.Sprintf("%q was cancelled: %s", c.Title, reason)}
		}
		return "competition.cancelled", reason, nil, fan, nil
	})
	if err == nil && c.PublishedAt != nil && c.Opening == nil {
		// Committed; if sealing fails, a bid stored later is never opened.
		_ = s.seal(ctx, c.ID, s.Now())
	}
	return c, err
}

// transactRetrying writes a transaction that no condition of ours can
// fail, retrying while DynamoDB cancels it for a conflict with a
// transaction in flight.
func (s *Store) transactRetrying(ctx context.Context, items []types.TransactWriteItem) error {
	for attempt := 0; ; attempt++ {
		err := s.transact(ctx, items)
		tce, ok := errors.AsType[*types.TransactionCanceledException](err)
		if !ok {
			return err
		}
		for _, r := range tce.CancellationReasons {
			if c := aws.ToString(r.Code); c != "" && c != "None" && c != "TransactionConflict" {
				return procurement.Internal(err)
			}
		}
		if attempt+1 >= maxChainAttempts {
			return unavailable(err)
		}
		select {
		case <-ctx.Done():
			return unavailable(ctx.Err())
		case <-time.After(time.Duration(mrand.IntN(5<<min(attempt, 6))+1) * time.Millisecond):
		}
	}
}

// openIfDue moves a published competition past its deadline (and the
// grace) into evaluation, recording the opening once. It first seals every
// invitation, so that no bid can commit after the bids are read: the
// opening's count and anchor hold every bid ever accepted. The version
// condition lets only one of concurrent openers win; the others reload.
func (s *Store) openIfDue(ctx context.Context, c *procurement.Competition) (*procurement.Competition, error) {
	now := s.Now()
	if c.Status != procurement.CompPublished || !c.DeadlinePassed(now.Add(-OpeningGrace)) {
		return c, nil
	}
	if err := s.seal(ctx, c.ID, now); err != nil {
		return nil, err
	}
	bids, err := s.AllBids(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	keys := make([]key, len(bids))
	for i, b := range bids {
		keys[i] = chainHeadKey(BidChain(c.ID, b.ProviderID))
	}
	heads := map[key]map[string]types.AttributeValue{}
	for start := 0; start < len(keys); start += 100 {
		got, err := s.getMany(ctx, keys[start:min(start+100, len(keys))]...)
		if err != nil {
			return nil, err
		}
		maps.Copy(heads, got)
	}
	type anchor struct {
		Provider string     `json:"provider"`
		Status   string     `json:"status"`
		Head     audit.Head `json:"head"`
	}
	anchors := make([]anchor, len(bids))
	submitted := 0
	for i, b := range bids {
		anchors[i] = anchor{b.ProviderID, string(b.Status), headFrom(heads[keys[i]])}
		if b.Status == procurement.BidSubmitted {
			submitted++
		}
	}
	prev := c.Version
	if err := c.Open(submitted, audit.Digest(anchors), now); err != nil {
		return nil, err
	}
	c.Version = prev + 1
	system := procurement.Actor{UserID: "system", Role: "system", Org: "rengas"}
	d, err := s.GetDPS(ctx, c.DPSID)
	if err != nil {
		return nil, err
	}
	published, err := s.competitionRelease(ctx, "competition.opened", c, d, bids) // the OCDS release of the opening
	if err != nil {
		return nil, err
	}
	_, err = s.commit(ctx, nil, Change{Actor: system, Chain: CompetitionChain(c.ID), Action: "competition.opened", EntityType: "competition",
		EntityID: c.ID, Subject: c.ID, State: c, Summary: fmt.Sprintf("%d bids; bid chains anchored %s", submitted, c.Opening.Anchor)},
		append([]write{s.putVersion(s.competitionItem(c), prev, "opened concurrently")}, published...)...)
	if procurement.ErrorCode(err) == procurement.ECONFLICT {
		return s.ReadCompetition(ctx, c.ID)
	}
	return c, err
}

// OpeningGrace is how long after a deadline the opening waits: a request
// received before the deadline may still be in flight for as long as the
// gateway waits for a function (30 s), which covers a cold start and the
// function's own time limit. Until then the competition shows as closed.
const OpeningGrace = 30 * time.Second

// OpenDue opens every published competition whose deadline (plus
// OpeningGrace) has passed. It
// reads the published index up to now, never Scans, and is safe to run
// twice. It returns the number opened by this run.
func (s *Store) OpenDue(ctx context.Context) (int, error) {
	n := 0
	for {
		items, _, err := s.query(ctx, query{index: &GSI3, pk: publishedPartition, skTo: deadlineKey(s.Now().Add(-OpeningGrace)), limit: 25})
		if err != nil || len(items) == 0 {
			return n, err
		}
		for _, m := range items {
			var c procurement.Competition
			if err := decode(m, &c); err != nil {
				return n, procurement.Internal(err)
			}
			opened, err := s.openIfDue(ctx, &c)
			if err != nil {
				return n, err
			}
			if opened.Status != procurement.CompPublished {
				n++
			}
		}
	}
}

// AllBids returns every bid of a competition, withdrawn ones included.
func (s *Store) AllBids(ctx context.Context, comp string) ([]procurement.Bid, error) {
	return All(func(cur string) (Page[procurement.Bid], error) { return s.ListBids(ctx, comp, cur, 100) })
}

// ListBids pages through the bids of an opened competition.
func (s *Store) ListBids(ctx context.Context, comp, cursor string, limit int) (Page[procurement.Bid], error) {
	return queryPage[procurement.Bid](ctx, s, query{pk: competitionKey(comp).PK, skBegin: "BID#", cursor: cursor, limit: limit})
}

// BidResult is a bid write's outcome; Replayed is set when an
// Idempotency-Key matched an earlier request.
type BidResult struct {
	Bid      *procurement.Bid
	Created  bool
	Replayed bool
}

type idempotent struct {
	Request string          `json:"request"`
	Created bool            `json:"created"`
	Bid     json.RawMessage `json:"bid"`
}

// idempotencyTTL is how long a key is remembered (DynamoDB TTL attribute "expires").
const idempotencyTTL = 24 * time.Hour

// WriteBid submits, replaces or withdraws the provider's own bid in two
// round trips: one BatchGetItem (competition, the provider's invitation,
// bid, its chain head, the idempotency record) and one TransactWriteItems.
// Whether the bid is on time is decided by received, the time the request
// reached the gateway, never by how late it is processed. The transaction
// touches only the provider's own items: its bid, its bid chain and its
// invitation, whose condition (not sealed, of this publication) refuses
// the write once the opening has begun. Bidders never contend. An
// Idempotency-Key with the same request returns the first result without
// writing again. Errors: ENOTFOUND (not invited), ECONFLICT (deadline,
// stale version), EINVALID.
//
// may is asked with the competition before anything that depends on the bid
// or the key. The request digest must bind the route and the competition,
// so that a key reused elsewhere is refused rather than replayed.
func (s *Store) WriteBid(ctx context.Context, actor procurement.Actor, comp string, version int, idemKey, requestDigest string,
	may func(*procurement.Competition) error,
	fn func(c *procurement.Competition, inv *procurement.Invitee, prev *procurement.Bid, now time.Time) (*procurement.Bid, string, error)) (BidResult, error) {
	prov := actor.Org
	chain := BidChain(comp, prov)
	keys := []key{competitionKey(comp), invitationKey(comp, prov), bidKey(comp, prov), chainHeadKey(chain)}
	if idemKey != "" {
		keys = append(keys, idempotencyKey(prov, idemKey))
	}
	got, err := s.getMany(ctx, keys...)
	if err != nil {
		return BidResult{}, err
	}
	c, err := decodeAs[procurement.Competition](got[competitionKey(comp)], "mini-competition "+comp)
	if err != nil {
		return BidResult{}, err
	}
	if idemKey != "" {
		// The caller's own record answers a retry first: a bid stored
		// before the deadline whose answer was lost is replayed after it,
		// not refused as late. The record is the caller's; it tells nothing
		// about anyone else.
		if m := got[idempotencyKey(prov, idemKey)]; m != nil && attrInt(m, "expires") > s.Now().Unix() {
			return replay(m, requestDigest)
		}
	}
	if err := may(c); err != nil {
		return BidResult{}, err
	}
	invItem := got[invitationKey(comp, prov)]
	if invItem == nil || !invitedBy(invItem, c.Publication) {
		return BidResult{}, procurement.Errorf(procurement.ENOTFOUND, "mini-competition %s not found", comp)
	}
	inv, err := decodeAs[procurement.Invitee](invItem, "invitation")
	if err != nil {
		return BidResult{}, err
	}
	var prev *procurement.Bid
	if m := got[bidKey(comp, prov)]; m != nil {
		if prev, err = decodeAs[procurement.Bid](m, "bid"); err != nil {
			return BidResult{}, err
		}
	}
	now := s.Now()
	b, action, err := fn(c, inv, prev, now)
	if err != nil {
		return BidResult{}, err
	}
	current := 0
	if prev != nil {
		current = prev.Version
	}
	if version != current {
		return BidResult{}, procurement.Errorf(procurement.ECONFLICT, "%s", staleVersion(fmt.Sprintf("your bid (you sent version %d, it is at %d; send 0 for a first bid)", version, current)))
	}
	b.Version = current + 1
	it := entity(bidKey(comp, prov), "bid", 0, b)
	it.Extras = map[string]types.AttributeValue{"status": str(string(b.Status))}
	writes := []write{
		s.putVersion(it, current, staleVersion("your bid")),
		s.check(invitationKey(comp, prov), "contains(pubs, :pub) AND attribute_not_exists(sealed)", map[string]types.AttributeValue{":pub": str(c.Publication)},
			"bids are closed: the bids were sealed for opening before your bid was stored; it was not accepted"),
	}
	res := BidResult{Bid: b, Created: prev == nil}
	if idemKey != "" {
		body, _ := json.Marshal(b)
		rec, _ := json.Marshal(idempotent{Request: requestDigest, Created: res.Created, Bid: body})
		writes = append(writes, s.idempotencyPut(prov, idemKey, rec, now))
	}
	// The trail of a sealed bid holds the digest of the bid and its time of
	// receipt, never its content.
	_, err = s.commit(ctx, &audit.Head{Seq: attrInt(got[chainHeadKey(chain)], "version"), Hash: attrString(got[chainHeadKey(chain)], "hash")},
		Change{Actor: actor, Chain: chain, Action: action, EntityType: "bid", EntityID: comp + "/" + prov, State: b, Subject: comp,
			Summary: "received " + b.ReceivedAt.UTC().Format(time.RFC3339Nano)}, writes...)
	if err != nil {
		if idemKey != "" {
			// A concurrent retry with the same key may have won, or this
			// very write was stored and only its answer was lost.
			if m, gerr := s.get(ctx, idempotencyKey(prov, idemKey)); gerr == nil && m != nil && attrInt(m, "expires") > s.Now().Unix() {
				return replay(m, requestDigest)
			}
		}
		return BidResult{}, err
	}
	return res, nil
}

func replay(m map[string]types.AttributeValue, requestDigest string) (BidResult, error) {
	var rec idempotent
	if err := decode(m, &rec); err != nil {
		return BidResult{}, procurement.Internal(err)
	}
	if rec.Request != requestDigest {
		return BidResult{}, KeyReused()
	}
	var b procurement.Bid
	if err := json.Unmarshal(rec.Bid, &b); err != nil {
		return BidResult{}, procurement.Internal(err)
	}
	return BidResult{Bid: &b, Created: rec.Created, Replayed: true}, nil
}

// GetBid returns the provider's own bid. Errors: ENOTFOUND.
func (s *Store) GetBid(ctx context.Context, comp, prov string) (*procurement.Bid, error) {
	m, err := s.get(ctx, bidKey(comp, prov))
	if err != nil {
		return nil, err
	}
	return decodeAs[procurement.Bid](m, "bid")
}

// UpdateBidEvaluation applies an evaluator's score or rejection to a bid.
// may is asked with the competition before anything depends on the bid, so
// that nobody learns from the answer whether a bid exists. The event goes
// on the bid's chain, and the write increments one of the competition's
// evaluation shards (chosen by the bidder), on which an award commits:
// evaluators scoring different bids rarely touch the same item, and never
// the competition's. A shard closed by the award refuses the write.
// Errors: ENOTFOUND, ECONFLICT, EFORBIDDEN, EINVALID.
func (s *Store) UpdateBidEvaluation(ctx context.Context, actor procurement.Actor, comp, prov string, version int, action string,
	may func(*procurement.Competition) error,
	fn func(c *procurement.Competition, b *procurement.Bid) error) (*procurement.Bid, error) {
	chain := BidChain(comp, prov)
	c, got, err := s.loadCompetition(ctx, comp, bidKey(comp, prov), chainHeadKey(chain))
	if err != nil {
		return nil, err
	}
	if err := may(c); err != nil {
		return nil, err
	}
	b, err := decodeAs[procurement.Bid](got[bidKey(comp, prov)], "bid of "+prov)
	if err != nil {
		return nil, err
	}
	if b.Version != version {
		return nil, procurement.Errorf(procurement.ECONFLICT, "%s", staleVersion(fmt.Sprintf("the bid (you sent version %d, it is at %d)", version, b.Version)))
	}
	if err := fn(c, b); err != nil {
		return nil, err
	}
	b.Version = version + 1
	it := entity(bidKey(comp, prov), "bid", 0, b)
	it.Extras = map[string]types.AttributeValue{"status": str(string(b.Status))}
	head := headFrom(got[chainHeadKey(chain)])
	_, err = s.commit(ctx, &head, Change{Actor: actor, Chain: chain, Action: action, EntityType: "bid", EntityID: comp + "/" + prov, State: b, Subject: comp},
		s.putVersion(it, version, staleVersion("the bid")),
		write{tw: types.TransactWriteItem{Update: &types.Update{
			TableName: &s.table, Key: evalShardKey(comp, evalShard(prov)).av(),
			UpdateExpression:          aws.String("ADD #n :one"),
			ConditionExpression:       aws.String("attribute_not_exists(closed)"),
			ExpressionAttributeNames:  map[string]string{"#n": "n"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1)},
		}}, conflict: "the evaluation is closed: the award decision was made"})
	return b, err
}

// evalShards is the number of evaluation counters of a competition.
const evalShards = 16

func evalShard(prov string) int { return shardOf(prov, evalShards) }

// shardOf spreads ids over n shards by their SHA-256.
func shardOf(id string, n int) int {
	h := sha256.Sum256([]byte(id))
	return int(h[0]) % n
}

// closeEvaluation returns the award's writes that close every evaluation
// shard on condition that none moved since the bids were read: a score or
// rejection committed in between fails the award, and none can commit
// after it.
func (s *Store) closeEvaluation(ctx context.Context, comp string) ([]write, error) {
	keys := make([]key, evalShards)
	for i := range keys {
		keys[i] = evalShardKey(comp, i)
	}
	got, err := s.getMany(ctx, keys...)
	if err != nil {
		return nil, err
	}
	writes := make([]write, evalShards)
	for i, k := range keys {
		writes[i] = write{tw: types.TransactWriteItem{Update: &types.Update{
			TableName: &s.table, Key: k.av(),
			UpdateExpression:          aws.String("SET closed = :t"),
			ConditionExpression:       aws.String("(attribute_not_exists(#n) OR #n = :n) AND attribute_not_exists(closed)"),
			ExpressionAttributeNames:  map[string]string{"#n": "n"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}, ":n": num(attrInt(got[k], "n"))},
		}}, conflict: staleVersion("the evaluation (a score or rejection was recorded while the decision was computed)")}
	}
	return writes, nil
}

// DeclareNoConflict records an evaluator's conflict-of-interest declaration.
func (s *Store) DeclareNoConflict(ctx context.Context, actor procurement.Actor, id, statement string, may func(*procurement.Competition) error) (*procurement.Competition, error) {
	return s.UpdateCompetition(ctx, actor, id, 0, may, func(c *procurement.Competition, d *procurement.DPS) (string, string, []write, *fanout, error) {
		return "competition.conflict_declared", actor.UserID, nil, nil, c.DeclareNoConflict(actor, statement, s.Now())
	})
}

// Award confirms the award decision, creates a contract per winner and
// notifies every bidder, in one transaction that also closes the
// evaluation on the shards' counts read before the bids, so the decision
// commits only on the evaluation it was computed from.
func (s *Store) Award(ctx context.Context, actor procurement.Actor, id string, version int, reasons string, may func(*procurement.Competition) error) (*procurement.Competition, error) {
	return s.UpdateCompetition(ctx, actor, id, version, may, func(c *procurement.Competition, d *procurement.DPS) (string, string, []write, *fanout, error) {
		// The shards are read before the bids: a score committed after this
		// read moves a shard and fails the award's condition.
		closing, err := s.closeEvaluation(ctx, c.ID)
		if err != nil {
			return "", "", nil, nil, err
		}
		bids, err := s.AllBids(ctx, c.ID)
		if err != nil {
			return "", "", nil, nil, err
		}
		seed := make([]byte, 16)
		_, _ = rand.Read(seed)
		if err := c.Award(d, actor, bids, reasons, hex.EncodeToString(seed), s.Now()); err != nil {
			return "", "", nil, nil, err
		}
		decided, err := s.decisionWrites(ctx, c.ID, c.Decision)
		if err != nil {
			return "", "", nil, nil, err
		}
		extra := append(closing, decided)
		var bidders []string
		for _, b := range bids {
			if b.Status == procurement.BidSubmitted {
				bidders = append(bidders, b.ProviderID)
			}
		}
		contracts := c.Contracts(bids, d.ServiceArea)
		for _, k := range contracts {
			extra = append(extra, s.putNew(contractItem(c, &k), "a contract for this award exists"))
		}
		extra = append(extra, s.countAward(c, contracts, len(bidders)))
		fan := &fanout{Recipients: bidders, Kind: "competition.awarded", Ref: c.ID, Subject: c.Title,
			Message: fmt.Sprintf("The award decision on %q is out. Read it with its reasons and appeal instructions.", c.Title)}
		return "competition.awarded", fmt.Sprintf("winners %v", c.Decision.Comparison.Winners), extra, fan, nil
	})
}

// AskQuestion stores a clarification question; the buyer is notified.
func (s *Store) AskQuestion(ctx context.Context, actor procurement.Actor, comp, text string, may func(*procurement.Competition) error) (*procurement.Question, error) {
	c, err := s.ReadCompetition(ctx, comp)
	if err != nil {
		return nil, err
	}
	if err := may(c); err != nil {
		return nil, err
	}
	now := s.Now()
	if err := c.Ask(actor.Org, text, now); err != nil {
		return nil, err
	}
	q := &procurement.Question{ID: s.NewID(), CompetitionID: comp, AskedBy: actor.Org, Text: text, AskedAt: now, Version: 1}
	// Each question starts a chain of its own: askers never queue on one head.
	_, err = s.commit(ctx, &audit.Head{}, Change{Actor: actor, Chain: QuestionChain(comp, q.ID), Action: "question.asked", EntityType: "question", EntityID: comp + "/" + q.ID, State: q, Subject: comp},
		s.putNew(entity(questionKey(comp, q.ID), "question", 1, q), "question exists"),
		s.notifyAbout(c.Buyer, "question.asked", comp, c.Title, fmt.Sprintf("A new clarification question on %q awaits an answer.", c.Title)))
	return q, err
}

// AnswerQuestion publishes an answer to every invitee, without the asker.
func (s *Store) AnswerQuestion(ctx context.Context, actor procurement.Actor, comp, qid string, version int, answer string, may func(*procurement.Competition) error) (*procurement.Question, error) {
	var q *procurement.Question
	_, err := s.UpdateCompetition(ctx, actor, comp, 0, may, func(c *procurement.Competition, d *procurement.DPS) (string, string, []write, *fanout, error) {
		m, err := s.get(ctx, questionKey(comp, qid))
		if err != nil {
			return "", "", nil, nil, err
		}
		if q, err = decodeAs[procurement.Question](m, "question "+qid); err != nil {
			return "", "", nil, nil, err
		}
		if q.Version != version {
			return "", "", nil, nil, procurement.Errorf(procurement.ECONFLICT, "%s", staleVersion("the question"))
		}
		if err := c.AnswerQuestion(actor, q, answer, s.Now()); err != nil {
			return "", "", nil, nil, err
		}
		q.Version = version + 1
		fan := &fanout{Recipients: invitees(c), Kind: "question.answered", Ref: comp, Subject: c.Title, Message: fmt.Sprintf("A clarification on %q was published: %s", c.Title, q.Text)}
		return "question.answered", qid, []write{s.putVersion(entity(questionKey(comp, qid), "question", 0, q), version, staleVersion("the question"))}, fan, nil
	})
	return q, err
}

// ListQuestions returns a competition's questions, oldest first.
func (s *Store) ListQuestions(ctx context.Context, comp, cursor string, limit int) (Page[procurement.Question], error) {
	return queryPage[procurement.Question](ctx, s, query{pk: competitionKey(comp).PK, skBegin: "Q#", cursor: cursor, limit: limit})
}

// contractItem indexes a contract for the award history: by provider, and
// by decision day within its DPS, with the attributes the history filters on.
func contractItem(c *procurement.Competition, k *procurement.Contract) item {
	it := entity(contractKey(c.ID, k.ProviderID), "contract", 1, k)
	it.GSI[1] = key{providerPartition(k.ProviderID), "CONTRACT#" + deadlineKey(k.AwardedAt) + "#" + c.ID}
	it.GSI[2] = key{awardsOf(c.DPSID), workdays.DateString(k.AwardedAt) + "#" + c.ID + "#" + k.ProviderID}
	parties := []string{k.ProviderID, k.Supplier.BusinessID}
	for _, m := range k.Members {
		parties = append(parties, m.BusinessID)
	}
	it.Extras = map[string]types.AttributeValue{
		"buyer": str(k.Buyer), "category": str(k.Category), "legalForm": str(string(k.Supplier.LegalForm)),
		"valueCents": num(k.ValueCents), "parties": &types.AttributeValueMemberSS{Value: parties},
	}
	return it
}

// countAward adds an award to the month's statistics of the DPS, in the
// award's own transaction, so statistics for any period read one item per
// month instead of every award.
func (s *Store) countAward(c *procurement.Competition, contracts []procurement.Contract, bids int) write {
	add := map[string]int64{"competitions": 1, "bids": int64(bids)}
	for _, k := range contracts {
		place := "nonlocal"
		if k.Local {
			place = "local"
		}
		for _, dim := range []string{"all", "form_" + string(k.Supplier.LegalForm), place} {
			add["awards_"+dim]++
			add["value_"+dim] += k.ValueCents
		}
	}
	var parts []string
	vals := map[string]types.AttributeValue{}
	names := map[string]string{}
	i := 0
	for _, name := range slices.Sorted(maps.Keys(add)) {
		parts = append(parts, fmt.Sprintf("#a%d :v%d", i, i))
		names[fmt.Sprintf("#a%d", i)] = name
		vals[fmt.Sprintf(":v%d", i)] = num(add[name])
		i++
	}
	return write{tw: types.TransactWriteItem{Update: &types.Update{
		TableName: &s.table, Key: statsKey(c.DPSID, c.Decision.At.UTC().Format("2006-01")).av(),
		UpdateExpression:         aws.String("ADD " + strings.Join(parts, ", ")),
		ExpressionAttributeNames: names, ExpressionAttributeValues: vals,
	}}}
}

// Contracts returns the contracts awarded in a competition.
func (s *Store) Contracts(ctx context.Context, comp string) ([]procurement.Contract, error) {
	return All(func(cur string) (Page[procurement.Contract], error) {
		return queryPage[procurement.Contract](ctx, s, query{pk: competitionKey(comp).PK, skBegin: "CONTRACT#", cursor: cur})
	})
}
