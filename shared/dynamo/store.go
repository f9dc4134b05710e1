package dynamo

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/rengas/rengas/shared/audit"
	"github.com/rengas/rengas/shared/procurement"
)

// Store is the DynamoDB storage of Rengas.
type Store struct {
	db    *dynamodb.Client
	table string
	// Now is the server clock; tests may replace it.
	Now   func() time.Time
	calls atomic.Int64
	// NewID returns a fresh identifier.
	NewID func() string
	// ReadOnly refuses every write, as the audit function's IAM role does;
	// setting it locally and in tests makes a stray write fail there too.
	ReadOnly bool
	// Timeout bounds each DynamoDB call (CallTimeout unless set).
	Timeout time.Duration
	// Anchors is where anchors are kept outside the table (nil: no
	// anchoring; the scheduled job then skips it).
	Anchors *AnchorBucket

	cancelMu    sync.Mutex
	cancelledTx int64
	cancelled   map[Cancellation]int64
}

var errReadOnly = procurement.Internal(errors.New("dynamo: write attempted on a read-only store"))

// New returns a store on the table.
func New(db *dynamodb.Client, table string) *Store {
	return &Store{db: db, table: table, Now: time.Now, NewID: newID, Timeout: CallTimeout}
}

// RoundTrips returns the number of DynamoDB requests the store has made.
// Benchmarks use it to report the cost of an operation.
func (s *Store) RoundTrips() int64 { return s.calls.Load() }

func newID() string {
	// Time-ordered, 16 hex digits of time plus 8 of randomness.
	return strconv.FormatInt(time.Now().UnixNano(), 36) + strconv.FormatUint(rand.Uint64()%(1<<40), 36)
}

// item is the stored envelope of every entity: keys, type, version and
// the entity as JSON. Storage stays private; domain types carry no tags.
type item struct {
	key
	GSI    [3]key // GSI1..3 keys; empty PK means not indexed
	Type   string
	Ver    int
	Data   []byte
	Extras map[string]types.AttributeValue
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func (k key) av() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrPK: str(k.PK), AttrSK: str(k.SK)}
}

func (it item) av() map[string]types.AttributeValue {
	m := it.key.av()
	for i, ix := range Indexes {
		if it.GSI[i].PK != "" {
			m[ix.PK], m[ix.SK] = str(it.GSI[i].PK), str(it.GSI[i].SK)
		}
	}
	m["type"], m["version"], m["data"] = str(it.Type), num(int64(it.Ver)), str(string(it.Data))
	for k, v := range it.Extras {
		m[k] = v
	}
	return m
}

// entity makes the envelope of a domain value. HTML characters are kept
// as they are: escaped, each of < > & takes six bytes, and a bid of
// angle brackets would pass DynamoDB's item limit though its body did not.
func entity(k key, typ string, version int, v any) item {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("dynamo: cannot encode " + typ + ": " + err.Error())
	}
	return item{key: k, Type: typ, Ver: version, Data: bytes.TrimSuffix(buf.Bytes(), []byte("\n"))}
}

func decode(m map[string]types.AttributeValue, v any) error {
	d, ok := m["data"].(*types.AttributeValueMemberS)
	if !ok {
		return errors.New("dynamo: item has no data")
	}
	return json.Unmarshal([]byte(d.Value), v)
}

