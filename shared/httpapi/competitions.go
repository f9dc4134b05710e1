package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"time"

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
	Criterion string `json:"criterion" validate:"required,max=40"`
	Score     *int   `json:"score" validate:"required,gte=0,lte=5"`
	Reason    string `json:"reason" validate:"required,max=5000"`
	Version   int    `json:"version" validate:"required,gte=1"`
}

type awardRequest struct {
	Reasons string `json:"reasons" validate:"required,max=20000"`
	Version int    `json:"version" validate:"required,gte=1"`
}

// competition loads a competition as the caller may see it: providers only
// see published ones they are invited to, without the invitee list or the
// evaluators' declarations; officers see their own buyer's drafts.
func (c *call) competition() (*procurement.Competition, error) {
	comp, err := c.s.Store.GetCompetition(c.r.Context(), c.path("competitionId"))
	if err != nil {
		return nil, err
	}
	hidden := procurement.Errorf(procurement.ENOTFOUND, "mini-competition %s not found", comp.ID)
	switch c.actor.Role {
	case procurement.RoleProvider:
		if _, ok := comp.Invitee(c.actor.Org); !ok {
			return nil, hidden
		}
	case procurement.RoleOfficer:
		if comp.Status == procurement.CompDraft && comp.Buyer != c.actor.Org {
			return nil, hidden
		}
	}
	return comp, nil
}

// forProvider strips what a provider may not see: other invitees, the
// evaluators, and the other losing bids of the decision.
func forProvider(comp *procurement.Competition, provider string) *procurement.Competition {
	v := *comp
	v.Invitees, v.Conflicts = nil, nil
	if comp.Decision != nil {
		d := *comp.Decision
		d.Comparison.Results = slices.DeleteFunc(slices.Clone(d.Comparison.Results), func(r scoring.Result) bool {
			return r.Bid != provider && !slices.Contains(d.Comparison.Winners, r.Bid)
		})
		v.Decision = &d
	}
	return &v
}

