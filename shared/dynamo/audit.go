package dynamo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rengas/rengas/shared/audit"
	"github.com/rengas/rengas/shared/procurement"
)

// VerifyChain recomputes the hashes of a chain from sequence number from
// up to to (0: to the head) and reports the first broken link. A range
// that reaches the head is also checked against it, so a cut-off tail is
// found. The chain is also checked against every anchor that covers it:
// the recomputed hash at each anchored sequence number must be the
// anchored one, and the latest anchor's copy outside the table (which
// fixes every event before it through the chain's hashes) must say the
// same as the table. A range starting after an anchored event starts from
// the anchored hash, so long chains can be verified in anchored pieces.
//
// Events are read in full pages (DynamoDB's 1 MB, about 1,400 events);
// besides, two reads (head and anchors list), and one read of the latest
// anchor's record and object. When the context's deadline draws near
// (VerifyReserve), no further page is read and the result says where to
// continue: afterHash, the hash of the event before from, then chains the
// pieces (an anchored hash there is used when afterHash is empty).
func (s *Store) VerifyChain(ctx context.Context, chain string, from, to int64, afterHash ...string) (audit.Result, error) {
	from = max(from, 1)
	head, err := s.readHead(ctx, chain)
	if err != nil {
		return audit.Result{}, err
	}
	if head.Seq == 0 {
		return audit.Result{}, procurement.Errorf(procurement.ENOTFOUND, "no audit chain %q", chain)
	}
	anchored, err := s.chainAnchors(ctx, chain)
	if err != nil {
		return audit.Result{}, err
	}
	v := audit.NewVerifier(chain, from)
	bySeq := map[int64][]anchoredEntry{}
	for _, e := range anchored {
		bySeq[e.Seq] = append(bySeq[e.Seq], e)
	}
	trusted := ""
	if len(afterHash) > 0 && afterHash[0] != "" && from > 1 {
		trusted = afterHash[0]
		for _, e := range bySeq[from-1] {
			if e.Hash != trusted {
				return audit.Result{}, procurement.Invalid("afterHash", "is not the hash anchor %d fixed for event %d (%s); continue from the lastHash of the previous piece", e.Anchor, from-1, e.Hash)
			}
		}
	} else if from > 1 && len(bySeq[from-1]) > 0 {
		trusted = bySeq[from-1][0].Hash
	}
	if trusted != "" {
		v.Trust(trusted)
	}
	hi := eventKey(chain, head.Seq+1000000).SK // past the head: inserted events are found too
	if to > 0 {
		hi = eventKey(chain, to).SK
	}
	in := &dynamodb.QueryInput{TableName: &s.table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("PK = :pk AND SK BETWEEN :f AND :t"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(chainHeadKey(chain).PK), ":f": str(eventKey(chain, from).SK), ":t": str(hi)}}
	broken, stopped := false, false
	deadline, hasDeadline := ctx.Deadline()
	var derr error
	pages := 0
	err = s.queryPages(ctx, in, func(items []map[string]types.AttributeValue) bool {
		pages++
		for _, m := range items {
			var ev audit.Event
			if derr = decode(m, &ev); derr != nil {
				return false
			}
			if !v.Add(ev) {
				broken = true
				return false
			}
			for _, e := range bySeq[ev.Seq] {
				if e.Hash != ev.Hash {
					v.Fail(ev.Seq, fmt.Sprintf("event %d is not the event anchor %d fixed (hash %s there, %s now): the chain was rewritten after it was anchored", ev.Seq, e.Anchor, e.Hash, ev.Hash))
					broken = true
					return false
				}
			}
		}
		return true
	}, func() bool {
		stopped = pages > 0 && hasDeadline && time.Until(deadline) < VerifyReserve
		return !stopped
	})
	if err == nil && derr != nil {
		err = procurement.Internal(derr)
	}
	if err != nil {
		return audit.Result{}, err
	}
	res := v.Finish(head, !broken && !stopped && (to == 0 || to >= head.Seq))
	res.Complete = !stopped || broken
	if !res.Complete && res.Valid {
		res.ContinueFrom, res.LastHash = v.Last()+1, v.LastHash()
	}
	for _, e := range anchored {
		if res.Valid && e.Seq > head.Seq {
			seq := head.Seq + 1
			res.Valid, res.BrokenAt = false, &seq
			res.Problem = fmt.Sprintf("anchor %d fixed event %d, but the chain now ends at event %d: events were removed and the head rewritten", e.Anchor, e.Seq, head.Seq)
		}
	}
	res.Anchors = make([]audit.AnchorCheck, len(anchored))
	for i, e := range anchored {
		c := audit.AnchorCheck{Anchor: e.Anchor, Seq: e.Seq, Hash: e.Hash, Outcome: "not verified", Bucket: "not checked"}
		switch {
		case res.BrokenAt != nil && *res.BrokenAt == e.Seq && strings.Contains(res.Problem, fmt.Sprintf("anchor %d ", e.Anchor)):
			c.Outcome = "differs"
		case e.Seq >= from && e.Seq <= v.Last():
			c.Outcome = "matches"
		}
		res.Anchors[i] = c
	}
	if n := len(anchored); n > 0 && s.Anchors != nil {
		last := &res.Anchors[n-1]
		last.Bucket, err = s.bucketSays(ctx, chain, anchored[n-1])
		if err != nil {
			return audit.Result{}, err
		}
		if res.Valid && last.Bucket != "matches" && last.Bucket != "not stored yet" {
			res.Valid, res.BrokenAt = false, &anchored[n-1].Seq
			res.Problem = fmt.Sprintf("the copy of anchor %d outside the table differs from the table's record for this chain: the table's anchor records were changed", last.Anchor)
			if last.Bucket == "missing" {
				res.Problem = fmt.Sprintf("anchor %d is recorded as stored, but its copy is missing from the bucket", last.Anchor)
			}
		}
	}
	res.Summary = explainChain(res, head)
	return res, nil
}