func attrString(m map[string]types.AttributeValue, name string) string {
	if v, ok := m[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func attrInt(m map[string]types.AttributeValue, name string) int64 {
	if v, ok := m[name].(*types.AttributeValueMemberN); ok {
		i, _ := strconv.ParseInt(v.Value, 10, 64)
		return i
	}
	return 0
}

// write is one element of a transaction, with the message to give the
// user when its condition fails.
// Write is one element of a transaction (opaque outside this package).
type Write = write

type write struct {
	tw       types.TransactWriteItem
	conflict string
}

// putNew writes an item that must not exist yet.
func (s *Store) putNew(it item, conflict string) write {
	return write{tw: types.TransactWriteItem{Put: &types.Put{
		TableName: &s.table, Item: it.av(),
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	}}, conflict: conflict}
}

// putVersion writes an entity whose stored version must still be prev:
// the optimistic lock behind every update. The stored version becomes
// prev+1; a new entity (prev 0) must not exist yet.
func (s *Store) putVersion(it item, prev int, conflict string) write {
	it.Ver = prev + 1
	if prev == 0 {
		return s.putNew(it, conflict)
	}
	return write{tw: types.TransactWriteItem{Put: &types.Put{
		TableName: &s.table, Item: it.av(),
		ConditionExpression:       aws.String("version = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(int64(prev))},
	}}, conflict: conflict}
}

// check asserts a condition on an item that the transaction does not
// write. "#st" in the condition names the status attribute (a reserved word).
func (s *Store) check(k key, cond string, vals map[string]types.AttributeValue, conflict string) write {
	cc := &types.ConditionCheck{TableName: &s.table, Key: k.av(), ConditionExpression: &cond, ExpressionAttributeValues: vals}
	if strings.Contains(cond, "#st") {
		cc.ExpressionAttributeNames = map[string]string{"#st": "status"}
	}
	return write{tw: types.TransactWriteItem{ConditionCheck: cc}, conflict: conflict}
}

func staleVersion(what string) string {
	return what + " was changed by someone else since you read it; reload it and apply your change to the current version"
}

// Change is one state change with its audit record.
type Change struct {
	Actor      procurement.Actor
	Chain      string
	Action     string
	EntityType string
	EntityID   string
	State      any    // the new state; its digest goes into the event
	Summary    string // short, never sealed content
	// Subject is the procedure the event belongs to (an application or a
	// mini-competition id); a dossier lists its events across chains.
	Subject string
}

const maxChainAttempts = 12

// chained is one Change of a transaction with the head of its chain as
// read (nil: read it first).
type chained struct {
	head *audit.Head
	c    Change
}

// commit writes the items, the audit event and the new chain head in one
// TransactWriteItems. If head is nil it is read first. When only the chain
// head moved (another change on the same chain won the race), the head is
// re-read and the transaction retried: the entity conditions are
// unchanged, so no update is lost or applied twice.
func (s *Store) commit(ctx context.Context, head *audit.Head, c Change, writes ...write) (audit.Event, error) {
	evs, err := s.commitChains(ctx, []chained{{head, c}}, writes...)
	if err != nil {
		return audit.Event{}, err
	}
	return evs[0], nil
}

// commitChains is commit for changes on several chains at once (each
// chain at most once), all in one TransactWriteItems: the writes, then an
// event and a head per change. Heads left nil are read in one
// BatchGetItem. The request's Idempotency-Key, if any, is recorded in the
// same transaction (idempotency.go).
func (s *Store) commitChains(ctx context.Context, changes []chained, writes ...write) ([]audit.Event, error) {
	writes, release := s.claimed(ctx, writes)
	evs, err := s.commitChainsOnce(ctx, changes, writes...)
	if err != nil {
		release() // not stored: a later commit of the same request (a retry) takes the key
	}
	return evs, err
}

func (s *Store) commitChainsOnce(ctx context.Context, changes []chained, writes ...write) ([]audit.Event, error) {
	for attempt := 0; ; attempt++ {
		var missing []key
		for _, ch := range changes {
			if ch.head == nil {
				missing = append(missing, chainHeadKey(ch.c.Chain))
			}
		}
		if len(missing) > 0 {
			got, err := s.getMany(ctx, missing...)
			if err != nil {
				return nil, err
			}
			for i := range changes {
				if changes[i].head == nil {
					h := headFrom(got[chainHeadKey(changes[i].c.Chain)])
					changes[i].head = &h
				}
			}
		}
		now := s.Now()
		items := make([]types.TransactWriteItem, 0, len(writes)+2*len(changes))
		for _, w := range writes {
			items = append(items, w.tw)
		}
		evs := make([]audit.Event, len(changes))
		for i, ch := range changes {
			c := ch.c
			evs[i] = audit.Event{
				Chain: c.Chain, At: now, Actor: c.Actor.UserID, Role: string(c.Actor.Role), Org: c.Actor.Org,
				Action: c.Action, EntityType: c.EntityType, EntityID: c.EntityID, Digest: audit.Digest(c.State), Summary: c.Summary,
			}
			prev := *ch.head
			next := audit.Append(prev, &evs[i])
			items = append(items, s.eventPut(evs[i], c.Subject), s.headPut(c.Chain, prev, next, evs[i].At))
		}
		err := s.transact(ctx, items)
		if err == nil {
			return evs, nil
		}
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			return nil, err // transact classified it
		}
		s.countCancellation(items, tce)
		retry := false
		for i, r := range tce.CancellationReasons {
			code := aws.ToString(r.Code)
			switch {
			case code == "" || code == "None":
			case code == "ConditionalCheckFailed" && i < len(writes):
				return nil, procurement.Errorf(procurement.ECONFLICT, "%s", writes[i].conflict)
			case code == "ConditionalCheckFailed" || code == "TransactionConflict":
				retry = true // a chain head moved, or DynamoDB saw a concurrent transaction
			case code == "ThrottlingError" || code == "ProvisionedThroughputExceeded" || code == "RequestLimitExceeded":
				return nil, unavailable(err)
			case code == "ValidationError" && strings.Contains(strings.ToLower(aws.ToString(r.Message)), "size"):
				return nil, tooLarge(err)
			default:
				return nil, procurement.Internal(err)
			}
		}
		if !retry || attempt+1 >= maxChainAttempts {
			return nil, procurement.Errorf(procurement.ECONFLICT, "the record is busy with other changes; try again in a moment")
		}
		for i := range changes {
			changes[i].head = nil
		}
		select {
		case <-ctx.Done():
			return nil, unavailable(ctx.Err())
		case <-time.After(time.Duration(rand.IntN(5<<attempt)+1) * time.Millisecond):
		}
	}
}

// Cancellation is why DynamoDB cancelled a transaction of the store: the
// code of one cancellation reason and the key of the item it names.
type Cancellation struct {
	Code   string
	PK, SK string
}

// ChainHead reports whether the item named is the head of an audit chain.
func (c Cancellation) ChainHead() bool { return strings.HasPrefix(c.PK, "CHAIN#") && c.SK == "HEAD" }

// Cancellations returns how many transactions of the store DynamoDB
// cancelled, and how often each item was named as a reason (an item
// counts once per cancelled transaction). Tests and benchmarks use it to
// find which item transactions contend on.
func (s *Store) Cancellations() (transactions int64, reasons map[Cancellation]int64) {
	s.cancelMu.Lock()
	defer s.cancelMu.Unlock()
	out := make(map[Cancellation]int64, len(s.cancelled))
	for k, v := range s.cancelled {
		out[k] = v
	}
	return s.cancelledTx, out
}

func (s *Store) countCancellation(items []types.TransactWriteItem, tce *types.TransactionCanceledException) {
	s.cancelMu.Lock()
	defer s.cancelMu.Unlock()
	if s.cancelled == nil {
		s.cancelled = map[Cancellation]int64{}
	}
	s.cancelledTx++
	for i, r := range tce.CancellationReasons {
		code := aws.ToString(r.Code)
		if code == "" || code == "None" || i >= len(items) {
			continue
		}
		var k map[string]types.AttributeValue
		switch it := items[i]; {
		case it.Put != nil:
			k = it.Put.Item
		case it.Update != nil:
			k = it.Update.Key
		case it.ConditionCheck != nil:
			k = it.ConditionCheck.Key
		case it.Delete != nil:
			k = it.Delete.Key
		}
		s.cancelled[Cancellation{Code: code, PK: attrString(k, AttrPK), SK: attrString(k, AttrSK)}]++
	}
}

func (s *Store) eventPut(ev audit.Event, subject string) types.TransactWriteItem {
	it := entity(eventKey(ev.Chain, ev.Seq), "event", 1, ev)
	if subject != "" {
		it.GSI[1] = key{trailOf(subject), deadlineKey(ev.At) + "#" + ev.Chain + "#" + eventKey(ev.Chain, ev.Seq).SK}
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName: &s.table, Item: it.av(), ConditionExpression: aws.String("attribute_not_exists(PK)"),
	}}
}

// headPut writes a chain's new head. The head is indexed (GSI1) by shard
// and time of its last change, so that the anchoring job finds the heads
// changed since the previous anchor without a Scan; the shards spread the
// index's writes over HeadShards partitions. An index entry costs no
// transaction conflicts: DynamoDB updates indexes after the transaction.
func (s *Store) headPut(chain string, prev, next audit.Head, at time.Time) types.TransactWriteItem {
	it := item{key: chainHeadKey(chain), Type: "chainhead", Ver: int(next.Seq), Extras: map[string]types.AttributeValue{"hash": str(next.Hash)}}
	it.GSI[0] = headIndexKey(chain, at)
	it.Data = []byte("{}")
	put := &types.Put{TableName: &s.table, Item: it.av()}
	if prev.Seq == 0 {
		put.ConditionExpression = aws.String("attribute_not_exists(PK)")
	} else {
		put.ConditionExpression = aws.String("version = :v")
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(prev.Seq)}
	}
	return types.TransactWriteItem{Put: put}
}

