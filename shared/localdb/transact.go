package localdb

import (
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/truora/minidyn/server"
)

// holders counts the requests in flight on one item.
type holders struct {
	tx     int // TransactWriteItems
	single int // PutItem, UpdateItem, DeleteItem, BatchWriteItem
}

// token is a remembered ClientRequestToken.
type token struct {
	hash     [32]byte
	at       time.Time
	inflight bool
	resp     response
}

type tokenAge struct {
	token string
	at    time.Time
}

const conflictMessage = "Transaction is ongoing for the item"

// register marks items as being written; release unmarks them.
func (l *layer) register(ids []string, tx bool) (release func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.registerLocked(ids, tx)
}

func (l *layer) registerLocked(ids []string, tx bool) (release func()) {
	for _, id := range ids {
		h := l.held[id]
		if h == nil {
			h = &holders{}
			l.held[id] = h
		}
		if tx {
			h.tx++
		} else {
			h.single++
		}
	}
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, id := range ids {
			h := l.held[id]
			if tx {
				h.tx--
			} else {
				h.single--
			}
			if h.tx == 0 && h.single == 0 {
				delete(l.held, id)
			}
		}
	}
}

// holdSingle registers a single-item write, refusing it with
// TransactionConflictException if a transaction in flight holds the item.
func (l *layer) holdSingle(st Strict, s *tableSchema, table string, key item) (func(), *apiError) {
	if s == nil {
		return func() {}, nil
	}
	id := s.itemID(table, key)
	l.mu.Lock()
	defer l.mu.Unlock()
	if st.Conflicts && l.held[id] != nil && l.held[id].tx > 0 {
		l.conflicts.Add(1)
		return nil, &apiError{status: http.StatusBadRequest, typ: "TransactionConflictException", msg: conflictMessage}
	}
	return l.registerLocked([]string{id}, false), nil
}

// holdTx registers the items of a transaction. If another transaction in
// flight holds any of them, nothing is registered and the cancellation
// reasons are returned instead: TransactionConflict for those items,
// None for the others. Reads (TransactGetItems) conflict with any write.
func (l *layer) holdTx(ids []string, write bool) (func(), []reason) {
	l.mu.Lock()
	defer l.mu.Unlock()
	reasons := make([]reason, len(ids))
	conflict := false
	for i, id := range ids {
		h := l.held[id]
		reasons[i] = reason{Code: "None"}
		if h != nil && (h.tx > 0 || (!write && h.single > 0)) {
			reasons[i] = reason{Code: "TransactionConflict", Message: conflictMessage}
			conflict = true
		}
	}
	if conflict {
		return nil, reasons
	}
	if !write {
		return func() {}, nil
	}
	var keep []string
	for _, id := range ids {
		if id != "" {
			keep = append(keep, id)
		}
	}
	return l.registerLocked(keep, true), nil
}

// beginToken looks up a ClientRequestToken. It returns the stored answer
// of a completed identical transaction, an error for a different request
// or one still in flight, or neither, having recorded the token in flight.
func (l *layer) beginToken(st Strict, tok string, hash [32]byte) (*response, *apiError) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(l.order) > 0 && now.Sub(l.order[0].at) >= st.IdempotencyWindow {
		if t := l.tokens[l.order[0].token]; t != nil && t.at.Equal(l.order[0].at) {
			delete(l.tokens, l.order[0].token)
		}
		l.order = l.order[1:]
	}
	if t := l.tokens[tok]; t != nil && now.Sub(t.at) < st.IdempotencyWindow {
		switch {
		case t.hash != hash:
			return nil, &apiError{status: http.StatusBadRequest, typ: "IdempotentParameterMismatchException",
				msg: "Specified idempotency token was used with different request parameters within the idempotency window"}
		case t.inflight:
			return nil, &apiError{status: http.StatusBadRequest, typ: "TransactionInProgressException",
				msg: "The transaction with the given request token is already in progress"}
		}
		resp := t.resp
		return &resp, nil
	}
	l.tokens[tok] = &token{hash: hash, at: now, inflight: true}
	l.order = append(l.order, tokenAge{tok, now})
	return nil, nil
}

// endToken remembers the answer of a successful transaction under its
// token; after a failure the token may be used again.
func (l *layer) endToken(tok string, resp response) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.tokens[tok]
	if t == nil {
		return
	}
	if !resp.ok() {
		delete(l.tokens, tok)
		return
	}
	t.inflight, t.resp = false, resp
}

// action is one element of a transaction, resolved against its table.
type action struct {
	table  string
	s      *tableSchema
	key    item
	put    item
	update *server.Update
}

func (a action) id() string {
	if a.s == nil || a.key == nil {
		return ""
	}
	return a.s.itemID(a.table, a.key)
}