// VerifyReserve is the time VerifyChain keeps in hand before its
// context's deadline: it reads no further page of events past it.
var VerifyReserve = 2 * time.Second

// chainAnchors lists the anchors that fixed a head of the chain, oldest first.
func (s *Store) chainAnchors(ctx context.Context, chain string) ([]anchoredEntry, error) {
	var out []anchoredEntry
	in := &dynamodb.QueryInput{TableName: &s.table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :a)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(chainHeadKey(chain).PK), ":a": str("ANCHOR#")}}
	var derr error
	err := s.queryPages(ctx, in, func(items []map[string]types.AttributeValue) bool {
		for _, m := range items {
			var e anchoredEntry
			if derr = decode(m, &e); derr != nil {
				return false
			}
			out = append(out, e)
		}
		return true
	})
	if err == nil && derr != nil {
		err = procurement.Internal(derr)
	}
	return out, err
}

// bucketSays compares a chain's entry of an anchor with the anchor's copy
// in the bucket: "matches", "differs", "missing" or "not stored yet".
func (s *Store) bucketSays(ctx context.Context, chain string, e anchoredEntry) (string, error) {
	rec, err := s.GetAnchor(ctx, e.Anchor)
	if procurement.ErrorCode(err) == procurement.ENOTFOUND {
		return "missing", nil
	}
	if err != nil {
		return "", err
	}
	body, err := s.anchorObject(ctx, rec.Object)
	switch {
	case errors.Is(err, errNoObject) && !rec.Stored:
		return "not stored yet", nil
	case errors.Is(err, errNoObject):
		return "missing", nil
	case err != nil:
		return "", err
	}
	var a audit.Anchor
	if json.Unmarshal(body, &a) != nil || len(a.Check()) > 0 {
		return "differs", nil
	}
	if h, ok := a.Head(chain); !ok || h.Seq != e.Seq || h.Hash != e.Hash {
		return "differs", nil
	}
	return "matches", nil
}

