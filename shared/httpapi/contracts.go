package httpapi

import (
	"slices"
	"time"

	"github.com/rengas/rengas/shared/access"
	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/outcomes"
	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/workdays"
)

// contractPath is the address of one winner's contract of a competition.
const contractPath = "/competitions/{competitionId}/contracts/{providerId}"

type conclusionRequest struct {
	// Note is an optional remark recorded with the conclusion's event.
	Note string `json:"note" validate:"max=2000"`
}

type contractEndRequest struct {
	Reason string `json:"reason" validate:"required,max=5000"`
	// Version is 0 for a contract not yet concluded.
	Version int `json:"version" validate:"gte=0"`
}

type referralRequest struct {
	ClientRef  string `json:"clientRef" validate:"required,max=64"`
	Segment    string `json:"segment" validate:"required,max=40"`
	ReferredOn string `json:"referredOn" validate:"required,datetime=2006-01-02"`
}

type startRequest struct {
	StartedOn string `json:"startedOn" validate:"required,datetime=2006-01-02"`
	Version   int    `json:"version" validate:"required,gte=1"`
}

type endRequest struct {
	EndedOn string `json:"endedOn" validate:"required,datetime=2006-01-02"`
	Reason  string `json:"reason" validate:"required,max=500"`
	Version int    `json:"version" validate:"required,gte=1"`
}

type claimRequest struct {
	Milestone  string              `json:"milestone" validate:"required,max=40"`
	AchievedOn string              `json:"achievedOn" validate:"required,datetime=2006-01-02"`
	Evidence   []outcomes.Evidence `json:"evidence" validate:"required,min=1,max=20,dive"`
}

type verificationRequest struct {
	Outcome string `json:"outcome" validate:"required,oneof=verified rejected more-information"`
	Method  string `json:"method" validate:"required,oneof=register-check document sample"`
	Reason  string `json:"reason" validate:"max=5000"`
	Version int    `json:"version" validate:"required,gte=1"`
}

type evidenceRequest struct {
	Evidence []outcomes.Evidence `json:"evidence" validate:"required,min=1,max=20,dive"`
	Version  int                 `json:"version" validate:"required,gte=1"`
}

type adjustmentRequest struct {
	AmountCents int64  `json:"amountCents" validate:"required,gte=-100000000,lte=100000000"`
	Reason      string `json:"reason" validate:"required,max=2000"`
}

type clawbackRequest struct {
	Reason string `json:"reason" validate:"required,max=2000"`
}

type paymentRequest struct {
	InvoiceRef string `json:"invoiceRef" validate:"required,max=100"`
	PaidOn     string `json:"paidOn" validate:"required,datetime=2006-01-02"`
	Version    int    `json:"version" validate:"required,gte=1"`
}

// ContractView is a contract with its balance (absent before conclusion).
type ContractView struct {
	outcomes.Contract
	Balance *outcomes.Balance `json:"balance,omitempty"`
}

// contractMay checks a part of the contract in the path.
func (c *call) contractMay(e access.Entity, need access.Ability) func(*outcomes.Contract) error {
	return func(k *outcomes.Contract) error {
		if err := access.AskContract(c.who(), access.Contract, k).Require(access.Know, access.NotFound(access.Contract, k.ID)); err != nil {
			return err
		}
		return access.AskContract(c.who(), e, k).Require(need, access.NotFound(e, k.ID))
	}
}

func (c *call) cp() (string, string) { return c.path("competitionId"), c.path("providerId") }

func periodParams() []Param {
	return []Param{
		{Name: "from", Description: "first month (YYYY-MM)", Required: true, Pattern: monthPattern},
		{Name: "to", Description: "last month (YYYY-MM), at most 36 months after from", Required: true, Pattern: monthPattern},
	}
}