func (l *layer) transactWrite(st Strict, body []byte) response {
	var in server.TransactWriteItemsInput
	if json.Unmarshal(body, &in) != nil {
		return l.forward("TransactWriteItems", body)
	}
	if err := checkCount(st, len(in.TransactItems)); err != nil {
		return err.response()
	}
	acts := make([]action, len(in.TransactItems))
	ids := make([]string, len(in.TransactItems))
	seen := map[string]bool{}
	total := 0
	for i, ti := range in.TransactItems {
		var a action
		switch {
		case ti.Put != nil:
			a.table = aws.ToString(ti.Put.TableName)
			a.s, a.put = l.schema(a.table), ti.Put.Item
			if a.s != nil {
				a.key = a.s.keyOf(a.put)
			}
			if err := checkWrite(st, a.s, a.put); err != nil {
				return err.response()
			}
			total += itemSize(a.put)
		case ti.Update != nil:
			a.table, a.key, a.update = aws.ToString(ti.Update.TableName), ti.Update.Key, ti.Update
		case ti.Delete != nil:
			a.table, a.key = aws.ToString(ti.Delete.TableName), ti.Delete.Key
		case ti.ConditionCheck != nil:
			a.table, a.key = aws.ToString(ti.ConditionCheck.TableName), ti.ConditionCheck.Key
		}
		if a.s == nil {
			a.s = l.schema(a.table)
		}
		if a.put == nil {
			if err := checkKey(st, a.s, a.key); err != nil {
				return err.response()
			}
		}
		acts[i], ids[i] = a, a.id()
		if ids[i] != "" && st.Transactions && seen[ids[i]] {
			return validation("Transaction request cannot include multiple operations on one item").response()
		}
		seen[ids[i]] = true
	}
	if st.ItemSize && total > maxTransactSize {
		return transactTooBig().response()
	}
	if tok := aws.ToString(in.ClientRequestToken); st.Idempotency && tok != "" {
		in.ClientRequestToken = nil
		canonical, _ := json.Marshal(in) // map keys sorted: one form per request
		done, err := l.beginToken(st, tok, sha256.Sum256(canonical))
		if err != nil {
			return err.response()
		}
		if done != nil {
			return *done
		}
		resp := l.applyTransaction(st, body, acts, ids, total)
		l.endToken(tok, resp)
		return resp
	}
	return l.applyTransaction(st, body, acts, ids, total)
}

func transactTooBig() *apiError {
	return validation("Transaction request size has exceeded the maximum allowed size of 4 MB")
}

func checkCount(st Strict, n int) *apiError {
	if !st.Transactions {
		return nil
	}
	if n < 1 {
		return validation("1 validation error detected: Value null at 'transactItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if n > maxTransactItems {
		return validation("1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to %d", maxTransactItems)
	}
	return nil
}

// applyTransaction holds the transaction's items in flight, checks the
// items its updates would produce, and applies it.
func (l *layer) applyTransaction(st Strict, body []byte, acts []action, ids []string, total int) response {
	if st.Conflicts {
		release, reasons := l.holdTx(ids, true)
		if reasons != nil {
			l.conflicts.Add(1)
			return canceled(reasons).response()
		}
		defer release()
	}
	if st.Hold > 0 {
		time.Sleep(st.Hold)
	}
	if st.Keys || st.ItemSize {
		reasons := make([]reason, len(acts))
		failed := false
		for i, a := range acts {
			reasons[i] = reason{Code: "None"}
			if a.update == nil || a.s == nil {
				continue
			}
			u := a.update
			after, ok := l.afterUpdate(a.table, a.s, server.UpdateItemInput{
				Key: u.Key, UpdateExpression: u.UpdateExpression, ConditionExpression: u.ConditionExpression,
				ExpressionAttributeNames: u.ExpressionAttributeNames, ExpressionAttributeValues: u.ExpressionAttributeValues,
			})
			if !ok {
				continue
			}
			total += itemSize(after)
			if err := checkUpdated(st, a.s, after); err != nil {
				reasons[i] = reason{Code: "ValidationError", Message: err.msg}
				failed = true
			}
		}
		if failed {
			return canceled(reasons).response()
		}
		if st.ItemSize && total > maxTransactSize {
			return transactTooBig().response()
		}
	}
	return l.forward("TransactWriteItems", body)
}

func (l *layer) transactGet(st Strict, body []byte) response {
	var in server.TransactGetItemsInput
	if json.Unmarshal(body, &in) != nil {
		return l.forward("TransactGetItems", body)
	}
	if err := checkCount(st, len(in.TransactItems)); err != nil {
		return err.response()
	}
	ids := make([]string, len(in.TransactItems))
	seen := map[string]bool{}
	for i, ti := range in.TransactItems {
		if ti.Get == nil {
			continue
		}
		table := aws.ToString(ti.Get.TableName)
		s := l.schema(table)
		if err := checkKey(st, s, ti.Get.Key); err != nil {
			return err.response()
		}
		a := action{table: table, s: s, key: ti.Get.Key}
		ids[i] = a.id()
		if ids[i] != "" && st.Transactions && seen[ids[i]] {
			return validation("Transaction request cannot include multiple operations on one item").response()
		}
		seen[ids[i]] = true
	}
	if st.Conflicts {
		if _, reasons := l.holdTx(ids, false); reasons != nil {
			return canceled(reasons).response()
		}
	}
	resp := l.forward("TransactGetItems", body)
	if st.ItemSize && resp.ok() {
		var out server.TransactGetItemsOutput
		if json.Unmarshal(resp.body, &out) == nil {
			total := 0
			for _, r := range out.Responses {
				total += itemSize(r.Item)
			}
			if total > maxTransactSize {
				return transactTooBig().response()
			}
		}
	}
	return resp
}
