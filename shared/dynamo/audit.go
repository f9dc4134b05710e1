package dynamo

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rengas/rengas/shared/audit"
	"github.com/rengas/rengas/shared/procurement"
)

// VerifyChain recomputes the hashes of a chain from sequence number from
// up to to (0: to the head) and reports the first broken link. A range
// that reaches the head is also checked against it, so a cut-off tail is
// found. Its cost grows with the range, a page of 100 events per round trip.
func (s *Store) VerifyChain(ctx context.Context, chain string, from, to int64) (audit.Result, error) {
	from = max(from, 1)
	head, err := s.readHead(ctx, chain)
	if err != nil {
		return audit.Result{}, err
	}
	if head.Seq == 0 {
		return audit.Result{}, procurement.Errorf(procurement.ENOTFOUND, "no audit chain %q", chain)
	}
	v := audit.NewVerifier(chain, from)
	hi := eventKey(chain, head.Seq+1000000).SK // past the head: inserted events are found too
	if to > 0 {
		hi = eventKey(chain, to).SK
	}
	cursor := ""
	for {
		items, next, err := s.query(ctx, query{pk: chainHeadKey(chain).PK, skFrom: eventKey(chain, from).SK, skTo: hi, cursor: cursor})
		if err != nil {
			return audit.Result{}, err
		}
		p, err := pageOf[audit.Event](items, next)
		if err != nil {
			return audit.Result{}, err
		}
		for _, ev := range p.Items {
			if !v.Add(ev) {
				return v.Finish(head, false), nil
			}
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	return v.Finish(head, to == 0 || to >= head.Seq), nil
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
