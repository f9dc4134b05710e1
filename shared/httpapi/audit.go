package httpapi

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rengas/rengas/shared/access"
	"github.com/rengas/rengas/shared/audit"
	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/procurement"
)

var auditors = []procurement.Role{procurement.RoleAuditor}

var awardParams = append([]Param{
	{Name: "dpsId", Description: "the DPS (required)", Required: true, Pattern: IDPattern},
	{Name: "from", Description: "first decision day, YYYY-MM-DD", Pattern: datePattern, Format: "date"},
	{Name: "to", Description: "last decision day, YYYY-MM-DD", Pattern: datePattern, Format: "date"},
	{Name: "buyer", Description: "buyer id"}, {Name: "category", Description: "category id"},
	{Name: "provider", Description: "provider id or business ID; matches consortium members too"},
	{Name: "legalForm", Description: "comma-separated legal forms, or ngo (association and foundation)", Pattern: legalFormsPattern()},
	{Name: "minValueCents", Description: "least contract value", Type: "integer"},
	{Name: "maxValueCents", Description: "greatest contract value", Type: "integer"},
	{Name: "order", Description: "asc (default) or desc by decision day", Enum: []string{"asc", "desc"}, Default: "asc"},
}, pageParams...)

// awardFilter reads the award history's filters from the query.
func (c *call) awardFilter() (dynamo.AwardFilter, error) {
	q := c.r.URL.Query()
	f := dynamo.AwardFilter{DPSID: q.Get("dpsId"), From: q.Get("from"), To: q.Get("to"), Buyer: q.Get("buyer"),
		Category: q.Get("category"), Provider: q.Get("provider"), Descending: q.Get("order") == "desc"}
	var p procurement.Problems
	if f.DPSID == "" {
		p.Add("dpsId", "name the DPS whose awards to list")
	}
	for _, d := range []struct{ name, v string }{{"from", f.From}, {"to", f.To}} {
		if _, err := time.Parse(time.DateOnly, d.v); d.v != "" && err != nil {
			p.Add(d.name, "must be a date YYYY-MM-DD")
		}
	}
	if f.From != "" && f.To != "" && f.From > f.To {
		p.Add("to", "must not be before from (%s)", f.From)
	}
	if lf := q.Get("legalForm"); lf != "" {
		for _, x := range strings.Split(lf, ",") {
			switch form := procurement.LegalForm(strings.TrimSpace(x)); {
			case form == "ngo":
				f.LegalForms = append(f.LegalForms, procurement.FormAssociation, procurement.FormFoundation)
			case slices.Contains(procurement.LegalForms, form):
				f.LegalForms = append(f.LegalForms, form)
			default:
				p.Add("legalForm", "%q is not a legal form; use ngo or any of %v", x, procurement.LegalForms)
			}
		}
	}
	for _, b := range []struct {
		name string
		dst  **int64
	}{{"minValueCents", &f.MinValue}, {"maxValueCents", &f.MaxValue}} {
		if v := q.Get(b.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				p.Add(b.name, "must be a whole number of cents, 0 or more")
			}
			*b.dst = &n
		}
	}
	return f, p.Err()
}

// sealedChain asks the rules about a chain. A bid's chain is the bid's:
// until the bids are opened nobody, auditors included, learns that it
// exists, and the answer is the one a missing chain gets.
func (c *call) sealedChain(chain string) error {
	hidden := access.NotFound(access.Chain, chain)
	if err := access.Ask(c.who(), access.Chain, access.Any, access.Scope{}).Require(access.See, hidden); err != nil {
		return err
	}
	rest, isBid := strings.CutPrefix(chain, "bid.")
	if !isBid {
		return nil
	}
	compID, prov, _ := strings.Cut(rest, ".")
	comp, err := c.s.Store.ReadCompetition(c.r.Context(), compID)
	if err != nil {
		return hidden
	}
	now := c.s.Store.Now()
	if !access.Ask(c.who(), access.Bid, access.CompetitionState(comp, now), access.BidScope(comp, prov)).Can(access.See) {
		return hidden
	}
	return nil
}

