package dynamo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/rengas/rengas/shared/audit"
	"github.com/rengas/rengas/shared/exports"
	"github.com/rengas/rengas/shared/procurement"
)

// Anchors: the heads of every chain that changed since the previous anchor
// are fixed, periodically, in an object of an S3 bucket with Object Lock
// in compliance mode, which nobody (the account's root user included) can
// overwrite or delete until its retention ends. Whoever can write the
// table could rewrite a chain and its head consistently; the anchored
// hashes would then no longer match, and verification says so.
//
// The job (Store.Anchor, run by the scheduled function) works in windows
// of time: an anchor covers the heads whose last event is later than the
// previous anchor's end and no later than AnchorSettle ago, found through
// the heads' index (GSI1, HEADS#<shard>) without a Scan. The settling time
// is longer than any request (or the scheduled function) can take between
// stamping an event and committing it, and than the index takes to catch
// up, so no head can land behind a window already anchored.
//
// An anchor is written first to the table (item ANCHOR / A#<n>, on
// condition that anchor n does not exist: of two concurrent runs one
// wins, the other stops), then each anchored head is recorded in its
// chain's partition (CHAIN#<chain> / ANCHOR#<n>, so that verifying a chain
// finds the anchors that cover it with one Query), then the object is
// written to the bucket with If-None-Match, and the record is marked
// stored. A run finishes whatever an interrupted one left undone; every
// step can be repeated.
//
// Sealed bids: a bid's chain, and so its name, must not be published
// before the competition's opening (the name says that the provider bid).
// The job leaves out the heads of bid chains of competitions not yet
// opened and notes the competition (SEALED / <comp>, in the table only); once the competition is opened the next anchor takes the current
// heads of all its bid chains. Bid chains of a competition cancelled
// before its opening are never published nor anchored: they stay sealed
// for everyone but the bidder, auditors included.

// AnchorBucket is the bucket that keeps the anchors outside the table.
type AnchorBucket struct {
	S3     *s3.Client
	Bucket string
	// Every is how often the scheduled job makes an anchor (default
	// DefaultAnchorEvery); Store.Anchor makes one whenever it is called.
	Every time.Duration
}

func (b *AnchorBucket) every() time.Duration {
	if b.Every <= 0 {
		return DefaultAnchorEvery
	}
	return b.Every
}

// DefaultAnchorEvery is how often the scheduled job anchors by default.
const DefaultAnchorEvery = time.Hour

// AnchorSettle is how long after its last event a chain's head is anchored.
const AnchorSettle = 5 * time.Minute

const (
	// maxAnchorBytes bounds the heads of one anchor, so that its record
	// stays well within DynamoDB's 400 KB per item; a longer window is
	// anchored in several anchors by the same run.
	maxAnchorBytes   = 256 << 10
	maxAnchorsPerRun = 50
)

// AnchorObjectPrefix is where the anchors' objects are in the bucket.
const AnchorObjectPrefix = "anchors/"

// ConnectAnchors returns the anchor bucket. With an endpoint (the local
// S3-compatible server) it uses static local credentials and path-style
// addresses; without one, the default AWS configuration of the Lambda
// environment.
func ConnectAnchors(ctx context.Context, endpoint, bucket string) (*AnchorBucket, error) {
	if bucket == "" {
		return nil, errors.New("no anchor bucket named (ANCHOR_BUCKET)")
	}
	c, err := exports.Client(ctx, endpoint)
	if err != nil {
		return nil, err
	}
	return &AnchorBucket{S3: c, Bucket: bucket}, nil
}

// AnchorRecord is the table's record of an anchor: the anchor, its
// digest, the key of its copy in the bucket, and whether that copy and the
// per-chain entries are written.
type AnchorRecord struct {
	audit.Anchor
	Digest string `json:"digest"`
	Object string `json:"object"`
	Stored bool   `json:"stored"`
}