// explainChain says the outcome of a chain's verification in plain words.
func explainChain(r audit.Result, head audit.Head) string {
	var b strings.Builder
	if r.Valid {
		fmt.Fprintf(&b, "Events %d to %d of %s verify: each event's content matches its hash and each links to the one before.", r.From, r.To, r.Chain)
		if r.From > 1 {
			fmt.Fprintf(&b, " The first links to the hash given for event %d.", r.From-1)
		}
		if !r.Complete {
			fmt.Fprintf(&b, " Verification stopped there to answer in time; continue with fromSeq=%d&afterHash=%s.", r.ContinueFrom, r.LastHash)
		} else if r.To == head.Seq {
			b.WriteString(" The last is the chain's recorded head, so no event was cut off or added at the end.")
		} else {
			fmt.Fprintf(&b, " The chain goes on to event %d; this range was not compared with the head.", head.Seq)
		}
	} else {
		fmt.Fprintf(&b, "The chain is broken at event %d: %s. Events before it verify; nothing from it on can be trusted.", *r.BrokenAt, r.Problem)
	}
	count := map[string]int{}
	last := audit.AnchorCheck{}
	for _, a := range r.Anchors {
		count[a.Outcome]++
		last = a
	}
	if len(r.Anchors) == 0 {
		b.WriteString(" No anchor covers this chain yet (anchors fix, outside the table, the heads of the chains changed before the latest anchor was made); it was checked against the table only.")
		return b.String()
	}
	fmt.Fprintf(&b, " %d anchor(s) fixed this chain's hash at some event: %d match the recomputed chain, %d differ, %d were not reached.",
		len(r.Anchors), count["matches"], count["differs"], count["not verified"])
	switch last.Bucket {
	case "matches":
		fmt.Fprintf(&b, " The latest, anchor %d (event %d), was read from its write-once copy outside the table, which agrees with the table's record of it", last.Anchor, last.Seq)
		if r.Valid && last.Outcome == "matches" {
			fmt.Fprintf(&b, "; so events 1 to %d are as they were when anchored.", last.Seq)
		} else {
			b.WriteString(".")
		}
	case "not stored yet":
		fmt.Fprintf(&b, " The latest, anchor %d, is not yet written outside the table; the next run of the anchoring job writes it.", last.Anchor)
	case "differs":
		fmt.Fprintf(&b, " The latest, anchor %d: its copy outside the table differs from the table's record of it.", last.Anchor)
	case "missing":
		fmt.Fprintf(&b, " The latest, anchor %d: its copy outside the table is missing.", last.Anchor)
	}
	return b.String()
}

// AnchorVerification is the outcome of verifying one anchor.
type AnchorVerification struct {
	Anchor int64 `json:"anchor"`
	Valid  bool  `json:"valid"`
	// Heads is the number of anchored heads checked against the chains.
	Heads int `json:"headsChecked"`
	// Bucket is what the copy outside the table says: "matches",
	// "differs", "missing" or "not stored yet".
	Bucket   string   `json:"bucket"`
	Problems []string `json:"problems"`
	Summary  string   `json:"summary"`
}

const maxProblems = 20

