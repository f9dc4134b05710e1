package httpapi

// Idempotency-Key on every route that creates or submits.
//
// A keyed request on an idempotent route is bound to its digest: the
// method, the path as sent (escaped, with its ids), the caller's
// organisation and user, and the body in canonical JSON. serve reads the
// caller's record of the key (one GetItem) before the handler runs:
//
//   - same digest: the first answer again, with Idempotent-Replayed: true,
//     rendered from the entities the first change stored (nothing written;
//     an award's decision, kept in items of its own, is read back);
//   - another digest: 400 naming the Idempotency-Key header;
//   - no record: the handler runs with a claim in its context, and the
//     store's commit writes the record in the change's own transaction.
//
// A failed request leaves the key free (no record without the change). If
// the handler fails although a record now exists - a concurrent request
// with the key committed first, or this request's commit was applied but
// its response from DynamoDB was lost - the record answers (one more
// GetItem, on the error path only). Of concurrent requests with one key
// exactly one change is stored: the record's put is conditional.
//
// Bids (Route.KeyInStore) keep the store's own mechanism in WriteBid's two
// round trips; they use the same digest and the same 400.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"time"

	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/procurement"
)

// keyed is the Idempotency-Key of the request being served.
type keyed struct {
	key    string
	digest string
	claim  *dynamo.Claim // nil on KeyInStore routes
}

// maxKeyLength is the longest Idempotency-Key.
const maxKeyLength = 100

// beginKeyed prepares a request on an idempotent route. It returns true
// when it has answered (a replay, a reused key, an error).
func (s *Server) beginKeyed(rt Route, c *call) bool {
	key := c.r.Header.Get("Idempotency-Key")
	if key == "" || c.actor.Org == "" {
		return false
	}
	if len(key) > maxKeyLength || !ValidID(key) {
		s.problem(c.w, c.r, procurement.Invalid("Idempotency-Key", "must be 1-%d letters, digits, '.', '-' or '_', starting with a letter or digit (a UUID is a good key)", maxKeyLength))
		return true
	}
	body, err := io.ReadAll(c.r.Body)
	if err != nil {
		s.problem(c.w, c.r, procurement.Invalid("body", "cannot be read: %v", err))
		return true
	}
	c.r.Body = io.NopCloser(bytes.NewReader(body))
	digest, err := requestDigest(c.r, c.actor, body)
	if err != nil {
		s.problem(c.w, c.r, err)
		return true
	}
	c.idem = &keyed{key: key, digest: digest}
	if rt.KeyInStore {
		return false
	}
	plan, err := replayPlanOf(rt)
	if err != nil {
		s.problem(c.w, c.r, procurement.Internal(err))
		return true
	}
	rec, err := s.Store.ReadIdempotency(c.r.Context(), c.actor.Org, key)
	if err != nil {
		s.problem(c.w, c.r, err)
		return true
	}
	if rec != nil {
		s.answerFrom(rt, c, rec, true)
		return true
	}
	c.idem.claim = dynamo.NewClaim(c.actor.Org, key, digest, rt.Method+" "+rt.Path, plan.result)
	c.r = c.r.WithContext(dynamo.WithClaim(c.r.Context(), c.idem.claim))
	return false
}

// failedKeyed answers a keyed request whose handler failed from the key's
// record, if there is one now. It returns true when it has answered.
func (s *Server) failedKeyed(rt Route, c *call, cause error) bool {
	if c.idem == nil || c.idem.claim == nil {
		return false
	}
	rec, err := s.Store.ReadIdempotency(c.r.Context(), c.actor.Org, c.idem.key)
	if err != nil || rec == nil {
		return false
	}
	own := rec.Nonce == c.idem.claim.Nonce
	if own {
		// The commit was applied but DynamoDB's answer to it was lost.
		s.Log.Warn("stored although the store reported an error; answering from the idempotency record", "method", c.r.Method, "path", c.r.URL.Path, "err", cause)
	}
	s.answerFrom(rt, c, rec, !own)
	return true
}

