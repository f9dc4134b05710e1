package httpapi

import (
	"github.com/rengas/rengas/shared/access"
	"github.com/rengas/rengas/shared/procurement"
)

// Every operation asks package access before it answers anything that
// depends on hidden state. These helpers load what the rules need and ask.

// who returns the caller for the rules: nil on public routes.
func (c *call) who() *procurement.Actor {
	if c.actor.Role == "" {
		return nil
	}
	return &c.actor
}

// competitionMay returns the check of a part of a mini-competition that a
// store operation runs right after loading it.
func (c *call) competitionMay(e access.Entity, need access.Ability) func(*procurement.Competition) error {
	return func(comp *procurement.Competition) error {
		return c.mayCompetition(comp, e, need)
	}
}

// mayCompetition asks the rules about a part of a competition. The caller
// must first be allowed to know of the competition itself; otherwise the
// answer is the one a missing competition gets.
func (c *call) mayCompetition(comp *procurement.Competition, e access.Entity, need access.Ability) error {
	if err := c.knowCompetition(comp); err != nil {
		return err
	}
	return access.AskCompetition(c.who(), e, comp, c.s.Store.Now()).Require(need, access.NotFound(e, comp.ID))
}

// knowCompetition refuses, as missing, a competition the caller may not know of.
func (c *call) knowCompetition(comp *procurement.Competition) error {
	return access.AskCompetition(c.who(), access.Competition, comp, c.s.Store.Now()).Require(access.Know, access.NotFound(access.Competition, comp.ID))
}

// competition loads the competition in the path and asks the rules about a
// part of it. Reading never writes.
func (c *call) competition(e access.Entity, need access.Ability) (*procurement.Competition, error) {
	comp, err := c.s.Store.ReadCompetition(c.r.Context(), c.path("competitionId"))
	if err != nil {
		return nil, err
	}
	return comp, c.mayCompetition(comp, e, need)
}

// bidMay checks one provider's bid in a competition.
func (c *call) bidMay(provider string, need access.Ability) func(*procurement.Competition) error {
	return func(comp *procurement.Competition) error {
		if err := c.knowCompetition(comp); err != nil {
			return err
		}
		// A bid is judged in the state the competition was in when the
		// request was received: one received before the deadline is on
		// time however late it is processed.
		v := access.Ask(c.who(), access.Bid, access.CompetitionState(comp, c.received), access.BidScope(comp, provider))
		err := v.Require(need, access.NotFound(access.Bid, provider))
		if need == access.Act && procurement.ErrorCode(err) == procurement.ECONFLICT && c.actor.Is(procurement.RoleProvider) && c.actor.Org == provider {
			// Tell the bidder the deadline and when its request was received.
			if cerr := comp.CheckBidding(provider, c.received); cerr != nil {
				return cerr
			}
		}
		return err
	}
}

// dpsMay checks something that belongs to a DPS as a whole.
func (c *call) dpsMay(e access.Entity, need access.Ability, providers ...string) func(*procurement.DPS) error {
	return func(d *procurement.DPS) error {
		return access.Ask(c.who(), e, access.Any, access.DPSScope(d, providers...)).Require(need, access.NotFound(e, d.ID))
	}
}

// dps loads the DPS in the path and asks the rules about e in it.
func (c *call) dps(e access.Entity, need access.Ability) (*procurement.DPS, error) {
	return c.dpsNamed(c.path("dpsId"), e, need)
}

// dpsNamed loads the DPS id and asks the rules about e in it. The DPS is
// read only when the caller's relation depends on it (then it is returned).
func (c *call) dpsNamed(id string, e access.Entity, need access.Ability) (*procurement.DPS, error) {
	if !access.NeedsScope(c.who()) {
		return nil, access.Ask(c.who(), e, access.Any, access.Scope{}).Require(need, access.NotFound(e, id))
	}
	d, err := c.s.Store.GetDPS(c.r.Context(), id)
	if err != nil {
		return nil, err
	}
	return d, c.dpsMay(e, need)(d)
}

// dpsCache remembers the DPSs one request has read, for lists that span them.
type dpsCache map[string]*procurement.DPS

// visibleIn reports whether the caller may see e of the DPS id (about the
// provider), reading each DPS once per request.
func (c *call) visibleIn(cache dpsCache, id string, e access.Entity, provider string) (bool, error) {
	if !access.NeedsScope(c.who()) {
		return access.Ask(c.who(), e, access.Any, access.Scope{}).Can(access.See), nil
	}
	d, ok := cache[id]
	if !ok {
		var err error
		if d, err = c.s.Store.GetDPS(c.r.Context(), id); err != nil {
			return false, err
		}
		cache[id] = d
	}
	return access.Ask(c.who(), e, access.Any, access.DPSScope(d, provider)).Can(access.See), nil
}