func contractRoutes() []Route {
	step := func(action string, f func(k *outcomes.Contract, a procurement.Actor, in contractEndRequest, now time.Time) error) func(*call) (any, error) {
		return func(c *call) (any, error) {
			var in contractEndRequest
			if err := c.decode(&in); err != nil {
				return nil, err
			}
			comp, prov := c.cp()
			return c.s.Store.ContractStep(c.r.Context(), c.actor, comp, prov, in.Version, func(k *outcomes.Contract) (string, error) {
				return action, f(k, c.actor, in, c.s.Store.Now())
			}, c.contractMay(access.Contract, access.Act))
		}
	}
	return []Route{
		{Method: "GET", Path: contractPath, Function: FnCompetitions, Roles: everyone,
			Summary:  "Read a winner's outcome contract: its stage, the standstill's end, the frozen terms and the balance (one read once concluded)",
			Response: ContractView{}, handle: func(c *call) (any, error) {
				comp, prov := c.cp()
				k, b, err := c.s.Store.ReadContract(c.r.Context(), comp, prov, c.contractMay(access.Contract, access.See))
				if err != nil {
					return nil, err
				}
				v := ContractView{Contract: *k}
				if access.AskContract(c.who(), access.Ledger, k).Can(access.See) {
					v.Balance = b
				}
				return v, nil
			}},
		{Method: "POST", Path: contractPath + "/conclusion", Function: FnCompetitions, Idempotent: true, Roles: officers,
			Summary: "Conclude the contract after the standstill; its terms are frozen from the winning bid, the competition and the DPS settings",
			Request: conclusionRequest{}, Response: outcomes.Contract{}, handle: func(c *call) (any, error) {
				var in conclusionRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				comp, prov := c.cp()
				return c.s.Store.ConcludeContract(c.r.Context(), c.actor, comp, prov, c.contractMay(access.Contract, access.Act))
			}},
		{Method: "POST", Path: contractPath + "/acceptance", Function: FnCompetitions, Idempotent: true, Roles: providers,
			Summary: "Accept a concluded contract (the winner); referrals can then be made", Request: versionRequest{}, Response: outcomes.Contract{},
			handle: func(c *call) (any, error) {
				var in versionRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				comp, prov := c.cp()
				return c.s.Store.ContractStep(c.r.Context(), c.actor, comp, prov, in.Version, func(k *outcomes.Contract) (string, error) {
					return "contract.accepted", k.Accept(c.actor, c.s.Store.Now())
				}, c.contractMay(access.Contract, access.Act))
			}},
		{Method: "POST", Path: contractPath + "/cancellation", Function: FnCompetitions, Idempotent: true, Roles: officers,
			Summary: "Cancel the contract, with the reason", Request: contractEndRequest{}, Response: outcomes.Contract{},
			handle: step("contract.cancelled", func(k *outcomes.Contract, a procurement.Actor, in contractEndRequest, now time.Time) error {
				return k.End(outcomes.Cancelled, a, in.Reason, now)
			})},
		{Method: "POST", Path: contractPath + "/lapse", Function: FnCompetitions, Idempotent: true, Roles: officers,
			Summary: "Record that a contract not yet accepted lapsed, with the reason", Request: contractEndRequest{}, Response: outcomes.Contract{},
			handle: step("contract.lapsed", func(k *outcomes.Contract, a procurement.Actor, in contractEndRequest, now time.Time) error {
				return k.End(outcomes.Lapsed, a, in.Reason, now)
			})},
		{Method: "POST", Path: contractPath + "/referrals", Function: FnCompetitions, Idempotent: true, Roles: officers, Created: true,
			Summary: "Refer a client to an active contract by an opaque reference of the buyer's case system (never a personal identity code), with the segment and the referral day; active referrals never exceed the places",
			Request: referralRequest{}, Response: outcomes.Referral{}, handle: func(c *call) (any, error) {
				var in referralRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				comp, prov := c.cp()
				return c.s.Store.Refer(c.r.Context(), c.actor, comp, prov, in.ClientRef, in.Segment, in.ReferredOn, c.contractMay(access.Referral, access.Act))
			}},
		{Method: "GET", Path: contractPath + "/referrals", Function: FnCompetitions, Roles: everyone,
			Summary: "List the contract's referrals (the running buyer, the winner and the auditors)", Response: dynamo.Page[outcomes.Referral]{}, Query: pageParams,
			handle: func(c *call) (any, error) {
				k, err := c.readContract(access.Referral)
				if err != nil {
					return nil, err
				}
				cur, lim, err := c.page()
				if err != nil {
					return nil, err
				}
				return c.s.Store.ListReferrals(c.r.Context(), k.ID, cur, lim)
			}},
		{Method: "POST", Path: contractPath + "/referrals/{referralId}/start", Function: FnCompetitions, Idempotent: true, Roles: providers,
			Summary: "Confirm the client's start (the winner); the fixed fee is booked under the caps", Request: startRequest{}, Response: outcomes.Referral{},
			handle: func(c *call) (any, error) {
				var in startRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				comp, prov := c.cp()
				return c.s.Store.StartReferral(c.r.Context(), c.actor, comp, prov, c.path("referralId"), in.Version, in.StartedOn, c.contractMay(access.Referral, access.Act))
			}},
		{Method: "POST", Path: contractPath + "/referrals/{referralId}/end", Function: FnCompetitions, Idempotent: true, Roles: providers,
			Summary: "Record the end of the client's service with the reason (the winner); the place is freed", Request: endRequest{}, Response: outcomes.Referral{},
			handle: func(c *call) (any, error) {
				var in endRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				comp, prov := c.cp()
				return c.s.Store.EndReferral(c.r.Context(), c.actor, comp, prov, c.path("referralId"), in.Version, in.EndedOn, in.Reason, c.contractMay(access.Referral, access.Act))
			}},
		{Method: "POST", Path: contractPath + "/referrals/{referralId}/claims", Function: FnCompetitions, Idempotent: true, Roles: providers, Created: true,
			Summary: "Claim a milestone for a referral with the day achieved and evidence (uploaded files by fileId, or document metadata); the amount comes from the contract; one claim per referral and milestone",
			Request: claimRequest{}, Response: outcomes.Claim{}, handle: func(c *call) (any, error) {
				var in claimRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				comp, prov := c.cp()
				return c.s.Store.SubmitClaim(c.r.Context(), c.actor, comp, prov, c.path("referralId"), in.Milestone, in.AchievedOn, in.Evidence, c.contractMay(access.Claim, access.Act))
			}},
		{Method: "GET", Path: contractPath + "/claims", Function: FnCompetitions, Roles: everyone,
			Summary: "List the contract's claims", Response: dynamo.Page[outcomes.Claim]{}, Query: pageParams,
			handle: func(c *call) (any, error) {
				k, err := c.readContract(access.Claim)
				if err != nil {
					return nil, err
				}
				cur, lim, err := c.page()
				if err != nil {
					return nil, err
				}
				return c.s.Store.ListClaims(c.r.Context(), k.ID, cur, lim)
			}},
		{Method: "POST", Path: contractPath + "/claims/{claimId}/verification", Function: FnCompetitions, Idempotent: true, Roles: officers,
			Summary: "Verify a claim (verified, rejected with the reason, or more information asked), naming the method; a verified claim's fee is booked under the caps",
			Request: verificationRequest{}, Response: outcomes.Claim{}, handle: func(c *call) (any, error) {
				var in verificationRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				comp, prov := c.cp()
				return c.s.Store.VerifyClaim(c.r.Context(), c.actor, comp, prov, c.path("claimId"), in.Version, in.Outcome, in.Method, in.Reason, c.contractMay(access.Claim, access.Act))
			}},
		{Method: "POST", Path: contractPath + "/claims/{claimId}/evidence", Function: FnCompetitions, Idempotent: true, Roles: providers,
			Summary: "Add evidence to a claim on which more information was asked; it is pending again", Request: evidenceRequest{}, Response: outcomes.Claim{},
			handle: func(c *call) (any, error) {
				var in evidenceRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				comp, prov := c.cp()
				return c.s.Store.AddEvidence(c.r.Context(), c.actor, comp, prov, c.path("claimId"), in.Version, in.Evidence, c.contractMay(access.Claim, access.Act))
			}},
		{Method: "GET", Path: contractPath + "/claims/{claimId}/evidence/{fileId}/content", Function: FnCompetitions, Roles: everyone,
			Summary:  "Get a short-lived link to download an uploaded evidence file of a claim (the provider, the running buyer's officers and the auditors)",
			Response: fileLink{}, Statuses: []int{409}, handle: func(c *call) (any, error) {
				comp, prov := c.cp()
				k, cl, err := c.s.Store.ReadClaim(c.r.Context(), comp, prov, c.path("claimId"), c.contractMay(access.Claim, access.See))
				if err != nil {
					return nil, err
				}
				for _, e := range cl.Evidence {
					if e.FileID != "" && e.FileID == c.path("fileId") {
						return c.attachment(e.FileID, access.ContractScope(k))
					}
				}
				return nil, access.NotFound(access.Attachment, c.path("fileId"))
			}},
		{Method: "GET", Path: contractPath + "/ledger", Function: FnCompetitions, Roles: everyone,
			Summary: "List the contract's ledger entries, oldest first (the balance is on the contract)", Response: dynamo.Page[outcomes.Entry]{}, Query: pageParams,
			handle: func(c *call) (any, error) {
				k, err := c.readContract(access.Ledger)
				if err != nil {
					return nil, err
				}
				cur, lim, err := c.page()
				if err != nil {
					return nil, err
				}
				return c.s.Store.ListLedger(c.r.Context(), k.ID, cur, lim)
			}},
		{Method: "POST", Path: contractPath + "/ledger/adjustments", Function: FnCompetitions, Idempotent: true, Roles: officers, Created: true,
			Summary: "Book an adjustment with its reason (an increase is capped like any fee)", Request: adjustmentRequest{}, Response: outcomes.Entry{},
			handle: func(c *call) (any, error) {
				var in adjustmentRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				comp, prov := c.cp()
				return c.s.Store.Adjust(c.r.Context(), c.actor, comp, prov, in.AmountCents, in.Reason, c.contractMay(access.Ledger, access.Act))
			}},
		{Method: "POST", Path: contractPath + "/ledger/{entryId}/clawback", Function: FnCompetitions, Idempotent: true, Roles: officers, Created: true,
			Summary: "Claw back a ledger entry with the reason: a new entry reverses it", Request: clawbackRequest{}, Response: outcomes.Entry{},
			handle: func(c *call) (any, error) {
				var in clawbackRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				comp, prov := c.cp()
				return c.s.Store.Clawback(c.r.Context(), c.actor, comp, prov, c.path("entryId"), in.Reason, c.contractMay(access.Ledger, access.Act))
			}},
		{Method: "POST", Path: contractPath + "/ledger/{entryId}/payment", Function: FnCompetitions, Idempotent: true, Roles: officers,
			Summary: "Record the invoice reference and the paid day of a ledger entry", Request: paymentRequest{}, Response: outcomes.Entry{},
			handle: func(c *call) (any, error) {
				var in paymentRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				comp, prov := c.cp()
				return c.s.Store.RecordPayment(c.r.Context(), c.actor, comp, prov, c.path("entryId"), in.Version, in.InvoiceRef, in.PaidOn, c.contractMay(access.Ledger, access.Act))
			}},
		{Method: "GET", Path: contractPath + "/statistics", Function: FnCompetitions, Roles: everyone,
			Summary:  "What works for whom in the contract, per segment and milestone, for a period of months: in full for the running buyer's officers and the auditors, with cells under 5 clients suppressed for everyone else who may read the contract",
			Response: outcomes.Statistics{}, Query: periodParams(), handle: func(c *call) (any, error) {
				k, err := c.readContract(access.Contract)
				if err != nil {
					return nil, err
				}
				full := access.AskContract(c.who(), access.OutcomeStats, k).Can(access.See)
				return c.statistics(dynamo.StatsScopeContract(k.ID), k.Terms, full)
			}},
		{Method: "GET", Path: "/contracts", Function: FnCompetitions, Roles: []procurement.Role{procurement.RoleOfficer, procurement.RoleProvider},
			Summary:  "The caller's organisation's outcome contracts once concluded, cancelled or lapsed, newest award first: an officer's buyer's, or a provider's own",
			Response: dynamo.Page[outcomes.Contract]{}, Query: pageParams, handle: func(c *call) (any, error) {
				cur, lim, err := c.page()
				if err != nil {
					return nil, err
				}
				if c.actor.Is(procurement.RoleProvider) {
					return c.s.Store.ProviderContracts(c.r.Context(), c.actor.Org, cur, lim)
				}
				return c.s.Store.ListContracts(c.r.Context(), c.actor.Org, cur, lim)
			}},
		{Method: "GET", Path: "/verification-queue", Function: FnCompetitions, Roles: officers,
			Summary:  "The caller's organisation's claims awaiting verification (or more information), the earliest deadline (the overdue) first",
			Response: dynamo.Page[outcomes.Claim]{},
			Query:    append([]Param{{Name: "status", Description: "pending (default) or more-information", Enum: []string{"pending", "more-information"}, Default: "pending"}}, pageParams...),
			handle: func(c *call) (any, error) {
				cur, lim, err := c.page()
				if err != nil {
					return nil, err
				}
				st := c.r.URL.Query().Get("status")
				if st == "" {
					st = "pending"
				}
				return c.s.Store.VerificationQueue(c.r.Context(), c.actor.Org, st, cur, lim)
			}},
		{Method: "GET", Path: "/dps/{dpsId}/outcome-statistics", Function: FnCompetitions, Roles: officersAudit,
			Summary:  "What works for whom across the DPS's outcome contracts, per segment and milestone, for a period of months: in full for the DPS's buyers' officers and the auditors",
			Response: outcomes.Statistics{}, Query: periodParams(), handle: func(c *call) (any, error) {
				if _, err := c.dps(access.AwardHistory, access.See); err != nil {
					return nil, err
				}
				return c.statistics(dynamo.StatsScopeDPS(c.path("dpsId")), nil, true)
			}},
		{Method: "GET", Path: "/open-data" + contractPath + "/implementation", Function: FnAudit,
			Summary:  "Open data: the OCDS 1.1.5 contracts[].implementation block of a concluded contract: paid ledger entries and clawbacks as transactions (a page of up to 100 entries; follow cursor), and each segment's milestones with their status; figures under 5 clients suppressed",
			Response: OpenImplementation{}, Query: []Param{{Name: "cursor", Description: "the cursor of the previous page of transactions; omit for the first"}},
			handle: func(c *call) (any, error) {
				k, err := c.openContract()
				if err != nil {
					return nil, err
				}
				entries, err := c.s.Store.ListLedger(c.r.Context(), k.ID, c.r.URL.Query().Get("cursor"), 100)
				if err != nil {
					return nil, err
				}
				counts, _, err := c.s.Store.StatsCounts(c.r.Context(), dynamo.StatsScopeContract(k.ID), k.Terms.Start[:7], k.Terms.End[:7])
				if err != nil {
					return nil, err
				}
				im := outcomes.Implementation(k, k.Buyer, entries.Items, counts, workdays.DateString(c.s.Store.Now()))
				return OpenImplementation{ContractID: k.ID, Implementation: im, Cursor: entries.Cursor}, nil
			}},
		{Method: "GET", Path: "/open-data" + contractPath + "/indigo", Function: FnAudit,
			Summary:  "Open data: an INDIGO-style export of a concluded contract: outcome metrics, pricings, outcome payments planned vs actual, and results per metric and month; cells under 5 clients suppressed",
			Response: outcomes.Indigo{}, handle: func(c *call) (any, error) {
				k, err := c.openContract()
				if err != nil {
					return nil, err
				}
				months, err := c.s.Store.StatsByMonth(c.r.Context(), dynamo.StatsScopeContract(k.ID), k.Terms.Start[:7], k.Terms.End[:7])
				if err != nil {
					return nil, err
				}
				total := outcomes.Counts{}
				for _, m := range months {
					total.Add(m)
				}
				return outcomes.IndigoExport(k, total, months), nil
			}},
		{Method: "GET", Path: "/open-data/dps/{dpsId}/outcome-statistics", Function: FnAudit,
			Summary:  "Open data: what works for whom across the DPS's outcome contracts, with every cell under 5 clients suppressed",
			Response: outcomes.Statistics{}, Query: periodParams(), handle: func(c *call) (any, error) {
				if _, err := c.s.Store.GetDPS(c.r.Context(), c.path("dpsId")); err != nil {
					return nil, err
				}
				return c.statistics(dynamo.StatsScopeDPS(c.path("dpsId")), nil, false)
			}},
	}
}