// answerFrom answers with a key's record: the stored answer if the request
// is the same, else 400.
func (s *Server) answerFrom(rt Route, c *call, rec *dynamo.IdempotencyRecord, replayed bool) {
	if rec.Request != c.idem.digest {
		s.problem(c.w, c.r, dynamo.KeyReused())
		return
	}
	plan, err := replayPlanOf(rt)
	var out any
	if err == nil {
		out, err = plan.render(rec.Items, rec.At, func(v any) error { return s.completeEntity(c.r.Context(), v) })
	}
	if err != nil {
		s.problem(c.w, c.r, procurement.Internal(fmt.Errorf("replay of %s %s: %w", rt.Method, rt.Path, err)))
		return
	}
	if replayed {
		c.w.Header().Set("Idempotent-Replayed", "true")
	}
	writeJSON(c.w, rt.status(), "application/json", out)
}

// requestDigest binds a keyed request to its method, its target (the path
// as sent, with its ids), its caller (organisation and user) and its body
// in canonical JSON (keys sorted, no insignificant space, numbers as sent).
func requestDigest(r *http.Request, a procurement.Actor, body []byte) (string, error) {
	h := sha256.New()
	for _, part := range []string{r.Method, r.URL.EscapedPath(), a.Org, a.UserID} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	if len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return "", decodeError(err)
		}
		canon, err := json.Marshal(v)
		if err != nil {
			return "", procurement.Internal(err)
		}
		h.Write(canon)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// idempotencyKey returns the request's Idempotency-Key ("" if none), which
// serve has checked.
func (c *call) idempotencyKey() (string, error) {
	if c.idem == nil {
		return "", nil
	}
	return c.idem.key, nil
}

// requestDigest returns the digest serve computed for the keyed request
// (the body is bound as sent, so the decoded value is not needed).
func (c *call) requestDigest(any) string {
	if c.idem == nil {
		return ""
	}
	return c.idem.digest
}

// replayPlan is how a route's answer is made again from a key's record.
type replayPlan struct {
	// result is the stored type of the entities the answer is made of.
	result string
	// render decodes the entities, completes each (see
	// dynamo.Store.CompleteEntity) and renders them as the route does.
	render func(items []json.RawMessage, at time.Time, complete func(any) error) (any, error)
}

// replayPlanOf derives the plan from the route's response type: one
// entity (an application as its view at the time of the change), or a
// list of entities.
func replayPlanOf(rt Route) (replayPlan, error) {
	t := reflect.TypeOf(rt.Response)
	switch {
	case t == nil:
		return replayPlan{}, errors.New("the route declares no response type")
	case t == reflect.TypeFor[applicationView]():
		return replayPlan{result: dynamo.ResultType(reflect.TypeFor[procurement.Application]()), render: func(items []json.RawMessage, at time.Time, complete func(any) error) (any, error) {
			var a procurement.Application
			if err := decodeOne(items, &a, complete); err != nil {
				return nil, err
			}
			return viewOf(&a, at), nil
		}}, nil
	case t == reflect.TypeFor[fileUpload]():
		return replayPlan{result: dynamo.ResultType(reflect.TypeFor[procurement.File]()), render: func(items []json.RawMessage, _ time.Time, complete func(any) error) (any, error) {
			var u fileUpload
			if err := decodeOne(items, &u.File, func(any) error { return nil }); err != nil {
				return nil, err
			}
			return &u, complete(&u)
		}}, nil
	case t.Kind() == reflect.Slice && dynamo.ResultType(t.Elem()) != "":
		return replayPlan{result: dynamo.ResultType(t.Elem()), render: func(items []json.RawMessage, _ time.Time, complete func(any) error) (any, error) {
			out := reflect.MakeSlice(t, len(items), len(items))
			for i, raw := range items {
				v := out.Index(i).Addr().Interface()
				if err := json.Unmarshal(raw, v); err != nil {
					return nil, err
				}
				if err := complete(v); err != nil {
					return nil, err
				}
			}
			return out.Interface(), nil
		}}, nil
	case dynamo.ResultType(t) != "":
		return replayPlan{result: dynamo.ResultType(t), render: func(items []json.RawMessage, _ time.Time, complete func(any) error) (any, error) {
			v := reflect.New(t)
			if err := decodeOne(items, v.Interface(), complete); err != nil {
				return nil, err
			}
			return v.Interface(), nil
		}}, nil
	}
	return replayPlan{}, fmt.Errorf("no stored entity type answers with %s; map it in dynamo.ResultType or give the route a plan", t)
}

func decodeOne(items []json.RawMessage, v any, complete func(any) error) error {
	if len(items) != 1 {
		return fmt.Errorf("the record holds %d entities of the answer's type, want 1", len(items))
	}
	if err := json.Unmarshal(items[0], v); err != nil {
		return err
	}
	return complete(v)
}
