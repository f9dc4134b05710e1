package localdb

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/truora/minidyn/server"
)

// Strict selects which of DynamoDB's rules the layer in front of the
// embedded engine enforces. The engine itself enforces none of them.
type Strict struct {
	// ItemSize refuses items over 400 KB (after an update, too) and
	// transactions over 4 MB.
	ItemSize bool
	// Keys refuses empty key values (of the table and of its indexes),
	// partition keys over 2048 bytes and sort keys over 1024 bytes, in
	// every request that carries keys.
	Keys bool
	// Transactions refuses transactions of more than 100 actions and two
	// actions on one item.
	Transactions bool
	// Query refuses BETWEEN with its bounds out of order, a Limit below 1,
	// and an ExclusiveStartKey that is not exactly the key attributes of
	// the table (and of the index read).
	Query bool
	// Batches refuses BatchGetItem over 100 keys, BatchWriteItem over 25
	// requests, and duplicate keys in either.
	Batches bool
	// Conflicts cancels a transaction that touches an item held by another
	// transaction in flight (TransactionConflict), and refuses single-item
	// writes on such an item (TransactionConflictException).
	Conflicts bool
	// Idempotency honours ClientRequestToken on TransactWriteItems.
	Idempotency bool
	// Pages ends a Query's page after 1 MB of items, as DynamoDB does
	// (the engine returns every item up to Limit). DynamoDB counts the
	// items read before any filter; here only unfiltered Queries are cut.
	Pages bool
	// Hold is how long a transaction stays in flight before it is applied,
	// so that concurrent transactions can really overlap.
	Hold time.Duration
	// IdempotencyWindow is how long a ClientRequestToken is remembered.
	IdempotencyWindow time.Duration
}

// DefaultStrict enforces every rule, holds each transaction for 1 ms and
// remembers tokens for 10 minutes, as DynamoDB does.
func DefaultStrict() Strict {
	return Strict{
		ItemSize: true, Keys: true, Transactions: true, Query: true, Batches: true,
		Conflicts: true, Idempotency: true, Pages: true,
		Hold: time.Millisecond, IdempotencyWindow: 10 * time.Minute,
	}
}

// layer is an http.Handler in front of the embedded engine that refuses
// what DynamoDB refuses, detects transaction conflicts, honours
// idempotency tokens and injects faults.
type layer struct {
	inner  http.Handler
	strict atomic.Pointer[Strict]
	faults atomic.Pointer[FaultFunc]

	// scratch is a second engine where updates are tried on a copy of the
	// item, to learn the size of the item they would produce.
	scratchMu     sync.Mutex
	scratch       http.Handler
	scratchTables map[string]bool

	mu      sync.Mutex
	schemas map[string]*tableSchema
	held    map[string]*holders
	tokens  map[string]*token
	order   []tokenAge // tokens by age, to forget expired ones

	// conflicts counts the requests refused for a conflict with a
	// transaction in flight.
	conflicts atomic.Int64

	// logRefusals logs every request the layer refuses (LOCALDB_LOG=1),
	// to find which code path breaks a DynamoDB rule.
	logRefusals bool
}

func newLayer(st Strict) *layer {
	l := &layer{
		inner: server.NewServer(), scratch: server.NewServer(), scratchTables: map[string]bool{},
		schemas: map[string]*tableSchema{}, held: map[string]*holders{}, tokens: map[string]*token{},
		logRefusals: os.Getenv("LOCALDB_LOG") != "",
	}
	l.strict.Store(&st)
	return l
}

// response is a recorded answer.
type response struct {
	status  int
	header  http.Header
	body    []byte
	refused *apiError // set when the layer, not the engine, answered
}

func (r response) ok() bool { return r.status == http.StatusOK }