func (c *call) view(comp *procurement.Competition) *procurement.Competition {
	if c.actor.Is(procurement.RoleProvider) {
		return forProvider(comp, c.actor.Org)
	}
	return comp
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func competitionRoutes() []Route {
	return []Route{
		{Method: "POST", Path: "/dps/{dpsId}/competitions", Function: FnCompetitions, Roles: officers,
			Summary: "Draft an outcome-based mini-competition in a category", Request: procurement.Definition{}, Response: procurement.Competition{}, Created: true,
			handle: func(c *call) (any, error) {
				var in procurement.Definition
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				return c.s.Store.CreateCompetition(c.r.Context(), c.actor, c.path("dpsId"), in)
			}},
		{Method: "GET", Path: "/dps/{dpsId}/competitions", Function: FnCompetitions, Roles: everyone,
			Summary: "List mini-competitions of a DPS (providers: those they are invited to)", Response: dynamo.Page[procurement.Competition]{}, Query: pageParams,
			handle: func(c *call) (any, error) {
				cur, lim, err := c.page()
				if err != nil {
					return nil, err
				}
				p, err := c.s.Store.ListCompetitions(c.r.Context(), c.path("dpsId"), cur, lim)
				if err != nil {
					return nil, err
				}
				visible := p.Items[:0]
				for i := range p.Items {
					comp := &p.Items[i]
					switch {
					case c.actor.Is(procurement.RoleProvider):
						if _, ok := comp.Invitee(c.actor.Org); ok {
							visible = append(visible, *forProvider(comp, c.actor.Org))
						}
					case c.actor.Is(procurement.RoleOfficer) && comp.Status == procurement.CompDraft && comp.Buyer != c.actor.Org:
					default:
						visible = append(visible, *comp)
					}
				}
				p.Items = visible
				return p, nil
			}},
		{Method: "GET", Path: "/competitions/{competitionId}", Function: FnCompetitions, Roles: everyone,
			Summary: "Read a mini-competition (opens it for evaluation on first read after the deadline)", Response: procurement.Competition{},
			handle: func(c *call) (any, error) {
				comp, err := c.competition()
				if err != nil {
					return nil, err
				}
				return c.view(comp), nil
			}},
		{Method: "PUT", Path: "/competitions/{competitionId}", Function: FnCompetitions, Roles: officers,
			Summary: "Edit a draft, or amend a published competition before its deadline with a reason (material amendments notify all invitees)",
			Request: competitionRequest{}, Response: procurement.Competition{}, handle: func(c *call) (any, error) {
				var in competitionRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				return c.s.Store.AmendCompetition(c.r.Context(), c.actor, c.path("competitionId"), in.Version, in.Definition, in.Reason)
			}},
		{Method: "POST", Path: "/competitions/{competitionId}/publication", Function: FnCompetitions, Roles: officers,
			Summary: "Publish: invite every provider admitted and not suspended in the category, at one moment", Request: versionRequest{}, Response: procurement.Competition{},
			handle: func(c *call) (any, error) {
				var in versionRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				return c.s.Store.PublishCompetition(c.r.Context(), c.actor, c.path("competitionId"), in.Version)
			}},
		{Method: "POST", Path: "/competitions/{competitionId}/cancellation", Function: FnCompetitions, Roles: officers,
			Summary: "Cancel with a reason at any point before award", Request: reasonRequest{}, Response: procurement.Competition{},
			handle: func(c *call) (any, error) {
				var in reasonRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				return c.s.Store.CancelCompetition(c.r.Context(), c.actor, c.path("competitionId"), in.Version, in.Reason)
			}},
		{Method: "POST", Path: "/competitions/{competitionId}/questions", Function: FnCompetitions, Roles: providers,
			Summary: "Ask a clarification question before the question deadline (the asker stays hidden from other providers)",
			Request: questionRequest{}, Response: procurement.Question{}, Created: true, handle: func(c *call) (any, error) {
				var in questionRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				return c.s.Store.AskQuestion(c.r.Context(), c.actor, c.path("competitionId"), in.Question)
			}},
		{Method: "GET", Path: "/competitions/{competitionId}/questions", Function: FnCompetitions, Roles: everyone,
			Summary:  "List questions: officers and auditors see all with askers; providers see answered ones and their own, never the asker",
			Response: dynamo.Page[procurement.Question]{}, Query: pageParams, handle: func(c *call) (any, error) {
				if _, err := c.competition(); err != nil {
					return nil, err
				}
				cur, lim, err := c.page()
				if err != nil {
					return nil, err
				}
				p, err := c.s.Store.ListQuestions(c.r.Context(), c.path("competitionId"), cur, lim)
				if err != nil || !c.actor.Is(procurement.RoleProvider) {
					return p, err
				}
				visible := p.Items[:0]
				for _, q := range p.Items {
					if q.AnsweredAt != nil || q.AskedBy == c.actor.Org {
						visible = append(visible, q.ForProvider())
					}
				}
				p.Items = visible
				return p, nil
			}},
		{Method: "POST", Path: "/competitions/{competitionId}/questions/{questionId}/answer", Function: FnCompetitions, Roles: officers,
			Summary: "Publish the answer to every invitee, without the asker's identity", Request: answerRequest{}, Response: procurement.Question{},
			handle: func(c *call) (any, error) {
				var in answerRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				return c.s.Store.AnswerQuestion(c.r.Context(), c.actor, c.path("competitionId"), c.path("questionId"), in.Version, in.Answer)
			}},
		{Method: "PUT", Path: "/competitions/{competitionId}/bids/mine", Function: FnCompetitions, Roles: providers,
			Summary: "Submit (version 0) or replace your sealed bid before the deadline; send an Idempotency-Key header to make retries safe",
			Request: bidRequest{}, Response: procurement.Bid{}, MayCreate: true, handle: func(c *call) (any, error) {
				var in bidRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				key := c.r.Header.Get("Idempotency-Key")
				if len(key) > 100 {
					return nil, procurement.Invalid("Idempotency-Key", "must be at most 100 characters (a UUID is a good key)")
				}
				body, _ := json.Marshal(in)
				res, err := c.s.Store.WriteBid(c.r.Context(), c.actor, c.path("competitionId"), in.Version, key, digest(body),
					func(comp *procurement.Competition, prev *procurement.Bid, now time.Time) (*procurement.Bid, string, error) {
						b, err := comp.PlaceBid(prev, c.actor.Org, in.Offer, now)
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
				if _, err := c.competition(); err != nil {
					return nil, err
				}
				return c.s.Store.GetBid(c.r.Context(), c.path("competitionId"), c.actor.Org)
			}},
		{Method: "POST", Path: "/competitions/{competitionId}/bids/mine/withdrawal", Function: FnCompetitions, Roles: providers,
			Summary: "Withdraw your bid before the deadline", Request: versionRequest{}, Response: procurement.Bid{},
			handle: func(c *call) (any, error) {
				var in versionRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				res, err := c.s.Store.WriteBid(c.r.Context(), c.actor, c.path("competitionId"), in.Version, "", "",
					func(comp *procurement.Competition, prev *procurement.Bid, now time.Time) (*procurement.Bid, string, error) {
						if prev == nil {
							if _, err := comp.CheckBidding(c.actor.Org, now); err != nil {
								return nil, "", err
							}
							return nil, "", procurement.Errorf(procurement.ENOTFOUND, "you have no bid to withdraw")
						}
						b := *prev
						return &b, "bid.withdrawn", comp.Withdraw(&b, now)
					})
				return res.Bid, err
			}},
		{Method: "GET", Path: "/competitions/{competitionId}/bids", Function: FnCompetitions, Roles: officersAudit,
			Summary:  "List the bids after the deadline (officers: after declaring no conflict of interest). Before it the answer is the same whether or not bids exist",
			Response: dynamo.Page[procurement.Bid]{}, Query: pageParams, Statuses: []int{409}, handle: func(c *call) (any, error) {
				comp, err := c.competition()
				if err != nil {
					return nil, err
				}
				sealed := procurement.Errorf(procurement.ECONFLICT, "bids are sealed until the deadline %s (server time)", comp.BidDeadline.UTC().Format(time.RFC3339))
				switch {
				case comp.Status == procurement.CompDraft || comp.Status == procurement.CompPublished:
					return nil, sealed
				case comp.Status == procurement.CompCancelled && comp.Opening == nil:
					return nil, sealed // cancelled before the deadline: bids are never opened
				case c.actor.Is(procurement.RoleOfficer):
					if err := comp.CheckEvaluator(c.actor); err != nil {
						return nil, err
					}
				}
				cur, lim, err := c.page()
				if err != nil {
					return nil, err
				}
				return c.s.Store.ListBids(c.r.Context(), comp.ID, cur, lim)
			}},
		{Method: "POST", Path: "/competitions/{competitionId}/conflict-declarations", Function: FnCompetitions, Roles: officers,
			Summary: "Declare no conflict of interest before seeing and scoring the bids", Request: conflictRequest{}, Response: procurement.Competition{}, Created: true,
			handle: func(c *call) (any, error) {
				var in conflictRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				// The store loads the competition and checks the officer's buyer.
				return c.s.Store.DeclareNoConflict(c.r.Context(), c.actor, c.path("competitionId"), in.Statement)
			}},
		{Method: "POST", Path: "/competitions/{competitionId}/bids/{providerId}/scores", Function: FnCompetitions, Roles: officers,
			Summary: "Score one quality criterion of a bid 0-5 with a written reason", Request: scoreRequest{}, Response: procurement.Bid{},
			handle: func(c *call) (any, error) {
				var in scoreRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				return c.s.Store.UpdateBidEvaluation(c.r.Context(), c.actor, c.path("competitionId"), c.path("providerId"), in.Version, "bid.scored",
					func(comp *procurement.Competition, b *procurement.Bid) error {
						return comp.ScoreBid(c.actor, b, in.Criterion, *in.Score, in.Reason, c.s.Store.Now())
					})
			}},
		{Method: "POST", Path: "/competitions/{competitionId}/bids/{providerId}/rejection", Function: FnCompetitions, Roles: officers,
			Summary: "Reject a bid with a reason (e.g. incomplete)", Request: reasonRequest{}, Response: procurement.Bid{},
			handle: func(c *call) (any, error) {
				var in reasonRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				return c.s.Store.UpdateBidEvaluation(c.r.Context(), c.actor, c.path("competitionId"), c.path("providerId"), in.Version, "bid.rejected",
					func(comp *procurement.Competition, b *procurement.Bid) error {
						return comp.RejectBid(c.actor, b, in.Reason, c.s.Store.Now())
					})
			}},
		{Method: "GET", Path: "/competitions/{competitionId}/evaluation", Function: FnCompetitions, Roles: officersAudit,
			Summary:  "Preview the comparison with the scores so far (ties shown with a preview lot; the award draws its own recorded seed)",
			Response: scoring.Outcome{}, Statuses: []int{409}, handle: func(c *call) (any, error) {
				comp, err := c.competition()
				if err != nil {
					return nil, err
				}
				if c.actor.Is(procurement.RoleOfficer) {
					if err := comp.CheckEvaluator(c.actor); err != nil {
						return nil, err
					}
				} else if comp.Opening == nil {
					return nil, procurement.Errorf(procurement.ECONFLICT, "bids are sealed until the deadline")
				}
				bids, err := c.s.Store.AllBids(c.r.Context(), comp.ID)
				if err != nil {
					return nil, err
				}
				return comp.Compare(bids, "preview"), nil
			}},
		{Method: "POST", Path: "/competitions/{competitionId}/award", Function: FnCompetitions, Roles: officers,
			Summary: "Confirm the award decision: ranking, every number for every bid, winners and their places, reasons, appeal instructions",
			Request: awardRequest{}, Response: procurement.Competition{}, handle: func(c *call) (any, error) {
				var in awardRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				return c.s.Store.Award(c.r.Context(), c.actor, c.path("competitionId"), in.Version, in.Reasons)
			}},
		{Method: "GET", Path: "/competitions/{competitionId}/decision", Function: FnCompetitions, Roles: everyone,
			Summary: "Read the award decision (bidders: their own scores and the winners')", Response: procurement.AwardDecision{},
			handle: func(c *call) (any, error) {
				comp, err := c.competition()
				if err != nil {
					return nil, err
				}
				if comp.Decision == nil {
					return nil, procurement.Errorf(procurement.ENOTFOUND, "no award decision yet; the competition is %s", comp.Status)
				}
				return c.view(comp).Decision, nil
			}},
	}
}

// created marks a value to be answered with 201 Created.
type created struct{ v any }
