package httpapi

import (
	"time"

	"github.com/rengas/rengas/shared/access"
	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/scoring"
)

type competitionRequest struct {
	procurement.Definition
	// Reason is required when amending a published competition.
	Reason  string `json:"reason" validate:"max=5000"`
	Version int    `json:"version" validate:"required,gte=1"`
}

type versionRequest struct {
	Version int `json:"version" validate:"required,gte=1"`
}

type reasonRequest struct {
	Reason  string `json:"reason" validate:"required,max=5000"`
	Version int    `json:"version" validate:"required,gte=1"`
}

type questionRequest struct {
	Question string `json:"question" validate:"required,max=5000"`
}

type answerRequest struct {
	Answer  string `json:"answer" validate:"required,max=10000"`
	Version int    `json:"version" validate:"required,gte=1"`
}

type bidRequest struct {
	procurement.Offer
	// Version is 0 for a first bid, else the version being replaced.
	Version int `json:"version" validate:"gte=0"`
}

type conflictRequest struct {
	Statement string `json:"statement" validate:"required,max=2000"`
}

type scoreRequest struct {
	Criterion string `json:"criterion" validate:"required,max=40,id"`
	Score     *int   `json:"score" validate:"required,gte=0,lte=5"`
	Reason    string `json:"reason" validate:"required,max=5000"`
	Version   int    `json:"version" validate:"required,gte=1"`
}

type awardRequest struct {
	Reasons string `json:"reasons" validate:"required,max=20000"`
	Version int    `json:"version" validate:"required,gte=1"`
}