// AnchorSummary is an anchor without its list of heads.
type AnchorSummary struct {
	Seq        int64     `json:"seq"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	At         time.Time `json:"at"`
	PrevDigest string    `json:"prevDigest"`
	Root       string    `json:"merkleRoot"`
	Heads      int       `json:"heads"`
	Digest     string    `json:"digest"`
	Object     string    `json:"object"`
	Stored     bool      `json:"stored"`
}

func (r AnchorRecord) summary() AnchorSummary {
	return AnchorSummary{Seq: r.Seq, From: r.From, To: r.To, At: r.At, PrevDigest: r.PrevDigest, Root: r.Root,
		Heads: len(r.Heads), Digest: r.Digest, Object: r.Object, Stored: r.Stored}
}

// objectBody is the anchor as stored in the bucket: its canonical JSON,
// whose SHA-256 is the anchor's digest.
func objectBody(a audit.Anchor) []byte {
	b, err := json.Marshal(a)
	if err != nil {
		panic("dynamo: cannot encode an anchor: " + err.Error())
	}
	return b
}

func anchorObjectKey(n int64) string { return fmt.Sprintf("%s%012d.json", AnchorObjectPrefix, n) }

// AnchorReport says what one run of the anchoring job did.
type AnchorReport struct {
	Anchors int `json:"anchorsWritten"`
	Heads   int `json:"headsAnchored"`
	// Finished counts anchors left unfinished by an earlier run and completed by this one.
	Finished int `json:"anchorsFinished"`
	// Sealed is the number of competitions whose bid chains wait for their opening.
	Sealed int `json:"sealedCompetitionsWaiting"`
	// Concurrent is set when another run wrote the next anchor first.
	Concurrent bool  `json:"concurrentRun,omitempty"`
	Latest     int64 `json:"latestAnchor"`
}

// AnchorIfDue anchors when the latest anchor is older than the bucket's
// interval (or unfinished). Without a bucket it does nothing.
func (s *Store) AnchorIfDue(ctx context.Context) (AnchorReport, error) {
	if s.Anchors == nil {
		return AnchorReport{}, nil
	}
	latest, err := s.latestAnchor(ctx)
	if err != nil {
		return AnchorReport{}, err
	}
	if latest != nil && latest.Stored && s.Now().Sub(latest.At) < s.Anchors.every() {
		return AnchorReport{Latest: latest.Seq}, nil
	}
	return s.Anchor(ctx)
}

// Anchor finishes an anchor an interrupted run left behind, then anchors
// every chain head changed since the latest anchor (up to AnchorSettle
// ago), in as many anchors as their size needs. It is safe to run twice
// or concurrently.
func (s *Store) Anchor(ctx context.Context) (AnchorReport, error) {
	var rep AnchorReport
	if s.Anchors == nil {
		return rep, procurement.Internal(errors.New("dynamo: no anchor bucket configured"))
	}
	if s.ReadOnly {
		return rep, errReadOnly
	}
	latest, err := s.latestAnchor(ctx)
	if err != nil {
		return rep, err
	}
	if latest != nil && !latest.Stored {
		if err := s.finishAnchor(ctx, latest); err != nil {
			return rep, err
		}
		rep.Finished++
	}
	for range maxAnchorsPerRun {
		next, resolved, more, err := s.nextAnchor(ctx, latest, &rep)
		if err != nil || next == nil {
			return rep, err
		}
		if len(next.Heads) == 0 && len(resolved) == 0 && latest != nil && s.Now().Sub(latest.At) < s.Anchors.every() {
			// Nothing to anchor, and the latest anchor is recent: an empty
			// anchor is written only as a heartbeat, once per interval.
			return rep, nil
		}
		s.calls.Add(1)
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: s.anchorItem(next).av(),
			ConditionExpression: aws.String("attribute_not_exists(PK)")})
		if _, lost := errors.AsType[*types.ConditionalCheckFailedException](err); lost {
			rep.Concurrent = true // another run wrote this anchor; it finishes it
			return rep, nil
		}
		if err != nil {
			return rep, dbError(err)
		}
		for _, comp := range resolved {
			if err := s.deleteItem(ctx, sealedKey(comp)); err != nil {
				return rep, err
			}
		}
		if err := s.finishAnchor(ctx, next); err != nil {
			return rep, err
		}
		rep.Anchors++
		rep.Heads += len(next.Heads)
		rep.Latest = next.Seq
		latest = next
		if !more {
			return rep, nil
		}
	}
	return rep, nil
}

func (s *Store) anchorItem(r *AnchorRecord) item {
	ver := 1
	if r.Stored {
		ver = 2
	}
	return entity(anchorKey(r.Seq), "anchor", ver, r)
}

// latestAnchor reads the newest anchor record (nil if there is none).
func (s *Store) latestAnchor(ctx context.Context) (*AnchorRecord, error) {
	items, _, err := s.query(ctx, query{pk: anchorPartition, skBegin: "A#", desc: true, limit: 1})
	if err != nil || len(items) == 0 {
		return nil, err
	}
	return decodeAs[AnchorRecord](items[0], "anchor")
}

// ChangedHead is a chain head with the time of its last event.
type ChangedHead struct {
	audit.AnchoredHead
	At string `json:"at"`
}

// ChangedHeads returns the heads whose last event is later than from and
// no later than to, in time order: one Query per shard of the heads'
// index (more only past 1 MB of heads).
func (s *Store) ChangedHeads(ctx context.Context, from, to time.Time) ([]ChangedHead, error) {
	var out []ChangedHead
	for shard := range HeadShards {
		in := &dynamodb.QueryInput{TableName: &s.table, IndexName: &GSI1.Name,
			KeyConditionExpression:    aws.String("#pk = :pk AND #sk BETWEEN :f AND :t"),
			ExpressionAttributeNames:  map[string]string{"#pk": GSI1.PK, "#sk": GSI1.SK},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(fmt.Sprintf("HEADS#%02d", shard)), ":f": str(deadlineKey(from) + "~"), ":t": str(deadlineKey(to) + "#~")},
		}
		err := s.queryPages(ctx, in, func(items []map[string]types.AttributeValue) bool {
			for _, m := range items {
				at, chain, _ := strings.Cut(attrString(m, GSI1.SK), "#")
				out = append(out, ChangedHead{AnchoredHead: audit.AnchoredHead{Chain: chain, Seq: attrInt(m, "version"), Hash: attrString(m, "hash")}, At: at})
			}
			return true
		})
		if err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b ChangedHead) int {
		if c := strings.Compare(a.At, b.At); c != 0 {
			return c
		}
		return strings.Compare(a.Chain, b.Chain)
	})
	return out, nil
}

// queryPages runs a Query in full pages (DynamoDB's 1 MB), calling fn with
// each page until fn returns false or the pages end; and, if given, only
// while more() allows another page.
func (s *Store) queryPages(ctx context.Context, in *dynamodb.QueryInput, fn func([]map[string]types.AttributeValue) bool, more ...func() bool) error {
	for {
		if len(more) > 0 && !more[0]() {
			return nil
		}
		s.calls.Add(1)
		cctx, cancel := context.WithTimeout(ctx, CallTimeout)
		out, err := s.db.Query(cctx, in)
		cancel()
		if err != nil {
			return dbError(err)
		}
		if !fn(out.Items) || len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// bidChainCompetition returns the competition of a bid chain.
func bidChainCompetition(chain string) (string, bool) {
	rest, ok := strings.CutPrefix(chain, "bid.")
	if !ok {
		return "", false
	}
	comp, _, ok := strings.Cut(rest, ".")
	return comp, ok
}

// nextAnchor builds the anchor after latest, or nil when no time has
// settled since it. It notes competitions whose bid chains must wait, and
// returns those whose wait is over (their notes are deleted once the
// anchor is written) and whether heads are left for another anchor.
func (s *Store) nextAnchor(ctx context.Context, latest *AnchorRecord, rep *AnchorReport) (next *AnchorRecord, resolved []string, more bool, err error) {
	var from time.Time
	seq, prev := int64(1), ""
	if latest != nil {
		from, seq, prev = latest.To, latest.Seq+1, latest.Digest
	}
	now := s.Now()
	to := now.Add(-AnchorSettle).UTC().Truncate(time.Microsecond)
	if !to.After(from) {
		return nil, nil, false, nil
	}
	changed, err := s.ChangedHeads(ctx, from, to)
	if err != nil {
		return nil, nil, false, err
	}
	// Cut the window where the anchor would grow too large, between two
	// distinct times so that the next window starts exactly after it.
	size := 0
	for i, h := range changed {
		size += len(h.Chain) + len(h.Hash) + 40
		if size > maxAnchorBytes && i > 0 && h.At != changed[i-1].At {
			cut, perr := time.Parse("2006-01-02T15:04:05.000000Z", changed[i-1].At)
			if perr != nil {
				return nil, nil, false, procurement.Internal(perr)
			}
			changed, to, more = changed[:i], cut, true
			break
		}
	}
	heads := map[string]audit.AnchoredHead{}
	pending := map[string][]audit.AnchoredHead{} // bid heads by competition
	for _, h := range changed {
		if comp, ok := bidChainCompetition(h.Chain); ok {
			pending[comp] = append(pending[comp], h.AnchoredHead)
			continue
		}
		heads[h.Chain] = h.AnchoredHead
	}
	noted, err := All(func(cur string) (Page[map[string]types.AttributeValue], error) {
		items, next, err := s.query(ctx, query{pk: sealedPartition, cursor: cur})
		return Page[map[string]types.AttributeValue]{Items: items, Cursor: next}, err
	})
	if err != nil {
		return nil, nil, false, err
	}
	wasNoted := map[string]bool{}
	for _, m := range noted {
		comp := attrString(m, AttrSK)
		wasNoted[comp] = true
		if _, ok := pending[comp]; !ok {
			pending[comp] = nil
		}
	}
	comps := slices.Sorted(maps.Keys(pending))
	got := map[key]map[string]types.AttributeValue{}
	for start := 0; start < len(comps); start += 100 {
		keys := make([]key, 0, 100)
		for _, c := range comps[start:min(start+100, len(comps))] {
			keys = append(keys, competitionKey(c))
		}
		part, err := s.getMany(ctx, keys...)
		if err != nil {
			return nil, nil, false, err
		}
		maps.Copy(got, part)
	}
	rep.Sealed = 0
	for _, comp := range comps {
		c, derr := decodeAs[procurement.Competition](got[competitionKey(comp)], "competition")
		switch {
		case derr == nil && c.Opening != nil:
			// Opened: every bid chain of the competition, as it stands now.
			bids, err := s.AllBids(ctx, comp)
			if err != nil {
				return nil, nil, false, err
			}
			keys := make([]key, len(bids))
			for i, b := range bids {
				keys[i] = chainHeadKey(BidChain(comp, b.ProviderID))
			}
			for start := 0; start < len(keys); start += 100 {
				hs, err := s.getMany(ctx, keys[start:min(start+100, len(keys))]...)
				if err != nil {
					return nil, nil, false, err
				}
				for k, m := range hs {
					chain := strings.TrimPrefix(k.PK, "CHAIN#")
					heads[chain] = audit.AnchoredHead{Chain: chain, Seq: attrInt(m, "version"), Hash: attrString(m, "hash")}
				}
			}
			if wasNoted[comp] {
				resolved = append(resolved, comp)
			}
		case derr == nil && c.Status != procurement.CompCancelled:
			// Still sealed: wait for the opening.
			rep.Sealed++
			if !wasNoted[comp] {
				if err := s.putPlain(ctx, item{key: sealedKey(comp), Type: "sealed", Ver: 1, Data: []byte("{}")}); err != nil {
					return nil, nil, false, err
				}
			}
		default:
			// Cancelled before its opening (or gone): its bids stay sealed.
			if wasNoted[comp] {
				resolved = append(resolved, comp)
			}
		}
	}
	a := audit.NewAnchor(seq, from, to, now, prev, slices.Collect(maps.Values(heads)))
	return &AnchorRecord{Anchor: a, Digest: a.Digest(), Object: anchorObjectKey(seq)}, resolved, more, nil
}

// putPlain writes an item outside a transaction, replacing it if present.
func (s *Store) putPlain(ctx context.Context, it item) error {
	if s.ReadOnly {
		return errReadOnly
	}
	s.calls.Add(1)
	cctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	_, err := s.db.PutItem(cctx, &dynamodb.PutItemInput{TableName: &s.table, Item: it.av()})
	if err != nil {
		return dbError(err)
	}
	return nil
}

func (s *Store) deleteItem(ctx context.Context, k key) error {
	if s.ReadOnly {
		return errReadOnly
	}
	s.calls.Add(1)
	cctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	if _, err := s.db.DeleteItem(cctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: k.av()}); err != nil {
		return dbError(err)
	}
	return nil
}

// anchoredEntry is a chain's record of an anchor that covers it.
type anchoredEntry struct {
	Anchor int64  `json:"anchor"`
	Seq    int64  `json:"seq"`
	Hash   string `json:"hash"`
}

// finishAnchor records each anchored head in its chain's partition,
// writes the object to the bucket (unless the very same object is there)
// and marks the record stored. Each step may be repeated.
func (s *Store) finishAnchor(ctx context.Context, r *AnchorRecord) error {
	// Put only if absent: like events, these entries are never replaced.
	// Several at a time; the scheduled function has the time.
	var wg sync.WaitGroup
	errs := make(chan error, len(r.Heads))
	sem := make(chan struct{}, 16)
	for _, h := range r.Heads {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			it := entity(anchoredHeadKey(h.Chain, r.Seq), "anchored", 1, anchoredEntry{Anchor: r.Seq, Seq: h.Seq, Hash: h.Hash})
			s.calls.Add(1)
			cctx, cancel := context.WithTimeout(ctx, CallTimeout)
			defer cancel()
			_, err := s.db.PutItem(cctx, &dynamodb.PutItemInput{TableName: &s.table, Item: it.av(), ConditionExpression: aws.String("attribute_not_exists(PK)")})
			if _, dup := errors.AsType[*types.ConditionalCheckFailedException](err); err != nil && !dup {
				errs <- dbError(err)
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	body := objectBody(r.Anchor)
	_, err := s.Anchors.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.Anchors.Bucket, Key: &r.Object, Body: bytes.NewReader(body),
		ContentType: aws.String("application/json"), IfNoneMatch: aws.String("*")})
	if err != nil {
		if !preconditionFailed(err) {
			return procurement.Internal(fmt.Errorf("write anchor %d to the bucket: %w", r.Seq, err))
		}
		// Already there (an earlier run, or a concurrent one): it must be this very anchor.
		there, err := s.anchorObject(ctx, r.Object)
		if err != nil {
			return err
		}
		if !bytes.Equal(there, body) {
			return procurement.Internal(fmt.Errorf("anchor %d in the bucket differs from the table's record: verify it (GET /audit/anchors/%d/verification)", r.Seq, r.Seq))
		}
	}
	done := *r
	done.Stored = true
	s.calls.Add(1)
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: s.anchorItem(&done).av(),
		ConditionExpression: aws.String("version = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(1)}})
	if _, dup := errors.AsType[*types.ConditionalCheckFailedException](err); err != nil && !dup {
		return dbError(err)
	}
	r.Stored = true
	return nil
}

func preconditionFailed(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && (api.ErrorCode() == "PreconditionFailed" || api.ErrorCode() == "ConditionalRequestConflict")
}

// errNoObject is an anchor missing from the bucket.
var errNoObject = errors.New("no such anchor object")

// anchorObject reads an anchor's object from the bucket.
func (s *Store) anchorObject(ctx context.Context, objectKey string) ([]byte, error) {
	out, err := s.Anchors.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.Anchors.Bucket, Key: &objectKey})
	if err != nil {
		var api smithy.APIError
		if errors.As(err, &api) && (api.ErrorCode() == "NoSuchKey" || api.ErrorCode() == "NotFound") {
			return nil, errNoObject
		}
		return nil, unavailableS3(err)
	}
	defer out.Body.Close()
	return io.ReadAll(io.LimitReader(out.Body, 8<<20))
}

func unavailableS3(err error) error {
	return &procurement.Error{Code: procurement.EUNAVAILABLE, Message: "the anchor bucket cannot be read right now; try again in a moment", Err: err}
}

// ListAnchors pages through the anchors, newest first, without their heads.
func (s *Store) ListAnchors(ctx context.Context, cursor string, limit int) (Page[AnchorSummary], error) {
	p, err := queryPage[AnchorRecord](ctx, s, query{pk: anchorPartition, skBegin: "A#", desc: true, cursor: cursor, limit: limit})
	out := Page[AnchorSummary]{Items: make([]AnchorSummary, len(p.Items)), Cursor: p.Cursor}
	for i, r := range p.Items {
		out.Items[i] = r.summary()
	}
	return out, err
}

// GetAnchor returns an anchor as the table records it. Errors: ENOTFOUND.
func (s *Store) GetAnchor(ctx context.Context, n int64) (*AnchorRecord, error) {
	m, err := s.get(ctx, anchorKey(n))
	if err != nil {
		return nil, err
	}
	return decodeAs[AnchorRecord](m, "anchor "+strconv.FormatInt(n, 10))
}