// readContract loads the contract in the path and asks the rules about
// seeing a part of it.
func (c *call) readContract(e access.Entity) (*outcomes.Contract, error) {
	comp, prov := c.cp()
	k, _, err := c.s.Store.ReadContract(c.r.Context(), comp, prov, c.contractMay(e, access.See))
	return k, err
}

// statistics reads a scope's counts for the period and makes the table.
func (c *call) statistics(scope string, t *outcomes.Terms, full bool) (any, error) {
	q := c.r.URL.Query()
	from, to := q.Get("from"), q.Get("to")
	counts, months, err := c.s.Store.StatsCounts(c.r.Context(), scope, from, to)
	if err != nil {
		return nil, err
	}
	segs, mss := outcomes.Names(counts)
	if t != nil {
		segs, mss = nil, nil
		for _, s := range t.Segments {
			segs = append(segs, s.ID)
		}
		for _, m := range t.Milestones {
			mss = append(mss, m.ID)
		}
	}
	slices.Sort(mss)
	st := outcomes.Statistics{Scope: scope, From: from, To: to, Months: months, Full: full, Rows: outcomes.Table(counts, segs, mss, !full), Note: outcomes.StatsNote}
	if st.Rows == nil {
		st.Rows = []outcomes.Row{}
	}
	return st, nil
}

// OpenImplementation is a page of a contract's OCDS implementation block.
type OpenImplementation struct {
	ContractID     string                      `json:"contractId"`
	Implementation outcomes.OCDSImplementation `json:"implementation"`
	Cursor         string                      `json:"cursor,omitempty"`
}

// openContract loads the contract in the path for open data: only a
// concluded one (with terms) is published.
func (c *call) openContract() (*outcomes.Contract, error) {
	comp, prov := c.cp()
	k, _, err := c.s.Store.ReadContract(c.r.Context(), comp, prov, func(k *outcomes.Contract) error {
		if k.Terms == nil {
			return access.NotFound(access.Contract, k.ID)
		}
		return access.Ask(nil, access.OpenData, access.Any, access.Scope{}).Require(access.See, access.NotFound(access.Contract, k.ID))
	})
	return k, err
}