// anchorID checks that the caller may see anchors (as entity e) and
// returns the anchor number in the path.
func (c *call) anchorID(e access.Entity) (int64, error) {
	id := c.path("anchorId")
	if err := access.Ask(c.who(), e, access.Any, access.Scope{}).Require(access.See, access.NotFound(e, id)); err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n < 1 {
		return 0, procurement.Invalid("anchorId", "must be an anchor number, 1 or more")
	}
	return n, nil
}

// chainStart checks that the chain in the path may be read and returns the
// fromSeq parameter (default 1).
func (c *call) chainStart() (int, error) {
	if err := c.sealedChain(c.path("chainId")); err != nil {
		return 0, err
	}
	return c.queryInt("fromSeq", 1, 1, 1<<40)
}

// Dossier is the whole procedure of a mini-competition, in order.
type Dossier struct {
	Competition *procurement.Competition `json:"competition"`
	// Trail is every audit event of the procedure in time order; the
	// sealed bids' events appear only after the opening.
	Trail     []audit.Event          `json:"trail"`
	Questions []procurement.Question `json:"questions"`
	Bids      []procurement.Bid      `json:"bids"`
	Contracts []procurement.Contract `json:"contracts"`
	Notices   []dynamo.Notice        `json:"notifications"`
}

// AwardNotice is the quarterly grouping of call-off awards of a DPS: the
// data a grouped award notice needs, due within 30 days of the quarter.
type AwardNotice struct {
	DPSID        string                 `json:"dpsId"`
	Quarter      string                 `json:"quarter"`
	From         string                 `json:"from"`
	To           string                 `json:"to"`
	DueBy        string                 `json:"noticeDueBy"`
	Awards       int                    `json:"awards"`
	ValueCents   int64                  `json:"totalValueCents"`
	Competitions int                    `json:"competitions"`
	Contracts    []procurement.Contract `json:"contracts"`
}

func quarter(q string) (from, to, due string, err error) {
	y, n, ok := strings.Cut(q, "-Q")
	year, yerr := strconv.Atoi(y)
	k, kerr := strconv.Atoi(n)
	if !ok || yerr != nil || kerr != nil || k < 1 || k > 4 {
		return "", "", "", procurement.Invalid("quarter", "must look like 2026-Q4")
	}
	start := time.Date(year, time.Month(3*k-2), 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 3, -1)
	return start.Format(time.DateOnly), end.Format(time.DateOnly), end.AddDate(0, 0, 30).Format(time.DateOnly), nil
}

func (c *call) quarterAwards(e access.Entity) (AwardNotice, error) {
	from, to, due, err := quarter(c.path("quarter"))
	if err != nil {
		return AwardNotice{}, err
	}
	if _, err := c.dpsNamed(c.path("dpsId"), e, access.See); err != nil {
		return AwardNotice{}, err
	}
	f := dynamo.AwardFilter{DPSID: c.path("dpsId"), From: from, To: to}
	all, err := dynamo.All(func(cur string) (dynamo.Page[procurement.Contract], error) {
		return c.s.Store.AwardHistory(c.r.Context(), f, cur, 100)
	})
	n := AwardNotice{DPSID: f.DPSID, Quarter: c.path("quarter"), From: from, To: to, DueBy: due, Contracts: all}
	seen := map[string]bool{}
	for _, k := range all {
		n.Awards++
		n.ValueCents += k.ValueCents
		seen[k.CompetitionID] = true
	}
	n.Competitions = len(seen)
	if n.Contracts == nil {
		n.Contracts = []procurement.Contract{}
	}
	return n, err
}

func auditRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/audit/chains/{chainId}/events", Function: FnAudit, Roles: auditors,
			Summary:  "Read an audit chain's events (chains: dps.<dpsId>, app.<applicationId>, adm.<dpsId>.<categoryId>.<providerId>, prov.<providerId>, decl.<requestId>, comp.<competitionId>, q.<competitionId>.<questionId>, bid.<competitionId>.<providerId> after the opening)",
			Response: dynamo.Page[audit.Event]{}, Query: append([]Param{intParam("fromSeq", "first sequence number (default 1)", 1, 1<<40, 1)}, pageParams...),
			handle: func(c *call) (any, error) {
				from, err := c.chainStart()
				if err != nil {
					return nil, err
				}
				cur, lim, err := c.page()
				if err != nil {
					return nil, err
				}
				return c.s.Store.ListEvents(c.r.Context(), c.path("chainId"), int64(from), cur, lim)
			}},
		{Method: "GET", Path: "/audit/chains/{chainId}/verification", Function: FnAudit, Roles: auditors,
			Summary:  "Recompute a chain (or a range of it), compare it with every anchor that covers it and the latest anchor's write-once copy, and report the first broken link in plain words",
			Response: audit.Result{}, Query: []Param{intParam("fromSeq", "first sequence number (default 1)", 1, 1<<40, 1), intParam("toSeq", "last sequence number (default: the head)", 0, 1<<40, 0),
				{Name: "afterHash", Description: "the hash of the event before fromSeq, to continue a verification that stopped (its lastHash); without it an anchored hash there is used", Pattern: `^[0-9a-f]{64}$`}},
			handle: func(c *call) (any, error) {
				from, err := c.chainStart()
				if err != nil {
					return nil, err
				}
				to, err := c.queryInt("toSeq", 0, 0, 1<<40)
				if err != nil {
					return nil, err
				}
				if to != 0 && to < from {
					return nil, procurement.Invalid("toSeq", "must not be below fromSeq (%d)", from)
				}
				return c.s.Store.VerifyChain(c.r.Context(), c.path("chainId"), int64(from), int64(to), c.r.URL.Query().Get("afterHash"))
			}},
		{Method: "GET", Path: "/audit/anchors", Function: FnAudit, Roles: auditors,
			Summary:  "List the anchors, newest first: each fixes outside the table the heads of the chains changed in its period",
			Response: dynamo.Page[dynamo.AnchorSummary]{}, Query: pageParams,
			handle: func(c *call) (any, error) {
				if err := access.Ask(c.who(), access.Anchor, access.Any, access.Scope{}).Require(access.See, access.NotFound(access.Anchor, "")); err != nil {
					return nil, err
				}
				cur, lim, err := c.page()
				if err != nil {
					return nil, err
				}
				return c.s.Store.ListAnchors(c.r.Context(), cur, lim)
			}},
		{Method: "GET", Path: "/audit/anchors/{anchorId}", Function: FnAudit, Roles: auditors,
			Summary:  "One anchor as the table records it: period, Merkle root, previous anchor's digest, the anchored heads",
			Response: dynamo.AnchorRecord{}, handle: func(c *call) (any, error) {
				n, err := c.anchorID(access.Anchor)
				if err != nil {
					return nil, err
				}
				return c.s.Store.GetAnchor(c.r.Context(), n)
			}},
		{Method: "GET", Path: "/audit/anchors/{anchorId}/verification", Function: FnAudit, Roles: auditors,
			Summary:  "Verify an anchor: its write-once copy against the table's record, its Merkle root and link to the previous anchor, and every anchored head against its chain",
			Response: dynamo.AnchorVerification{}, handle: func(c *call) (any, error) {
				n, err := c.anchorID(access.Anchor)
				if err != nil {
					return nil, err
				}
				return c.s.Store.VerifyAnchor(c.r.Context(), n)
			}},
		{Method: "GET", Path: "/open-data/anchors", Function: FnAudit,
			Summary:  "Open data: the anchors of the audit chains, newest first (chain names, sequence numbers and hashes only; sealed bids' chains appear only after their opening)",
			Response: dynamo.Page[dynamo.AnchorSummary]{}, Query: pageParams,
			handle: func(c *call) (any, error) {
				cur, lim, err := c.page()
				if err != nil {
					return nil, err
				}
				return c.s.Store.ListAnchors(c.r.Context(), cur, lim)
			}},
		{Method: "GET", Path: "/open-data/anchors/{anchorId}", Function: FnAudit,
			Summary:  "Open data: one anchor with its heads; its Merkle root can be recomputed (RFC 6962, leaves \"chain\\nseq\\nhash\" sorted by chain)",
			Response: dynamo.AnchorRecord{}, handle: func(c *call) (any, error) {
				n, err := c.anchorID(access.OpenData)
				if err != nil {
					return nil, err
				}
				return c.s.Store.GetAnchor(c.r.Context(), n)
			}},
		{Method: "GET", Path: "/audit/awards", Function: FnAudit, Roles: officersAudit,
			Summary:  "Award history of a DPS by decision day, filtered; each page reads at most `limit` index items",
			Response: dynamo.Page[procurement.Contract]{}, Query: awardParams,
			handle: func(c *call) (any, error) {
				f, err := c.awardFilter()
				if err != nil {
					return nil, err
				}
				if _, err := c.dpsNamed(f.DPSID, access.AwardHistory, access.See); err != nil {
					return nil, err
				}
				cur, lim, err := c.page()
				if err != nil {
					return nil, err
				}
				return c.s.Store.AwardHistory(c.r.Context(), f, cur, lim)
			}},
		{Method: "GET", Path: "/audit/awards.csv", Function: FnAudit, Roles: officersAudit, ContentType: "text/csv",
			Summary: "The award history as CSV, same filters; up to 1000 rows per call, the next page's cursor in the Next-Cursor header",
			Query:   awardParams, handle: func(c *call) (any, error) {
				f, err := c.awardFilter()
				if err != nil {
					return nil, err
				}
				if _, err := c.dpsNamed(f.DPSID, access.AwardHistory, access.See); err != nil {
					return nil, err
				}
				cursor := c.r.URL.Query().Get("cursor")
				var rows []procurement.Contract
				for len(rows) < 1000 {
					p, err := c.s.Store.AwardHistory(c.r.Context(), f, cursor, 100)
					if err != nil {
						return nil, err
					}
					rows = append(rows, p.Items...)
					if cursor = p.Cursor; cursor == "" {
						break
					}
				}
				if cursor != "" {
					c.w.Header().Set("Next-Cursor", cursor)
				}
				return rawBody{"text/csv; charset=utf-8", awardsCSV(rows)}, nil
			}},
		{Method: "GET", Path: "/audit/statistics", Function: FnAudit, Roles: officersAudit,
			Summary:  "Competition and fairness figures of a DPS for a period of months: bids per competition, shares by legal form and by local providers",
			Response: dynamo.Statistics{}, Query: []Param{{Name: "dpsId", Description: "the DPS (required)", Required: true, Pattern: IDPattern}, {Name: "from", Description: "first month YYYY-MM (default: January of this year)", Pattern: monthPattern}, {Name: "to", Description: "last month YYYY-MM (default: this month)", Pattern: monthPattern}},
			handle: func(c *call) (any, error) {
				q := c.r.URL.Query()
				var p procurement.Problems
				if q.Get("dpsId") == "" {
					p.Add("dpsId", "name the DPS")
				}
				now := c.s.Store.Now().UTC()
				from, to := q.Get("from"), q.Get("to")
				if from == "" {
					from = now.Format("2006") + "-01"
				}
				if to == "" {
					to = now.Format("2006-01")
				}
				for _, m := range []struct{ name, v string }{{"from", from}, {"to", to}} {
					if _, err := time.Parse("2006-01", m.v); err != nil {
						p.Add(m.name, "must be a month YYYY-MM")
					}
				}
				if from > to {
					p.Add("to", "must not be before from (%s)", from)
				}
				if err := p.Err(); err != nil {
					return nil, err
				}
				if _, err := c.dpsNamed(q.Get("dpsId"), access.AwardHistory, access.See); err != nil {
					return nil, err
				}
				return c.s.Store.Statistics(c.r.Context(), q.Get("dpsId"), from, to)
			}},
		{Method: "GET", Path: "/audit/competitions/{competitionId}/dossier", Function: FnAudit, Roles: auditors,
			Summary:  "The whole procedure in order: publication, invitees, questions and answers, bids (after the deadline), scores, decision, notifications",
			Response: Dossier{}, handle: func(c *call) (any, error) {
				ctx := c.r.Context()
				comp, err := c.competition(access.Internals, access.See)
				if err != nil {
					return nil, err
				}
				sealed := !access.AskCompetition(c.who(), access.Bid, comp, c.s.Store.Now()).Can(access.See)
				dos := Dossier{Competition: comp, Bids: []procurement.Bid{}}
				trail, err := dynamo.All(func(cur string) (dynamo.Page[audit.Event], error) { return c.s.Store.Trail(ctx, comp.ID, cur, 100) })
				if err != nil {
					return nil, err
				}
				for _, ev := range trail {
					if !sealed || !strings.HasPrefix(ev.Chain, "bid.") {
						dos.Trail = append(dos.Trail, ev)
					}
				}
				if dos.Questions, err = dynamo.All(func(cur string) (dynamo.Page[procurement.Question], error) {
					return c.s.Store.ListQuestions(ctx, comp.ID, cur, 100)
				}); err != nil {
					return nil, err
				}
				if !sealed {
					if dos.Bids, err = c.s.Store.AllBids(ctx, comp.ID); err != nil {
						return nil, err
					}
				}
				if dos.Contracts, err = c.s.Store.Contracts(ctx, comp.ID); err != nil {
					return nil, err
				}
				if dos.Contracts == nil {
					dos.Contracts = []procurement.Contract{}
				}
				if dos.Questions == nil {
					dos.Questions = []procurement.Question{}
				}
				if dos.Trail == nil {
					dos.Trail = []audit.Event{}
				}
				if dos.Notices, err = c.s.Store.Notices(ctx, comp.ID); dos.Notices == nil {
					dos.Notices = []dynamo.Notice{}
				}
				return dos, err
			}},
		{Method: "GET", Path: "/audit/dps/{dpsId}/quarters/{quarter}", Function: FnAudit, Roles: officersAudit,
			Summary:  "The quarterly grouping of call-off awards (quarter like 2026-Q4): what a grouped award notice needs, and when it is due",
			Response: AwardNotice{}, handle: func(c *call) (any, error) { return c.quarterAwards(access.AwardHistory) }},
	}
}