func (r response) write(w http.ResponseWriter) {
	ct := "application/x-amz-json-1.0"
	if r.header != nil && r.header.Get("Content-Type") != "" {
		ct = r.header.Get("Content-Type")
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(r.status)
	w.Write(r.body)
}

// recorder captures what a handler writes.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

// call runs one request on an engine in process.
func call(h http.Handler, op string, body []byte) response {
	req, _ := http.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	rec := &recorder{header: http.Header{}}
	h.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return response{status: rec.status, header: rec.header, body: rec.body.Bytes()}
}

func callJSON(h http.Handler, op string, in any) response {
	b, _ := json.Marshal(in)
	return call(h, op, b)
}

func (l *layer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	target := r.Header.Get("X-Amz-Target")
	op := target[strings.LastIndexByte(target, '.')+1:]
	var f Fault
	if ff := l.faults.Load(); ff != nil && *ff != nil {
		f = (*ff)(op, body)
	}
	switch f.Kind {
	case Delay:
		time.Sleep(f.Delay)
	case Drop:
		panic(http.ErrAbortHandler) // closes the connection without an answer
	case InternalError:
		(&apiError{status: http.StatusInternalServerError, typ: "InternalServerError", msg: "Internal server error"}).response().write(w)
		return
	case Throttle:
		code := f.Code
		if code == "" {
			code = "ThrottlingException"
		}
		(&apiError{status: http.StatusBadRequest, typ: code, msg: "Throughput exceeds the current capacity of your table or index."}).response().write(w)
		return
	}
	resp := l.serve(op, body)
	if resp.refused != nil && l.logRefusals {
		req := body
		if len(req) > 2000 {
			req = req[:2000]
		}
		log.Printf("localdb: refused %s: %s: %s\nrequest: %s", op, resp.refused.typ, resp.refused.msg, req)
	}
	if f.Kind == LoseResponse {
		time.Sleep(f.Delay)
		panic(http.ErrAbortHandler)
	}
	resp.write(w)
}

func (l *layer) forward(op string, body []byte) response { return call(l.inner, op, body) }

func (l *layer) schema(table string) *tableSchema {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.schemas[table]
}

func (l *layer) serve(op string, body []byte) response {
	st := *l.strict.Load()
	switch op {
	case "CreateTable", "UpdateTable", "DeleteTable":
		return l.tableOp(op, body)
	case "PutItem":
		return l.putItem(st, body)
	case "UpdateItem":
		return l.updateItem(st, body)
	case "DeleteItem":
		return l.deleteItem(st, body)
	case "GetItem":
		return l.getItem(st, body)
	case "BatchGetItem":
		return l.batchGetItem(st, body)
	case "BatchWriteItem":
		return l.batchWriteItem(st, body)
	case "Query":
		return l.query(st, body)
	case "Scan":
		return l.scan(st, body)
	case "TransactWriteItems":
		return l.transactWrite(st, body)
	case "TransactGetItems":
		return l.transactGet(st, body)
	}
	return l.forward(op, body)
}

// tableOp forwards a table operation and keeps the layer's schemas and
// the scratch engine in step with it.
func (l *layer) tableOp(op string, body []byte) response {
	resp := l.forward(op, body)
	if !resp.ok() {
		return resp
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch op {
	case "CreateTable":
		var in server.CreateTableInput
		if json.Unmarshal(body, &in) == nil && in.TableName != nil {
			l.schemas[*in.TableName] = schemaOf(in)
		}
	case "UpdateTable":
		var in server.UpdateTableInput
		if json.Unmarshal(body, &in) == nil && in.TableName != nil && l.schemas[*in.TableName] != nil {
			l.schemas[*in.TableName] = l.schemas[*in.TableName].updated(in)
		}
	case "DeleteTable":
		var in server.DeleteTableInput
		if json.Unmarshal(body, &in) == nil && in.TableName != nil {
			delete(l.schemas, *in.TableName)
			l.scratchMu.Lock()
			if l.scratchTables[*in.TableName] {
				callJSON(l.scratch, "DeleteTable", in)
				delete(l.scratchTables, *in.TableName)
			}
			l.scratchMu.Unlock()
		}
	}
	return resp
}

// checkWrite validates an item to be written under the enabled rules.
func checkWrite(st Strict, s *tableSchema, it item) *apiError {
	if s == nil {
		return nil
	}
	if st.Keys {
		if err := s.checkItem(it); err != nil {
			return err
		}
	}
	if st.ItemSize && itemSize(it) > maxItemSize {
		return validation("Item size has exceeded the maximum allowed size")
	}
	return nil
}

func checkKey(st Strict, s *tableSchema, key item) *apiError {
	if s == nil || !st.Keys {
		return nil
	}
	return s.checkKey(key)
}

// checkUpdated validates the item an update would produce.
func checkUpdated(st Strict, s *tableSchema, it item) *apiError {
	if st.Keys {
		for _, name := range s.indexNames() {
			if err := checkKeyAttrs(it, s.indexes[name], name); err != nil {
				return err
			}
		}
	}
	if st.ItemSize && itemSize(it) > maxItemSize {
		return validation("Item size to update has exceeded the maximum allowed size")
	}
	return nil
}

func (l *layer) putItem(st Strict, body []byte) response {
	var in server.PutItemInput
	if json.Unmarshal(body, &in) != nil {
		return l.forward("PutItem", body)
	}
	table := aws.ToString(in.TableName)
	s := l.schema(table)
	if err := checkWrite(st, s, in.Item); err != nil {
		return err.response()
	}
	release, err := l.holdSingle(st, s, table, in.Item)
	if err != nil {
		return err.response()
	}
	defer release()
	return l.forward("PutItem", body)
}

func (l *layer) updateItem(st Strict, body []byte) response {
	var in server.UpdateItemInput
	if json.Unmarshal(body, &in) != nil {
		return l.forward("UpdateItem", body)
	}
	table := aws.ToString(in.TableName)
	s := l.schema(table)
	if err := checkKey(st, s, in.Key); err != nil {
		return err.response()
	}
	release, err := l.holdSingle(st, s, table, in.Key)
	if err != nil {
		return err.response()
	}
	defer release()
	if s != nil && (st.Keys || st.ItemSize) {
		if after, ok := l.afterUpdate(table, s, in); ok {
			if err := checkUpdated(st, s, after); err != nil {
				return err.response()
			}
		}
	}
	return l.forward("UpdateItem", body)
}

func (l *layer) deleteItem(st Strict, body []byte) response {
	var in server.DeleteItemInput
	if json.Unmarshal(body, &in) != nil {
		return l.forward("DeleteItem", body)
	}
	table := aws.ToString(in.TableName)
	s := l.schema(table)
	if err := checkKey(st, s, in.Key); err != nil {
		return err.response()
	}
	release, err := l.holdSingle(st, s, table, in.Key)
	if err != nil {
		return err.response()
	}
	defer release()
	return l.forward("DeleteItem", body)
}

func (l *layer) getItem(st Strict, body []byte) response {
	var in server.GetItemInput
	if json.Unmarshal(body, &in) == nil {
		if err := checkKey(st, l.schema(aws.ToString(in.TableName)), in.Key); err != nil {
			return err.response()
		}
	}
	return l.forward("GetItem", body)
}

func (l *layer) batchGetItem(st Strict, body []byte) response {
	var in server.BatchGetItemInput
	if json.Unmarshal(body, &in) != nil {
		return l.forward("BatchGetItem", body)
	}
	n := 0
	for table, ka := range in.RequestItems {
		s := l.schema(table)
		seen := map[string]bool{}
		for _, k := range ka.Keys {
			n++
			if err := checkKey(st, s, k); err != nil {
				return err.response()
			}
			if s != nil && st.Batches {
				id := s.itemID(table, k)
				if seen[id] {
					return validation("Provided list of item keys contains duplicates").response()
				}
				seen[id] = true
			}
		}
	}
	if st.Batches && n > maxBatchGetKeys {
		return validation("Too many items requested for the BatchGetItem call").response()
	}
	return l.forward("BatchGetItem", body)
}

func (l *layer) batchWriteItem(st Strict, body []byte) response {
	var in server.BatchWriteItemInput
	if json.Unmarshal(body, &in) != nil {
		return l.forward("BatchWriteItem", body)
	}
	n := 0
	var ids []string
	for table, reqs := range in.RequestItems {
		s := l.schema(table)
		seen := map[string]bool{}
		for _, r := range reqs {
			n++
			var key item
			switch {
			case r.PutRequest != nil:
				if err := checkWrite(st, s, r.PutRequest.Item); err != nil {
					return err.response()
				}
				key = r.PutRequest.Item
			case r.DeleteRequest != nil:
				if err := checkKey(st, s, r.DeleteRequest.Key); err != nil {
					return err.response()
				}
				key = r.DeleteRequest.Key
			}
			if s == nil || key == nil {
				continue
			}
			id := s.itemID(table, key)
			if st.Batches && seen[id] {
				return validation("Provided list of item keys contains duplicates").response()
			}
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if st.Batches && n > maxBatchWriteItems {
		return validation("Too many items requested for the BatchWriteItem call").response()
	}
	// Batch writes are not refused by transactions in flight, but a
	// TransactGetItems meanwhile conflicts with them.
	release := l.register(ids, false)
	defer release()
	return l.forward("BatchWriteItem", body)
}

func (l *layer) query(st Strict, body []byte) response {
	var in server.QueryInput
	if json.Unmarshal(body, &in) != nil {
		return l.forward("Query", body)
	}
	if st.Query && in.Limit != nil && *in.Limit < 1 {
		return validation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1", *in.Limit).response()
	}
	s := l.schema(aws.ToString(in.TableName))
	if s == nil {
		return l.forward("Query", body)
	}
	index := aws.ToString(in.IndexName)
	k := s.key
	if index != "" {
		ix, ok := s.indexes[index]
		if !ok {
			return l.forward("Query", body)
		}
		k = ix
	}
	var conds []keyCond
	if in.KeyConditionExpression != nil {
		conds, _ = parseKeyConds(*in.KeyConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	} else {
		conds = legacyKeyConds(in.KeyConditions)
	}
	if err := checkKeyConds(conds, k, st.Keys, st.Query); err != nil {
		return err.response()
	}
	if st.Query && in.ExclusiveStartKey != nil {
		if err := s.checkStartKey(in.ExclusiveStartKey, index); err != nil {
			return err.response()
		}
	}
	if st.Pages && in.FilterExpression == nil && in.Select == "" {
		return l.pagedQuery(in, k, s.key)
	}
	return l.forward("Query", body)
}

// maxPageBytes is the size after which DynamoDB ends a page.
const maxPageBytes = 1 << 20

// pagedQuery answers a Query in pages of at most 1 MB of items, asking
// the engine for chunks of items so that a long partition is not read
// whole for every page.
func (l *layer) pagedQuery(in server.QueryInput, index, table keySchema) response {
	var items []item
	size := 0
	want := -1
	if in.Limit != nil {
		want = int(*in.Limit)
	}
	done := func(last item) response {
		b, _ := json.Marshal(server.QueryOutput{Items: items, Count: int32(len(items)), ScannedCount: int32(len(items)), LastEvaluatedKey: last})
		return response{status: http.StatusOK, body: b}
	}
	for {
		chunk := int32(2000)
		if want >= 0 {
			chunk = min(chunk, int32(want-len(items)))
		}
		in.Limit = &chunk
		resp := callJSON(l.inner, "Query", in)
		var out server.QueryOutput
		if !resp.ok() || json.Unmarshal(resp.body, &out) != nil {
			return resp
		}
		for i, it := range out.Items {
			items = append(items, it)
			size += itemSize(it)
			if size >= maxPageBytes && (i < len(out.Items)-1 || out.LastEvaluatedKey != nil) {
				last := item{}
				for _, n := range append(table.names(), index.names()...) {
					last[n] = it[n]
				}
				return done(last)
			}
		}
		if out.LastEvaluatedKey == nil || (want >= 0 && len(items) >= want) {
			return done(out.LastEvaluatedKey)
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func (l *layer) scan(st Strict, body []byte) response {
	var in server.ScanInput
	if json.Unmarshal(body, &in) != nil {
		return l.forward("Scan", body)
	}
	if st.Query && in.Limit != nil && *in.Limit < 1 {
		return validation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1", *in.Limit).response()
	}
	if s := l.schema(aws.ToString(in.TableName)); s != nil && st.Query && in.ExclusiveStartKey != nil {
		if err := s.checkStartKey(in.ExclusiveStartKey, aws.ToString(in.IndexName)); err != nil {
			return err.response()
		}
	}
	return l.forward("Scan", body)
}

// afterUpdate returns the item an update would produce, by applying it to
// a copy of the current item in the scratch engine. ok is false when the
// update cannot be applied there (a failed condition, an invalid
// expression); the real engine then gives the answer.
func (l *layer) afterUpdate(table string, s *tableSchema, in server.UpdateItemInput) (item, bool) {
	var cur server.GetItemOutput
	got := callJSON(l.inner, "GetItem", server.GetItemInput{TableName: &table, Key: in.Key, ConsistentRead: aws.Bool(true)})
	if !got.ok() || json.Unmarshal(got.body, &cur) != nil {
		return nil, false
	}
	l.scratchMu.Lock()
	defer l.scratchMu.Unlock()
	if !l.scratchTables[table] {
		keys := map[string]bool{}
		for _, n := range s.key.names() {
			keys[n] = true
		}
		def := server.CreateTableInput{TableName: &table, KeySchema: s.create.KeySchema, BillingMode: "PAY_PER_REQUEST"}
		for _, a := range s.create.AttributeDefinitions {
			if a.AttributeName != nil && keys[*a.AttributeName] {
				def.AttributeDefinitions = append(def.AttributeDefinitions, a)
			}
		}
		if !callJSON(l.scratch, "CreateTable", def).ok() {
			return nil, false
		}
		l.scratchTables[table] = true
	}
	if cur.Item != nil && !callJSON(l.scratch, "PutItem", server.PutItemInput{TableName: &table, Item: cur.Item}).ok() {
		return nil, false
	}
	defer callJSON(l.scratch, "DeleteItem", server.DeleteItemInput{TableName: &table, Key: in.Key})
	in.TableName = &table
	in.ReturnValues, in.ReturnConsumedCapacity, in.ReturnItemCollectionMetrics, in.ReturnValuesOnConditionCheckFailure = "", "", "", ""
	if !callJSON(l.scratch, "UpdateItem", in).ok() {
		return nil, false
	}
	var after server.GetItemOutput
	got = callJSON(l.scratch, "GetItem", server.GetItemInput{TableName: &table, Key: in.Key, ConsistentRead: aws.Bool(true)})
	if !got.ok() || json.Unmarshal(got.body, &after) != nil || after.Item == nil {
		return nil, false
	}
	return after.Item, true
}