// VerifyAnchor checks an anchor: its record in the table (Merkle root,
// digest, link to the previous anchor), its copy in the bucket against the
// record, and every anchored head against its chain in the table (the
// event at that sequence number exists, still has that hash, and its
// content still matches it). Reads: the record and the one before, the
// object, and one BatchGetItem per 50 heads. Errors: ENOTFOUND.
func (s *Store) VerifyAnchor(ctx context.Context, n int64) (AnchorVerification, error) {
	keys := []key{anchorKey(n)}
	if n > 1 {
		keys = append(keys, anchorKey(n-1))
	}
	got, err := s.getMany(ctx, keys...)
	if err != nil {
		return AnchorVerification{}, err
	}
	rec, err := decodeAs[AnchorRecord](got[anchorKey(n)], fmt.Sprintf("anchor %d", n))
	if err != nil {
		return AnchorVerification{}, err
	}
	res := AnchorVerification{Anchor: n, Problems: []string{}}
	add := func(format string, args ...any) {
		if len(res.Problems) < maxProblems {
			res.Problems = append(res.Problems, fmt.Sprintf(format, args...))
		} else if len(res.Problems) == maxProblems {
			res.Problems = append(res.Problems, "and more; the first ones are listed")
		}
	}
	res.Problems = append(res.Problems, rec.Check()...)
	if d := rec.Anchor.Digest(); d != rec.Digest {
		add("the record's digest is %s, but its content digests to %s: the record was changed", rec.Digest, d)
	}
	switch prev, err := decodeAs[AnchorRecord](got[anchorKey(n-1)], "anchor"); {
	case n == 1 && rec.PrevDigest != "":
		add("the first anchor names a previous one")
	case n > 1 && err != nil:
		add("anchor %d, which this one follows, is missing from the table", n-1)
	case n > 1 && prev.Digest != rec.PrevDigest:
		add("this anchor names %s as the digest of anchor %d, which is %s: one of the two was changed", rec.PrevDigest, n-1, prev.Digest)
	}
	res.Bucket = "not checked"
	if s.Anchors != nil {
		body, err := s.anchorObject(ctx, rec.Object)
		switch {
		case errors.Is(err, errNoObject) && !rec.Stored:
			res.Bucket = "not stored yet"
		case errors.Is(err, errNoObject):
			res.Bucket = "missing"
			add("the anchor is recorded as stored, but its copy %s is missing from the bucket", rec.Object)
		case err != nil:
			return AnchorVerification{}, err
		case bytes.Equal(body, objectBody(rec.Anchor)):
			res.Bucket = "matches"
		default:
			res.Bucket = "differs"
			var a audit.Anchor
			if json.Unmarshal(body, &a) != nil {
				add("the copy in the bucket is not an anchor")
				break
			}
			add("the copy in the bucket differs from the table's record (bucket root %s, table root %s; %d heads there, %d here): the table's record was changed after the anchor was written", a.Root, rec.Root, len(a.Heads), len(rec.Heads))
			for _, h := range a.Heads {
				if mine, ok := rec.Anchor.Head(h.Chain); !ok || mine != h {
					add("chain %s: the bucket fixes event %d with hash %s; the table's record says otherwise", h.Chain, h.Seq, h.Hash)
				}
			}
		}
	}
	for start := 0; start < len(rec.Heads); start += 50 {
		part := rec.Heads[start:min(start+50, len(rec.Heads))]
		keys := make([]key, 0, 2*len(part))
		for _, h := range part {
			keys = append(keys, eventKey(h.Chain, h.Seq), anchoredHeadKey(h.Chain, n))
		}
		got, err := s.getMany(ctx, keys...)
		if err != nil {
			return AnchorVerification{}, err
		}
		for _, h := range part {
			res.Heads++
			var ev audit.Event
			switch m := got[eventKey(h.Chain, h.Seq)]; {
			case m == nil:
				add("chain %s has no event %d, which the anchor fixed: it was deleted", h.Chain, h.Seq)
			case decode(m, &ev) != nil:
				add("event %d of chain %s cannot be read", h.Seq, h.Chain)
			case ev.Hash != h.Hash:
				add("event %d of chain %s has hash %s, the anchor fixed %s: the chain was rewritten after it was anchored", h.Seq, h.Chain, ev.Hash, h.Hash)
			case ev.ComputeHash() != ev.Hash:
				add("event %d of chain %s was altered: its content no longer matches its hash", h.Seq, h.Chain)
			}
			var e anchoredEntry
			if m := got[anchoredHeadKey(h.Chain, n)]; rec.Stored && (m == nil || decode(m, &e) != nil || e.Seq != h.Seq || e.Hash != h.Hash) {
				add("chain %s lacks the anchor's entry, or it differs: verifying the chain alone would not compare it with this anchor", h.Chain)
			}
		}
	}
	res.Valid = len(res.Problems) == 0
	if res.Valid {
		res.Summary = fmt.Sprintf("Anchor %d verifies: its %d heads give its Merkle root, it follows anchor %d by digest, ", n, len(rec.Heads), n-1)
		switch res.Bucket {
		case "matches":
			res.Summary += "its write-once copy outside the table is identical to the table's record, "
		case "not stored yet":
			res.Summary += "(its copy outside the table is not written yet: the next run of the anchoring job writes it), "
		}
		res.Summary += "and every chain still has, at the anchored event, the hash the anchor fixed, with content matching it."
		if n == 1 {
			res.Summary = strings.Replace(res.Summary, ", it follows anchor 0 by digest", ", it is the first anchor", 1)
		}
	} else {
		res.Summary = fmt.Sprintf("Anchor %d does not verify: %d problem(s) found, listed under problems. A difference from the copy outside the table means the table was changed after the anchor was made.", n, len(res.Problems))
	}
	return res, nil
}