func awardsCSV(rows []procurement.Contract) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"decisionDate", "competitionId", "title", "buyer", "category", "providerId", "supplier", "businessId", "legalForm",
		"homeMunicipality", "local", "consortiumMembers", "places", "rank", "valueEuros", "fixedFeeEuros", "contractStart", "contractEnd"})
	write := func(cells ...string) {
		for i, c := range cells {
			cells[i] = csvCell(c)
		}
		_ = w.Write(cells)
	}
	for _, k := range rows {
		var members []string
		for _, m := range k.Members {
			members = append(members, m.Name+" ("+m.BusinessID+")")
		}
		write(k.AwardedAt.UTC().Format(time.DateOnly), k.CompetitionID, k.Title, k.Buyer, k.Category, k.ProviderID,
			k.Supplier.Name, k.Supplier.BusinessID, string(k.Supplier.LegalForm), k.Supplier.HomeMunicipality, strconv.FormatBool(k.Local),
			strings.Join(members, "; "), strconv.FormatInt(k.Places, 10), strconv.Itoa(k.Rank), cents(k.ValueCents), cents(k.FixedFeeCents), k.Start, k.End)
	}
	w.Flush()
	return b.Bytes()
}

// csvCell neutralises a cell that a spreadsheet would run as a formula
// (OWASP, CSV injection): a leading =, +, -, @, tab or carriage return is
// preceded by a single quote, so the text shows as written.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func cents(c int64) string { return fmt.Sprintf("%d.%02d", c/100, c%100) }