func headFrom(m map[string]types.AttributeValue) audit.Head {
	if m == nil {
		return audit.Head{}
	}
	return audit.Head{Seq: attrInt(m, "version"), Hash: attrString(m, "hash")}
}

func (s *Store) readHead(ctx context.Context, chain string) (audit.Head, error) {
	m, err := s.get(ctx, chainHeadKey(chain))
	if err != nil {
		return audit.Head{}, err
	}
	return headFrom(m), nil
}

// get reads one item with a strongly consistent read; nil if absent.
func (s *Store) get(ctx context.Context, k key) (map[string]types.AttributeValue, error) {
	s.calls.Add(1)
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: k.av(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, dbError(err)
	}
	return out.Item, nil
}

// getMany reads up to 100 items in one strongly consistent BatchGetItem
// (more round trips only if DynamoDB leaves keys unprocessed).
func (s *Store) getMany(ctx context.Context, keys ...key) (map[key]map[string]types.AttributeValue, error) {
	res := make(map[key]map[string]types.AttributeValue, len(keys))
	req := make([]map[string]types.AttributeValue, 0, len(keys))
	seen := map[key]bool{}
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			req = append(req, k.av())
		}
	}
	for len(req) > 0 {
		s.calls.Add(1)
		cctx, cancel := context.WithTimeout(ctx, s.Timeout)
		out, err := s.db.BatchGetItem(cctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
			s.table: {Keys: req, ConsistentRead: aws.Bool(true)},
		}})
		cancel()
		if err != nil {
			return nil, dbError(err)
		}
		for _, m := range out.Responses[s.table] {
			res[key{attrString(m, AttrPK), attrString(m, AttrSK)}] = m
		}
		req = out.UnprocessedKeys[s.table].Keys
	}
	return res, nil
}