// Trail pages through the audit events of one procedure (an application
// or a mini-competition) across its chains, in time order.
func (s *Store) Trail(ctx context.Context, subject, cursor string, limit int) (Page[audit.Event], error) {
	return queryPage[audit.Event](ctx, s, query{index: &GSI2, pk: trailOf(subject), cursor: cursor, limit: limit})
}

// Notice is a multi-recipient notification as it was sent.
type Notice = fanout

// Notices returns what a competition sent to whom, oldest first.
func (s *Store) Notices(ctx context.Context, comp string) ([]Notice, error) {
	return All(func(cur string) (Page[Notice], error) {
		return queryPage[Notice](ctx, s, query{pk: competitionKey(comp).PK, skBegin: "NOTICE#", cursor: cur})
	})
}

// AwardFilter narrows the award history. Empty fields do not filter.
type AwardFilter struct {
	DPSID    string
	From, To string // decision days, YYYY-MM-DD, inclusive
	Buyer    string
	Category string
	// Provider matches a provider id or a business ID, of the lead or of
	// any consortium member.
	Provider   string
	LegalForms []procurement.LegalForm
	MinValue   *int64 // cents
	MaxValue   *int64
	Descending bool
}

// AwardHistory returns one page of contracts awarded in a DPS, by decision
// day. Each page is one Query reading at most limit index items, however
// long the history: filters apply to the items read, so a page may hold
// fewer matches than limit and still carry a cursor to the next.
func (s *Store) AwardHistory(ctx context.Context, f AwardFilter, cursor string, limit int) (Page[procurement.Contract], error) {
	q := query{index: &GSI3, pk: awardsOf(f.DPSID), skFrom: f.From, skTo: "~", desc: f.Descending, cursor: cursor, limit: limit}
	if f.To != "" {
		q.skTo = f.To + "#~"
	}
	if q.skFrom == "" {
		q.skFrom = "0"
	}
	var conds []string
	names := map[string]string{}
	vals := map[string]types.AttributeValue{}
	eq := func(attr, v string) {
		if v != "" {
			n := fmt.Sprintf("#f%d", len(names))
			names[n], vals[":"+n[1:]] = attr, str(v)
			conds = append(conds, n+" = :"+n[1:])
		}
	}
	eq("buyer", f.Buyer)
	eq("category", f.Category)
	if f.Provider != "" {
		names["#parties"], vals[":provider"] = "parties", str(f.Provider)
		conds = append(conds, "contains(#parties, :provider)")
	}
	if len(f.LegalForms) > 0 {
		var in []string
		for i, lf := range f.LegalForms {
			vals[fmt.Sprintf(":lf%d", i)] = str(string(lf))
			in = append(in, fmt.Sprintf(":lf%d", i))
		}
		names["#lf"] = "legalForm"
		conds = append(conds, "#lf IN ("+strings.Join(in, ", ")+")")
	}
	if f.MinValue != nil {
		names["#v"], vals[":min"] = "valueCents", num(*f.MinValue)
		conds = append(conds, "#v >= :min")
	}
	if f.MaxValue != nil {
		names["#v"], vals[":max"] = "valueCents", num(*f.MaxValue)
		conds = append(conds, "#v <= :max")
	}
	q.filter, q.filterNames, q.filterValues = strings.Join(conds, " AND "), names, vals
	items, next, err := s.query(ctx, q)
	if err != nil {
		return Page[procurement.Contract]{}, err
	}
	return pageOf[procurement.Contract](items, next)
}