func competitionRoutes() []Route {
	return []Route{
		{Method: "POST", Path: "/dps/{dpsId}/competitions", Function: FnCompetitions, Idempotent: true, Roles: officers,
			Summary: "Draft an outcome-based mini-competition in a category", Request: procurement.Definition{}, Response: procurement.Competition{}, Created: true,
			handle: func(c *call) (any, error) {
				var in procurement.Definition
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				return c.s.Store.CreateCompetition(c.r.Context(), c.actor, c.path("dpsId"), in, c.dpsMay(access.DPS, access.Act))
			}},
		{Method: "GET", Path: "/dps/{dpsId}/competitions", Function: FnCompetitions, Roles: everyone,
			Summary: "List the mini-competitions of a DPS that the caller may see (providers: those they are invited to)", Response: dynamo.Page[procurement.Competition]{}, Query: pageParams,
			handle: func(c *call) (any, error) {
				cur, lim, err := c.page()
				if err != nil {
					return nil, err
				}
				p, err := c.s.Store.ListCompetitions(c.r.Context(), c.path("dpsId"), cur, lim)
				if err != nil {
					return nil, err
				}
				now := c.s.Store.Now()
				visible := make([]procurement.Competition, 0, len(p.Items))
				for i := range p.Items {
					if access.AskCompetition(c.who(), access.Competition, &p.Items[i], now).Can(access.See) {
						visible = append(visible, *access.CompetitionView(c.who(), &p.Items[i], now))
					}
				}
				p.Items = visible
				return p, nil
			}},
		{Method: "GET", Path: "/competitions/{competitionId}", Function: FnCompetitions, Roles: everyone,
			Summary: "Read a mini-competition as the caller may see it (past its deadline and not yet opened it shows as closed)", Response: procurement.Competition{},
			handle: func(c *call) (any, error) {
				comp, err := c.competition(access.Competition, access.See)
				if err != nil {
					return nil, err
				}
				return access.CompetitionView(c.who(), comp, c.s.Store.Now()), nil
			}},
		{Method: "GET", Path: "/competitions/{competitionId}/invitees", Function: FnCompetitions, Roles: officersAudit,
			Summary:  "List the providers invited at publication, as they stood then (the competition's own officers and auditors)",
			Response: dynamo.Page[procurement.Invitee]{}, Query: pageParams, handle: func(c *call) (any, error) {
				comp, err := c.competition(access.Internals, access.See)
				if err != nil {
					return nil, err
				}
				cur, lim, err := c.page()
				if err != nil {
					return nil, err
				}
				return c.s.Store.ListInvitees(c.r.Context(), comp.ID, cur, lim)
			}},
		{Method: "PUT", Path: "/competitions/{competitionId}", Function: FnCompetitions, Idempotent: true, Roles: officers,
			Summary: "Edit a draft, or amend a published competition before its deadline with a reason (material amendments notify all invitees)",
			Request: competitionRequest{}, Response: procurement.Competition{}, handle: func(c *call) (any, error) {
				var in competitionRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				return c.s.Store.AmendCompetition(c.r.Context(), c.actor, c.path("competitionId"), in.Version, in.Definition, in.Reason, c.competitionMay(access.Competition, access.Act))
			}},
		{Method: "POST", Path: "/competitions/{competitionId}/publication", Function: FnCompetitions, Idempotent: true, Roles: officers,
			Summary: "Publish: invite every provider admitted and not suspended in the category, at one moment", Request: versionRequest{}, Response: procurement.Competition{},
			handle: func(c *call) (any, error) {
				var in versionRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				return c.s.Store.PublishCompetition(c.r.Context(), c.actor, c.path("competitionId"), in.Version, c.competitionMay(access.Competition, access.Act))
			}},
		{Method: "POST", Path: "/competitions/{competitionId}/cancellation", Function: FnCompetitions, Idempotent: true, Roles: officers,
			Summary: "Cancel with a reason at any point before award", Request: reasonRequest{}, Response: procurement.Competition{},
			handle: func(c *call) (any, error) {
				var in reasonRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				return c.s.Store.CancelCompetition(c.r.Context(), c.actor, c.path("competitionId"), in.Version, in.Reason, c.competitionMay(access.Competition, access.Act))
			}},
		{Method: "POST", Path: "/competitions/{competitionId}/questions", Function: FnCompetitions, Idempotent: true, Roles: providers,
			Summary: "Ask a clarification question before the question deadline (the asker stays hidden from other providers)",
			Request: questionRequest{}, Response: procurement.Question{}, Created: true, handle: func(c *call) (any, error) {
				var in questionRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				return c.s.Store.AskQuestion(c.r.Context(), c.actor, c.path("competitionId"), in.Question, c.competitionMay(access.Questions, access.Act))
			}},
		{Method: "GET", Path: "/competitions/{competitionId}/questions", Function: FnCompetitions, Roles: everyone,
			Summary:  "List questions: the running buyer and auditors see all with askers; invitees see answered ones and their own, never the asker",
			Response: dynamo.Page[procurement.Question]{}, Query: pageParams, handle: func(c *call) (any, error) {
				comp, err := c.competition(access.Questions, access.See)
				if err != nil {
					return nil, err
				}
				cur, lim, err := c.page()
				if err != nil {
					return nil, err
				}
				p, err := c.s.Store.ListQuestions(c.r.Context(), comp.ID, cur, lim)
				if err != nil {
					return nil, err
				}
				now := c.s.Store.Now()
				visible := make([]procurement.Question, 0, len(p.Items))
				for _, q := range p.Items {
					if v, ok := access.QuestionView(c.who(), comp, q, now); ok {
						visible = append(visible, v)
					}
				}
				p.Items = visible
				return p, nil
			}},
		{Method: "POST", Path: "/competitions/{competitionId}/questions/{questionId}/answer", Function: FnCompetitions, Idempotent: true, Roles: officers,
			Summary: "Publish the answer to every invitee, without the asker's identity", Request: answerRequest{}, Response: procurement.Question{},
			handle: func(c *call) (any, error) {
				var in answerRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				return c.s.Store.AnswerQuestion(c.r.Context(), c.actor, c.path("competitionId"), c.path("questionId"), in.Version, in.Answer, c.competitionMay(access.Questions, access.Act))
			}},
		{Method: "PUT", Path: "/competitions/{competitionId}/bids/mine", Function: FnCompetitions, Roles: providers,
			Summary: "Submit (version 0) or replace your sealed bid before the deadline; send an Idempotency-Key header to make retries safe",
			Request: bidRequest{}, Response: procurement.Bid{}, MayCreate: true, Idempotent: true, KeyInStore: true, handle: func(c *call) (any, error) {
				var in bidRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				if err := c.attachRefs("attachments", in.Attachments); err != nil {
					return nil, err
				}
				key, err := c.idempotencyKey()
				if err != nil {
					return nil, err
				}
				res, err := c.s.Store.WriteBid(c.r.Context(), c.actor, c.path("competitionId"), in.Version, key, c.requestDigest(in), c.bidMay(c.actor.Org, access.Act),
					func(comp *procurement.Competition, inv *procurement.Invitee, prev *procurement.Bid, now time.Time) (*procurement.Bid, string, error) {
						b, err := comp.PlaceBid(prev, inv, in.Offer, c.received, now)
						action := "bid.submitted"
						if prev != nil {
							action = "bid.replaced"
						}
						return b, action, err
					})
				if err != nil {
					return nil, err
				}
				if res.Replayed {
					c.w.Header().Set("Idempotent-Replayed", "true")
				}
				if res.Created {
					return created{res.Bid}, nil
				}
				return res.Bid, nil
			}},
		{Method: "GET", Path: "/competitions/{competitionId}/bids/mine", Function: FnCompetitions, Roles: providers,
			Summary: "Read your own bid", Response: procurement.Bid{}, handle: func(c *call) (any, error) {
				comp, err := c.s.Store.ReadCompetition(c.r.Context(), c.path("competitionId"))
				if err != nil {
					return nil, err
				}
				if err := c.bidMay(c.actor.Org, access.See)(comp); err != nil {
					return nil, err
				}
				return c.s.Store.GetBid(c.r.Context(), comp.ID, c.actor.Org)
			}},
		{Method: "POST", Path: "/competitions/{competitionId}/bids/mine/withdrawal", Function: FnCompetitions, Idempotent: true, Roles: providers,
			Summary: "Withdraw your bid before the deadline", Request: versionRequest{}, Response: procurement.Bid{},
			handle: func(c *call) (any, error) {
				var in versionRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				res, err := c.s.Store.WriteBid(c.r.Context(), c.actor, c.path("competitionId"), in.Version, "", "", c.bidMay(c.actor.Org, access.Act),
					func(comp *procurement.Competition, _ *procurement.Invitee, prev *procurement.Bid, now time.Time) (*procurement.Bid, string, error) {
						if prev == nil {
							if err := comp.CheckBidding(c.actor.Org, c.received); err != nil {
								return nil, "", err
							}
							return nil, "", procurement.Errorf(procurement.ENOTFOUND, "you have no bid to withdraw")
						}
						b := *prev
						return &b, "bid.withdrawn", comp.Withdraw(&b, c.received, now)
					})
				return res.Bid, err
			}},
		{Method: "GET", Path: "/competitions/{competitionId}/bids", Function: FnCompetitions, Roles: officersAudit,
			Summary:  "List the bids once opened (officers: after declaring no conflict of interest). Before that the answer is the same whether or not bids exist",
			Response: dynamo.Page[procurement.Bid]{}, Query: pageParams, Statuses: []int{409}, handle: func(c *call) (any, error) {
				comp, err := c.evaluation(access.See)
				if err != nil {
					return nil, err
				}
				cur, lim, err := c.page()
				if err != nil {
					return nil, err
				}
				return c.s.Store.ListBids(c.r.Context(), comp.ID, cur, lim)
			}},
		{Method: "POST", Path: "/competitions/{competitionId}/conflict-declarations", Function: FnCompetitions, Idempotent: true, Roles: officers,
			Summary: "Declare no conflict of interest before seeing and scoring the bids", Request: conflictRequest{}, Response: procurement.Competition{}, Created: true,
			handle: func(c *call) (any, error) {
				var in conflictRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				return c.s.Store.DeclareNoConflict(c.r.Context(), c.actor, c.path("competitionId"), in.Statement, c.competitionMay(access.Internals, access.Act))
			}},
		{Method: "POST", Path: "/competitions/{competitionId}/bids/{providerId}/scores", Function: FnCompetitions, Idempotent: true, Roles: officers,
			Summary: "Score one quality criterion of a bid 0-5 with a written reason", Request: scoreRequest{}, Response: procurement.Bid{},
			handle: func(c *call) (any, error) {
				var in scoreRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				return c.s.Store.UpdateBidEvaluation(c.r.Context(), c.actor, c.path("competitionId"), c.path("providerId"), in.Version, "bid.scored", c.bidMay(c.path("providerId"), access.Act),
					func(comp *procurement.Competition, b *procurement.Bid) error {
						return comp.ScoreBid(c.actor, b, in.Criterion, *in.Score, in.Reason, c.s.Store.Now())
					})
			}},
		{Method: "POST", Path: "/competitions/{competitionId}/bids/{providerId}/rejection", Function: FnCompetitions, Idempotent: true, Roles: officers,
			Summary: "Reject a bid with a reason (e.g. incomplete)", Request: reasonRequest{}, Response: procurement.Bid{},
			handle: func(c *call) (any, error) {
				var in reasonRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				return c.s.Store.UpdateBidEvaluation(c.r.Context(), c.actor, c.path("competitionId"), c.path("providerId"), in.Version, "bid.rejected", c.bidMay(c.path("providerId"), access.Act),
					func(comp *procurement.Competition, b *procurement.Bid) error {
						return comp.RejectBid(c.actor, b, in.Reason, c.s.Store.Now())
					})
			}},
		{Method: "GET", Path: "/competitions/{competitionId}/evaluation", Function: FnCompetitions, Roles: officersAudit,
			Summary:  "Preview the comparison with the scores so far (ties shown with a preview lot; the award draws its own recorded seed)",
			Response: scoring.Outcome{}, Statuses: []int{409}, handle: func(c *call) (any, error) {
				comp, err := c.evaluation(access.See)
				if err != nil {
					return nil, err
				}
				bids, err := c.s.Store.AllBids(c.r.Context(), comp.ID)
				if err != nil {
					return nil, err
				}
				return comp.Compare(bids, "preview"), nil
			}},
		{Method: "POST", Path: "/competitions/{competitionId}/award", Function: FnCompetitions, Idempotent: true, Roles: officers,
			Summary: "Confirm the award decision: ranking, every number for every bid, winners and their places, reasons, appeal instructions",
			Request: awardRequest{}, Response: procurement.Competition{}, handle: func(c *call) (any, error) {
				var in awardRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				return c.s.Store.Award(c.r.Context(), c.actor, c.path("competitionId"), in.Version, in.Reasons, c.competitionMay(access.Evaluation, access.Act))
			}},
		{Method: "GET", Path: "/competitions/{competitionId}/decision", Function: FnCompetitions, Roles: everyone,
			Summary: "Read the award decision (bidders: their own scores and the winners')", Response: procurement.AwardDecision{},
			handle: func(c *call) (any, error) {
				comp, err := c.competition(access.Decision, access.See)
				if err != nil {
					return nil, err
				}
				return access.DecisionView(c.who(), comp, c.s.Store.Now()), nil
			}},
	}
}

// evaluation loads the competition for a read of its evaluation: the rules
// first, then the seal (the same answer with or without bids), then the
// officer's conflict-of-interest declaration.
func (c *call) evaluation(need access.Ability) (*procurement.Competition, error) {
	comp, err := c.competition(access.Evaluation, access.Know)
	if err != nil {
		return nil, err
	}
	if !access.AskCompetition(c.who(), access.Evaluation, comp, c.s.Store.Now()).Can(need) {
		return nil, procurement.Errorf(procurement.ECONFLICT, "bids are sealed until the competition is opened after its deadline %s (server time)", comp.BidDeadline.UTC().Format(time.RFC3339))
	}
	if c.actor.Is(procurement.RoleOfficer) {
		if err := comp.CheckEvaluator(c.actor); err != nil {
			return nil, err
		}
	}
	return comp, nil
}

// created marks a value to be answered with 201 Created.
type created struct{ v any }
