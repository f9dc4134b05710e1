// Package audit builds and verifies the tamper-evident trail.
//
// Every state change appends an Event to a chain. Each event carries the
// SHA-256 digest of the new state and the hash of the previous event of the
// same chain, so altering, removing or reordering a stored event breaks the
// chain at exactly that event. The head (last sequence number and hash) is
// stored beside the chain so that a cut-off tail is detected too.
package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Event is one entry of the trail. Application code never updates or
// deletes an event.
type Event struct {
	Chain      string    `json:"chain"`
	Seq        int64     `json:"seq"`
	PrevHash   string    `json:"prevHash"`
	Hash       string    `json:"hash"`
	At         time.Time `json:"at"`
	Actor      string    `json:"actor"`
	Role       string    `json:"role"`
	Org        string    `json:"org"`
	Action     string    `json:"action"`
	EntityType string    `json:"entityType"`
	EntityID   string    `json:"entityId"`
	// Digest is the SHA-256 of the canonical JSON of the entity's new state.
	Digest string `json:"digest"`
	// Summary is a short human-readable note; it never holds sealed content.
	Summary string `json:"summary,omitempty"`
}

// Head is the last event of a chain.
type Head struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// Digest returns the SHA-256 of the JSON encoding of v. Go encodes struct
// fields in declaration order and map keys sorted, so the encoding is
// canonical for our types.
func Digest(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("audit: digest of unencodable state: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// ComputeHash returns the hash of the event: the digest of every field but
// Hash itself.
func (e Event) ComputeHash() string {
	e.Hash = ""
	e.At = e.At.UTC()
	return Digest(e)
}

// Append links e after head and seals it; it returns the new head.
func Append(head Head, e *Event) Head {
	e.Seq = head.Seq + 1
	e.PrevHash = head.Hash
	e.At = e.At.UTC().Truncate(time.Microsecond)
	e.Hash = e.ComputeHash()
	return Head{Seq: e.Seq, Hash: e.Hash}
}

// Result is the outcome of verifying a chain or a range of it.
type Result struct {
	Chain   string `json:"chain"`
	Valid   bool   `json:"valid"`
	Checked int    `json:"checked"`
	From    int64  `json:"fromSeq"`
	To      int64  `json:"toSeq"`
	// BrokenAt is the sequence number of the first event that does not
	// verify; Problem says why.
	BrokenAt *int64 `json:"brokenAt,omitempty"`
	Problem  string `json:"problem,omitempty"`
	// Complete is false when verification stopped before the end of the
	// range to stay within the request's time: continue with fromSeq =
	// ContinueFrom and afterHash = LastHash, which chains the pieces.
	Complete     bool   `json:"complete"`
	ContinueFrom int64  `json:"continueFromSeq,omitempty"`
	LastHash     string `json:"lastHash,omitempty"`
	// Anchors are the anchors that fixed a head of the chain, and what
	// verification found at their sequence numbers.
	Anchors []AnchorCheck `json:"anchors"`
	// Summary says the outcome in plain words.
	Summary string `json:"summary"`
}

// AnchorCheck is what verifying a chain found at a sequence number that
// an anchor fixed.
type AnchorCheck struct {
	Anchor int64  `json:"anchor"`
	Seq    int64  `json:"seq"`
	Hash   string `json:"hash"`
	// Outcome is "matches" (the recomputed chain has this hash there),
	// "differs", or "not verified" (outside the range, or after a break).
	Outcome string `json:"outcome"`
	// Bucket is what the anchor's copy outside the table says: "matches",
	// "differs", "missing", "not stored yet" or "not checked" (only the
	// latest anchor of the chain is read from the bucket: it fixes every
	// event before it through the chain's hashes).
	Bucket string `json:"bucket"`
}

// Verifier checks events in sequence order, a page at a time.
type Verifier struct {
	res      Result
	prevSeq  int64
	prevHash string
	started  bool
}

// NewVerifier starts verification of chain from sequence number from.
// When from is 1 the first event must link to the empty genesis hash;
// otherwise the first event's PrevHash is taken as given.
func NewVerifier(chain string, from int64) *Verifier {
	return &Verifier{res: Result{Chain: chain, Valid: true, From: from}, prevSeq: from - 1}
}

// Add checks the next event. It returns false once the chain is broken.
func (v *Verifier) Add(e Event) bool {
	if !v.res.Valid {
		return false
	}
	switch {
	case e.Seq != v.prevSeq+1:
		return v.fail(v.prevSeq+1, fmt.Sprintf("event %d is missing (found %d next)", v.prevSeq+1, e.Seq))
	case e.Chain != v.res.Chain:
		return v.fail(e.Seq, "event belongs to chain "+e.Chain)
	case (v.started || e.Seq == 1) && e.PrevHash != v.prevHash && v.res.Checked == 0 && e.Seq > 1:
		return v.fail(e.Seq, "prevHash does not match the hash given for the event before the range (anchored, or the previous piece's lastHash): the events do not continue from there")
	case (v.started || e.Seq == 1) && e.PrevHash != v.prevHash:
		return v.fail(e.Seq, "prevHash does not match the hash of the previous event")
	case e.ComputeHash() != e.Hash:
		return v.fail(e.Seq, "the event's content does not match its hash: it was altered after it was written")
	}
	v.started = true
	v.prevSeq, v.prevHash = e.Seq, e.Hash
	v.res.Checked++
	v.res.To = e.Seq
	return true
}

// Finish compares the last verified event with the stored head when the
// range reaches the end of the chain, and returns the result.
func (v *Verifier) Finish(head Head, toEnd bool) Result {
	if v.res.Valid && toEnd {
		switch {
		case head.Seq > v.prevSeq:
			v.fail(v.prevSeq+1, fmt.Sprintf("events %d to %d are missing", v.prevSeq+1, head.Seq))
		case head.Seq == v.prevSeq && head.Hash != v.prevHash:
			v.fail(v.prevSeq, "the last event does not match the chain head")
		case head.Seq < v.prevSeq:
			v.fail(head.Seq+1, "events after the chain head exist: they were inserted outside the application")
		}
	}
	return v.res
}

// Trust starts a range (from > 1) at a known hash of the event before it,
// e.g. an anchored one: the first event must then link to it.
func (v *Verifier) Trust(prevHash string) {
	v.prevHash, v.started = prevHash, true
}

// Fail records a problem found outside the chain itself (e.g. a hash that
// differs from an anchored one) and stops the verification.
func (v *Verifier) Fail(seq int64, problem string) { v.fail(seq, problem) }

// LastHash returns the hash of the last event verified.
func (v *Verifier) LastHash() string { return v.prevHash }

// Last returns the last event verified (0 if none).
func (v *Verifier) Last() int64 {
	if v.res.Checked == 0 {
		return 0
	}
	return v.prevSeq
}

func (v *Verifier) fail(seq int64, problem string) bool {
	v.res.Valid = false
	v.res.BrokenAt = &seq
	v.res.Problem = problem
	return false
}