func (s *Store) transact(ctx context.Context, items []types.TransactWriteItem) error {
	if s.ReadOnly {
		return errReadOnly
	}
	s.calls.Add(1)
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if _, ok := errors.AsType[*types.TransactionCanceledException](err); ok || err == nil {
		return err
	}
	var api smithy.APIError
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || !errors.As(err, &api) {
		// The write was sent and no answer came (a timeout, or the
		// connection failed): DynamoDB may have applied it.
		return &procurement.Error{Code: procurement.EUNAVAILABLE, Err: err,
			Message: "the database did not confirm your change in time: it may or may not have been stored. Read it back before you send it again, or send it again with the same Idempotency-Key"}
	}
	return dbError(err)
}

// CallTimeout bounds each DynamoDB call; the request's own budget (below
// the function's time limit) bounds the whole request.
const CallTimeout = 3 * time.Second

// dbError classifies an error of a DynamoDB call: throttling, an overrun
// of the time budget or a cancelled request is EUNAVAILABLE (try again
// later); anything else is our fault.
func dbError(err error) error {
	var throttled *types.ProvisionedThroughputExceededException
	var limited *types.RequestLimitExceeded
	var conflict *types.TransactionConflictException
	var api smithy.APIError
	switch {
	case errors.As(err, &throttled), errors.As(err, &limited), errors.As(err, &conflict),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return unavailable(err)
	case errors.As(err, &api) && (api.ErrorCode() == "ThrottlingException" || api.ErrorCode() == "ServiceUnavailable" || api.ErrorCode() == "InternalServerError"):
		return unavailable(err)
	case errors.As(err, &api) && api.ErrorCode() == "ValidationException" && strings.Contains(strings.ToLower(api.ErrorMessage()), "size"):
		return tooLarge(err)
	}
	return procurement.Internal(err)
}

