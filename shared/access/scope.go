package access

import (
	"slices"
	"time"

	"github.com/rengas/rengas/shared/outcomes"
	"github.com/rengas/rengas/shared/procurement"
)

// Scope is what the rules need to know of an entity: whom it belongs to.
type Scope struct {
	// Buyers are the buyers of the DPS the entity lives in.
	Buyers []string
	// Runner is the buyer that runs a mini-competition; empty for what
	// belongs to the DPS as a whole.
	Runner string
	// Providers are the providers the entity concerns: the applicant, the
	// invitees, the bidder, the addressee.
	Providers []string
}

// RelationOf returns how the actor stands to an entity of the scope. A nil
// actor is the public.
func RelationOf(a *procurement.Actor, s Scope) Relation {
	switch {
	case a == nil:
		return Public
	case a.Is(procurement.RoleAuditor):
		return Auditor
	case a.Is(procurement.RoleProvider):
		if slices.Contains(s.Providers, a.Org) {
			return OwnProvider
		}
		return OtherProvider
	case a.Is(procurement.RoleOfficer):
		switch {
		case s.Runner != "" && a.Org == s.Runner:
			return OwnBuyer
		case slices.Contains(s.Buyers, a.Org):
			if s.Runner == "" {
				return OwnBuyer
			}
			return RingBuyer
		}
		return Outsider
	}
	return Public
}

// Verdict is the answer of the rules to one actor about one entity.
type Verdict struct {
	Entity   Entity
	State    State
	Relation Relation
	Allowed  Ability
}

// Ask returns what the actor may do with an entity of the scope in the state.
func Ask(a *procurement.Actor, e Entity, s State, sc Scope) Verdict {
	r := RelationOf(a, sc)
	return Verdict{Entity: e, State: s, Relation: r, Allowed: Allowed(e, s, r)}
}

// Can reports whether the verdict allows every ability in need.
func (v Verdict) Can(need Ability) bool { return v.Allowed&need == need }

// Require returns nil if the verdict allows need. Otherwise it returns
// notFound when the actor may not even know of the entity (the very answer
// a missing one gets); ECONFLICT when the actor could do this in another
// state of the entity (the state forbids it now, e.g. bids are closed);
// and EFORBIDDEN when it may know of the entity but never do this.
func (v Verdict) Require(need Ability, notFound error) error {
	switch {
	case v.Can(need):
		return nil
	case !v.Can(Know):
		return notFound
	case everAllowed(v.Entity, v.Relation, need):
		return procurement.Errorf(procurement.ECONFLICT, "this %s is %s: in this state it cannot be %s", v.Entity, v.State, participle(need))
	}
	return procurement.Errorf(procurement.EFORBIDDEN, "as %s you may not %s this %s", v.Relation, verb(need), v.Entity)
}

// everAllowed reports whether any state of the entity allows the relation need.
func everAllowed(e Entity, r Relation, need Ability) bool {
	for _, rule := range Rules {
		if rule.Entity == e && rule.Allow[r]&need == need {
			return true
		}
	}
	return false
}

func participle(a Ability) string {
	if a&Act != 0 {
		return "changed"
	}
	return "read"
}

func verb(a Ability) string {
	if a&Act != 0 {
		return "change"
	}
	return "see"
}

// NotFound is the answer for an entity that does not exist or that the
// caller may not know of: the same text either way.
func NotFound(e Entity, id string) error {
	return procurement.Errorf(procurement.ENOTFOUND, "no %s %q", e, id)
}

// CompetitionState returns the state the rules see a mini-competition in at
// the time: a published one past its deadline is Closed until it is opened.
func CompetitionState(c *procurement.Competition, now time.Time) State {
	switch c.Status {
	case procurement.CompDraft:
		return Draft
	case procurement.CompPublished:
		if c.DeadlinePassed(now) {
			return Closed
		}
		return Published
	case procurement.CompEvaluation:
		return InEvaluation
	case procurement.CompAwarded:
		return Awarded
	case procurement.CompCancelled:
		switch {
		case c.PublishedAt == nil:
			return CancelledUnpublished
		case c.Opening != nil:
			return CancelledOpened
		}
		return Cancelled
	}
	return State(c.Status)
}

// CompetitionScope is the scope of a mini-competition: its DPS's buyers,
// the buyer running it, and its invitees.
func CompetitionScope(c *procurement.Competition) Scope {
	return Scope{Buyers: c.DPSBuyers, Runner: c.Buyer, Providers: c.Invitees}
}

// AskCompetition returns the verdict on a part of a mini-competition.
func AskCompetition(a *procurement.Actor, e Entity, c *procurement.Competition, now time.Time) Verdict {
	return Ask(a, e, CompetitionState(c, now), CompetitionScope(c))
}

// BidScope is the scope of one provider's bid in a competition.
func BidScope(c *procurement.Competition, provider string) Scope {
	s := Scope{Buyers: c.DPSBuyers, Runner: c.Buyer}
	if c.Invited(provider) {
		s.Providers = []string{provider}
	}
	return s
}

// DPSScope is the scope of a DPS and what belongs to it as a whole.
func DPSScope(d *procurement.DPS, providers ...string) Scope {
	return Scope{Buyers: d.Buyers, Providers: providers}
}

// NeedsScope reports whether the actor's relation to an entity depends on
// the entity's scope. The auditors' and the public's do not, so what they
// read needs no extra read to place them.
func NeedsScope(a *procurement.Actor) bool {
	return a != nil && (a.Is(procurement.RoleOfficer) || a.Is(procurement.RoleProvider))
}

// FileState returns the state the rules see an uploaded file in.
func FileState(f *procurement.File) State {
	switch f.Status {
	case procurement.FileAwaiting:
		return FileAwaiting
	case procurement.FileRefused:
		return FileRefused
	}
	switch f.Scan {
	case procurement.ScanClean:
		return ScanClean
	case procurement.ScanNone:
		return NotScanned
	case procurement.ScanThreat:
		return ScanThreat
	case procurement.ScanFailed:
		return ScanFailed
	}
	return ScanPending
}

// AskFile returns the verdict on a file reached by its own id: the
// uploading organisation is its own provider.
func AskFile(a *procurement.Actor, f *procurement.File) Verdict {
	return Ask(a, File, FileState(f), Scope{Providers: []string{f.Owner}})
}

// AskAttachment returns the verdict on a file attached to a record of the
// scope, once the record's own rules let the caller see it.
func AskAttachment(a *procurement.Actor, f *procurement.File, recordScope Scope) Verdict {
	return Ask(a, Attachment, FileState(f), recordScope)
}

// ContractState returns the state the rules see an outcome contract in.
func ContractState(k *outcomes.Contract) State { return State("contract-" + string(k.Status)) }

// ContractScope is the scope of an outcome contract: the DPS's buyers, the
// buyer that ran the competition, and the winner.
func ContractScope(k *outcomes.Contract) Scope {
	return Scope{Buyers: k.DPSBuyers, Runner: k.Buyer, Providers: []string{k.ProviderID}}
}

// AskContract returns the verdict on a part of an outcome contract.
func AskContract(a *procurement.Actor, e Entity, k *outcomes.Contract) Verdict {
	return Ask(a, e, ContractState(k), ContractScope(k))
}
