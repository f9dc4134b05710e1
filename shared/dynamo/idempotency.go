package dynamo

// Idempotency-Key records of the requests that create or submit.
//
// The HTTP layer reads the caller's record of a key (ReadIdempotency, one
// GetItem) before it serves a keyed request. If there is none it puts a
// Claim in the request's context, and commit writes the record in the same
// TransactWriteItems as the change and its audit event, on condition that
// no live record of the key exists: the key is taken exactly when the
// change is stored, so a request that fails before its commit leaves the
// key free, and of concurrent requests with one key only one can commit.
//
// The record holds the request's digest and the entities of the answer's
// type that the change wrote (the application, the bid, the question...),
// as stored; the HTTP layer renders them again as the route renders its
// answer, so a retry gets the first answer even when the first response
// was lost, with no second write after the commit. What an entity keeps
// in immutable items of its own (an award's decision) is read back
// (CompleteEntity).
//
// Bids keep their own record, written by WriteBid in its two round trips;
// both kinds share the key space IDEM#<org>#<key> and the "request" field,
// so a key used on one route is refused on every other.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"slices"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rengas/rengas/shared/outcomes"
	"github.com/rengas/rengas/shared/procurement"
)

// Claim is an Idempotency-Key that a request will take with its change.
type Claim struct {
	// Org and Key name the record: IDEM#<org>#<key>.
	Org, Key string
	// Request is the digest of the request the key is bound to.
	Request string
	// Route is the route's method and path template, for the record.
	Route string
	// Result is the stored type ("application") of the entities the
	// answer is made of; the change's writes of that type are kept.
	Result string
	// Nonce tells the record of this very request from another's.
	Nonce string
	taken atomic.Bool
}

// NewClaim returns a claim of the key with a fresh nonce.
func NewClaim(org, key, request, route, result string) *Claim {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return &Claim{Org: org, Key: key, Request: request, Route: route, Result: result, Nonce: hex.EncodeToString(b)}
}

type claimCtx struct{}

// WithClaim returns a context whose next commit takes the claim.
func WithClaim(ctx context.Context, c *Claim) context.Context {
	return context.WithValue(ctx, claimCtx{}, c)
}

// IdempotencyRecord is the stored record of a key.
type IdempotencyRecord struct {
	// Request is the digest of the request that took the key.
	Request string    `json:"request"`
	Route   string    `json:"route,omitempty"`
	At      time.Time `json:"at"`
	Nonce   string    `json:"claim,omitempty"`
	Result  string    `json:"result,omitempty"`
	// Items are the entities of type Result that the change wrote, in the
	// order of its writes, as stored.
	Items []json.RawMessage `json:"items,omitempty"`
}

// ReadIdempotency returns the caller's live record of a key, or nil. A
// record past its expiry that DynamoDB's TTL has not removed yet counts
// as none.
func (s *Store) ReadIdempotency(ctx context.Context, org, key string) (*IdempotencyRecord, error) {
	m, err := s.get(ctx, idempotencyKey(org, key))
	if err != nil || m == nil || attrInt(m, "expires") <= s.Now().Unix() {
		return nil, err
	}
	var rec IdempotencyRecord
	if err := decode(m, &rec); err != nil {
		return nil, procurement.Internal(err)
	}
	return &rec, nil
}

// KeyReused is the error of a key sent again with another request.
func KeyReused() error {
	return procurement.Invalid("Idempotency-Key", "was already used for a different request (another route, target or body, or another user of your organisation); use a new key for a new request")
}

// claimed adds the record of the context's claim, if any and not yet
// taken, to a change's writes. commit calls it; the record is written in
// the change's own transaction or not at all. release gives the claim
// back when that transaction did not commit, so that a request which
// retries its change (on a competition changed in between) still writes
// the record with the change that is stored.
func (s *Store) claimed(ctx context.Context, writes []write) ([]write, func()) {
	c, _ := ctx.Value(claimCtx{}).(*Claim)
	if c == nil || !c.taken.CompareAndSwap(false, true) {
		return writes, func() {}
	}
	now := s.Now()
	rec := IdempotencyRecord{Request: c.Request, Route: c.Route, At: now, Nonce: c.Nonce, Result: c.Result}
	for _, w := range writes {
		if p := w.tw.Put; p != nil && c.Result != "" && attrString(p.Item, "type") == c.Result {
			rec.Items = append(rec.Items, json.RawMessage(attrString(p.Item, "data")))
		}
	}
	data, err := json.Marshal(rec)
	if err != nil {
		panic("dynamo: cannot encode an idempotency record: " + err.Error())
	}
	w := s.idempotencyPut(c.Org, c.Key, data, now)
	return append(slices.Clip(writes), w), func() { c.taken.Store(false) }
}

// idempotencyPut writes a key's record, remembered idempotencyTTL, on
// condition that no live record of the key exists (the generic routes'
// records and the bids' share it).
func (s *Store) idempotencyPut(org, key string, data []byte, now time.Time) write {
	it := item{key: idempotencyKey(org, key), Type: "idempotency", Data: data,
		Extras: map[string]types.AttributeValue{"expires": num(now.Add(idempotencyTTL).Unix())}}
	return write{tw: types.TransactWriteItem{Put: &types.Put{
		TableName: &s.table, Item: it.av(),
		// DynamoDB's TTL removes an expired record within days, not at once.
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR #exp < :now"),
		ExpressionAttributeNames:  map[string]string{"#exp": "expires"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(now.Unix())},
	}}, conflict: "a concurrent request with the same Idempotency-Key was stored first; send the request again to get its answer"}
}

// CompleteEntity fills in, for a replay, what an entity keeps in items of
// its own rather than in the item the change wrote: an awarded
// competition's decision, which is written once and never changes.
func (s *Store) CompleteEntity(ctx context.Context, v any) error {
	c, ok := v.(*procurement.Competition)
	if !ok || c.Status != procurement.CompAwarded || c.Decision != nil {
		return nil
	}
	m, err := s.get(ctx, decisionKey(c.ID))
	if err != nil || m == nil {
		return err
	}
	c.Decision, err = s.readDecision(ctx, c.ID, m)
	return err
}

// resultTypes are the stored types of the entities answers are made of.
var resultTypes = map[reflect.Type]string{
	reflect.TypeFor[procurement.DPS]():                "dps",
	reflect.TypeFor[procurement.Provider]():           "provider",
	reflect.TypeFor[procurement.Application]():        "application",
	reflect.TypeFor[procurement.Admission]():          "admission",
	reflect.TypeFor[procurement.DeclarationRequest](): "declrequest",
	reflect.TypeFor[procurement.Competition]():        "competition",
	reflect.TypeFor[procurement.Question]():           "question",
	reflect.TypeFor[procurement.Bid]():                "bid",
	reflect.TypeFor[procurement.File]():               "file",
	reflect.TypeFor[outcomes.Contract]():              "outcomecontract",
	reflect.TypeFor[outcomes.Referral]():              "referral",
	reflect.TypeFor[outcomes.Claim]():                 "claim",
	reflect.TypeFor[outcomes.Entry]():                 "ledgerentry",
}

// ResultType returns the stored type of an entity type, or "" if the type
// is not stored as an entity.
func ResultType(t reflect.Type) string { return resultTypes[t] }