// tooLarge is a change that would make a record larger than DynamoDB
// allows (400 KB an item, 4 MB a transaction): the request's fault.
func tooLarge(err error) error {
	return &procurement.Error{Code: procurement.EINVALID, Err: err,
		Message: "the change would make the record larger than the database allows (400 KB); send shorter texts",
		Fields:  []procurement.FieldError{{Field: "body", Message: "is too large to store; shorten the longest texts"}}}
}

func unavailable(err error) error {
	return &procurement.Error{Code: procurement.EUNAVAILABLE, Message: "the database is busy or slow right now; nothing was changed unless you are told so. Try again in a moment", Err: err}
}

// Page is one page of a list and the cursor of the next, empty at the end.
type Page[T any] struct {
	Items  []T    `json:"items"`
	Cursor string `json:"cursor,omitempty"`
}

// query is one page of a Query on a partition of the table or an index.
type query struct {
	index   *Index
	pk      string
	skBegin string // begins_with condition on the sort key, if set
	skFrom  string // inclusive lower bound of the sort key, if set
	skTo    string // inclusive upper bound, if set
	desc    bool
	limit   int
	cursor  string
	// filter is a FilterExpression applied to the items read (at most limit).
	filter       string
	filterNames  map[string]string
	filterValues map[string]types.AttributeValue
}

func (s *Store) query(ctx context.Context, q query) ([]map[string]types.AttributeValue, string, error) {
	pkName, skName := AttrPK, AttrSK
	in := &dynamodb.QueryInput{TableName: &s.table, ScanIndexForward: aws.Bool(!q.desc)}
	if q.index != nil {
		pkName, skName = q.index.PK, q.index.SK
		in.IndexName = &q.index.Name
	} else {
		in.ConsistentRead = aws.Bool(true)
	}
	cond := "#pk = :pk"
	in.ExpressionAttributeNames = map[string]string{"#pk": pkName}
	in.ExpressionAttributeValues = map[string]types.AttributeValue{":pk": str(q.pk)}
	switch {
	case q.skBegin != "":
		cond += " AND begins_with(#sk, :b)"
		in.ExpressionAttributeNames["#sk"] = skName
		in.ExpressionAttributeValues[":b"] = str(q.skBegin)
	case q.skFrom != "" && q.skTo != "":
		cond += " AND #sk BETWEEN :f AND :t"
		in.ExpressionAttributeNames["#sk"] = skName
		in.ExpressionAttributeValues[":f"], in.ExpressionAttributeValues[":t"] = str(q.skFrom), str(q.skTo)
	case q.skTo != "":
		cond += " AND #sk <= :t"
		in.ExpressionAttributeNames["#sk"] = skName
		in.ExpressionAttributeValues[":t"] = str(q.skTo)
	case q.skFrom != "":
		cond += " AND #sk >= :f"
		in.ExpressionAttributeNames["#sk"] = skName
		in.ExpressionAttributeValues[":f"] = str(q.skFrom)
	}
	in.KeyConditionExpression = &cond
	if q.filter != "" {
		in.FilterExpression = &q.filter
		for k, v := range q.filterNames {
			in.ExpressionAttributeNames[k] = v
		}
		for k, v := range q.filterValues {
			in.ExpressionAttributeValues[k] = v
		}
	}
	if q.limit <= 0 || q.limit > 100 {
		q.limit = 100
	}
	in.Limit = aws.Int32(int32(q.limit))
	bound := q.binding()
	if q.cursor != "" {
		start, err := s.decodeCursor(q.cursor, bound)
		if err != nil || !q.validStart(start, pkName, skName) {
			return nil, "", procurement.Invalid("cursor", "is not a cursor of this list with these filters; pass the cursor value of the previous page unchanged, or omit it for the first page")
		}
		in.ExclusiveStartKey = start
	}
	s.calls.Add(1)
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, "", dbError(err)
	}
	return out.Items, s.encodeCursor(out.LastEvaluatedKey, bound), nil
}

