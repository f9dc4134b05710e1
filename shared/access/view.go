package access

import (
	"slices"
	"time"

	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/scoring"
)

// CompetitionView returns the competition as the actor may see it. Who may
// see the internals (invitees, conflict declarations, the drafting
// officer) gets them; everyone else gets the public notice. The decision is
// cut to what Decision allows: in full for who may see the evaluation, the
// winners and the reader's own bid for everyone else. A published
// competition past its deadline shows as closed until it is opened.
func CompetitionView(a *procurement.Actor, c *procurement.Competition, now time.Time) *procurement.Competition {
	v := *c
	if CompetitionState(c, now) == Closed {
		v.Status = procurement.CompClosed
	}
	if !AskCompetition(a, Internals, c, now).Can(See) {
		v.Invitees, v.Conflicts, v.CreatedBy = []string{}, []procurement.ConflictDeclaration{}, ""
	}
	if c.Decision != nil {
		v.Decision = DecisionView(a, c, now)
	}
	return &v
}

// DecisionView returns the award decision as the actor may see it, or nil.
func DecisionView(a *procurement.Actor, c *procurement.Competition, now time.Time) *procurement.AwardDecision {
	if c.Decision == nil || !AskCompetition(a, Decision, c, now).Can(See) {
		return nil
	}
	if AskCompetition(a, Evaluation, c, now).Can(See) {
		return c.Decision
	}
	d := *c.Decision
	own := ""
	if a != nil && a.Is(procurement.RoleProvider) {
		own = a.Org
	}
	d.Comparison.Results = slices.DeleteFunc(slices.Clone(d.Comparison.Results), func(r scoring.Result) bool {
		return r.Bid != own && !slices.Contains(d.Comparison.Winners, r.Bid)
	})
	return &d
}

// QuestionView returns a clarification question as the actor may see it,
// and whether it may see it at all: with its asker for who may see the
// internals; otherwise only answered questions and the provider's own, never
// with the asker.
func QuestionView(a *procurement.Actor, c *procurement.Competition, q procurement.Question, now time.Time) (procurement.Question, bool) {
	if AskCompetition(a, Internals, c, now).Can(See) {
		return q, true
	}
	if q.AnsweredAt != nil || (a != nil && a.Is(procurement.RoleProvider) && q.AskedBy == a.Org) {
		return q.ForProvider(), true
	}
	return q, false
}