// Slice is a share of the awards in one group.
type Slice struct {
	Awards     int64  `json:"awards"`
	AwardShare string `json:"awardSharePercent"`
	ValueCents int64  `json:"valueCents"`
	ValueShare string `json:"valueSharePercent"`
}

// Statistics is the fairness picture of a DPS over a period of months.
type Statistics struct {
	DPSID             string           `json:"dpsId"`
	From              string           `json:"fromMonth"`
	To                string           `json:"toMonth"`
	Competitions      int64            `json:"competitions"`
	Bids              int64            `json:"bids"`
	AverageBids       string           `json:"averageBidsPerCompetition"`
	Awards            int64            `json:"awards"`
	ValueCents        int64            `json:"awardedValueCents"`
	ByLegalForm       map[string]Slice `json:"byLegalForm"`
	ThirdSector       Slice            `json:"thirdSector"` // associations and foundations
	LocalProviders    Slice            `json:"localProviders"`
	NonLocalProviders Slice            `json:"nonLocalProviders"`
}

// Statistics sums the monthly counters of a DPS from month from to month to
// (YYYY-MM): one Query over at most a few dozen items, whatever the volume.
func (s *Store) Statistics(ctx context.Context, dpsID, from, to string) (Statistics, error) {
	st := Statistics{DPSID: dpsID, From: from, To: to, ByLegalForm: map[string]Slice{}}
	months, err := All(func(cur string) (Page[map[string]types.AttributeValue], error) {
		items, next, err := s.query(ctx, query{pk: statsKey(dpsID, "").PK, skFrom: from, skTo: to, cursor: cur})
		return Page[map[string]types.AttributeValue]{Items: items, Cursor: next}, err
	})
	if err != nil {
		return st, err
	}
	sum := map[string]int64{}
	for _, m := range months {
		for k := range m {
			sum[k] += attrInt(m, k)
		}
	}
	st.Competitions, st.Bids, st.Awards, st.ValueCents = sum["competitions"], sum["bids"], sum["awards_all"], sum["value_all"]
	st.AverageBids = ratio(st.Bids, st.Competitions)
	slice := func(dim string) Slice {
		return Slice{Awards: sum["awards_"+dim], ValueCents: sum["value_"+dim],
			AwardShare: ratio(100*sum["awards_"+dim], st.Awards), ValueShare: ratio(100*sum["value_"+dim], st.ValueCents)}
	}
	for _, lf := range procurement.LegalForms {
		st.ByLegalForm[string(lf)] = slice("form_" + string(lf))
	}
	a, f := st.ByLegalForm[string(procurement.FormAssociation)], st.ByLegalForm[string(procurement.FormFoundation)]
	st.ThirdSector = Slice{Awards: a.Awards + f.Awards, ValueCents: a.ValueCents + f.ValueCents,
		AwardShare: ratio(100*(a.Awards+f.Awards), st.Awards), ValueShare: ratio(100*(a.ValueCents+f.ValueCents), st.ValueCents)}
	st.LocalProviders, st.NonLocalProviders = slice("local"), slice("nonlocal")
	return st, nil
}

// ratio formats a/b with two decimals, "0.00" when b is 0.
func ratio(a, b int64) string {
	if b == 0 {
		return "0.00"
	}
	hundredths := (a*100 + b/2) / b
	return fmt.Sprintf("%d.%02d", hundredths/100, hundredths%100)
}