// binding is what a cursor is bound to: the list and its filters.
func (q query) binding() string {
	ix := ""
	if q.index != nil {
		ix = q.index.Name
	}
	names := slices.Sorted(maps.Keys(q.filterValues))
	var vals []string
	for _, n := range names {
		vals = append(vals, n+"="+fmt.Sprint(q.filterValues[n]))
	}
	return strings.Join([]string{ix, q.pk, q.skBegin, q.skFrom, q.skTo, strconv.FormatBool(q.desc), q.filter, strings.Join(vals, ",")}, "\x00")
}

// validStart checks a decoded start key against the keys DynamoDB expects,
// so that no cursor can make it refuse the request: the table's key, and
// the index's, each present, non-empty and within DynamoDB's key sizes,
// and in the queried partition.
func (q query) validStart(start map[string]types.AttributeValue, pkName, skName string) bool {
	want := []string{AttrPK, AttrSK}
	if q.index != nil {
		want = append(want, q.index.PK, q.index.SK)
	}
	if len(start) != len(want) || attrString(start, pkName) != q.pk {
		return false
	}
	for _, n := range want {
		v := attrString(start, n)
		if v == "" || len(v) > 1024 {
			return false
		}
	}
	return attrString(start, skName) != ""
}

// Cursors are the base64url JSON of the last evaluated key (every key
// attribute in this table is a string) and an HMAC-SHA256 over it and the
// query it came from: a forged cursor, or one reused with other filters,
// is refused before it reaches DynamoDB.
func (s *Store) encodeCursor(k map[string]types.AttributeValue, bound string) string {
	if len(k) == 0 {
		return ""
	}
	m := map[string]string{}
	for name := range k {
		m[name] = attrString(k, name)
	}
	b, _ := json.Marshal(m)
	payload := base64.RawURLEncoding.EncodeToString(b)
	return payload + "." + base64.RawURLEncoding.EncodeToString(s.cursorMAC(payload, bound))
}

func (s *Store) cursorMAC(payload, bound string) []byte {
	h := hmac.New(sha256.New, s.cursorKey())
	h.Write([]byte(bound))
	h.Write([]byte{0})
	h.Write([]byte(payload))
	return h.Sum(nil)
}

// cursorKey is CURSOR_KEY from the environment (set it in a deployment so
// that cursors cannot be forged), or else derived from the table name, which
// still binds every cursor to its query.
func (s *Store) cursorKey() []byte {
	if k := os.Getenv("CURSOR_KEY"); k != "" {
		return []byte(k)
	}
	sum := sha256.Sum256([]byte("rengas cursor " + s.table))
	return sum[:]
}

var errCursor = errors.New("dynamo: cursor not valid")

func (s *Store) decodeCursor(c, bound string) (map[string]types.AttributeValue, error) {
	payload, mac, ok := strings.Cut(c, ".")
	got, err := base64.RawURLEncoding.DecodeString(mac)
	if !ok || err != nil || !hmac.Equal(got, s.cursorMAC(payload, bound)) {
		return nil, errCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return nil, err
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	out := map[string]types.AttributeValue{}
	for k, v := range m {
		out[k] = str(v)
	}
	return out, nil
}

// queryPage runs a query and decodes its page.
func queryPage[T any](ctx context.Context, s *Store, q query) (Page[T], error) {
	items, next, err := s.query(ctx, q)
	if err != nil {
		return Page[T]{}, err
	}
	return pageOf[T](items, next)
}

// pageOf decodes the items of a query page.
func pageOf[T any](items []map[string]types.AttributeValue, cursor string) (Page[T], error) {
	p := Page[T]{Items: make([]T, 0, len(items)), Cursor: cursor}
	for _, m := range items {
		var v T
		if err := decode(m, &v); err != nil {
			return p, procurement.Internal(err)
		}
		p.Items = append(p.Items, v)
	}
	return p, nil
}

// All collects every item of a paged list by following its cursors.
func All[T any](fetch func(cursor string) (Page[T], error)) ([]T, error) {
	var out []T
	cursor := ""
	for {
		p, err := fetch(cursor)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if cursor = p.Cursor; cursor == "" {
			return out, nil
		}
	}
}

// Table returns the name of the store's table.
func (s *Store) Table() string { return s.table }
