package web

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rengas/rengas/shared/procurement"
)

// Drafting a mini-competition is a series of question pages, then a
// check-answers page, then "publish and invite all". The pages keep no
// state of their own: the draft so far travels in the form as the API's
// own Definition (a hidden field), and only publishing writes anything.

// draftSteps are the question pages in order.
var draftSteps = []string{"basics", "milestones", "segments", "weights", "deadlines"}

type draftPage struct {
	DPS   procurement.DPS
	Def   procurement.Definition
	State string
	Step  string
	Steps []string
	Form  map[string]string
	// Weights of the DPS's award criteria, by id, as typed.
	Criteria []draftCriterion
	// Action is the path the question pages post to: a new draft's, or
	// an amendment's when Comp is the competition being amended.
	Action string
	Comp   *procurement.Competition
}

// StepNo is the question page's number, from 1.
func (p *draftPage) StepNo() int { return slices.Index(p.Steps, p.Step) + 1 }

// Mandatory reports a milestone that cannot be removed.
func (p *draftPage) Mandatory(id string) bool { return mandatoryMilestone(id) }

// CanAddMilestone and CanAddSegment offer "add another" below the limits.
func (p *draftPage) CanAddMilestone() bool { return len(p.Def.Milestones) < maxMilestones }

func (p *draftPage) CanAddSegment() bool { return len(p.Def.Segments) < maxSegments }

type draftCriterion struct {
	ID, Description, Weight string
}

func encodeDraft(d procurement.Definition) string {
	b, _ := json.Marshal(d)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeDraft(s string) (procurement.Definition, bool) {
	var d procurement.Definition
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &d) != nil {
		return procurement.Definition{}, false
	}
	return d, true
}

// newDefinition starts a draft with the milestones every outcome-based
// competition counts and sensible defaults the officer can change.
func (q *req) newDefinition(d procurement.DPS) procurement.Definition {
	now := q.h.now().In(helsinki)
	def := procurement.Definition{
		Places: 20, Awards: 1, PriceWeight: 40, MaxOutcomeShare: 5000, BudgetCeilingCents: 0,
		Milestones: []procurement.Milestone{
			{ID: procurement.MilestoneEmployed, Name: q.T("draft.defaultEmployed"), Pricing: "offered", ExpectedRate: 2500},
			{ID: procurement.MilestoneVocational, Name: q.T("draft.defaultVocational"), Pricing: "tariff", TariffCents: 80000, ExpectedRate: 1500},
		},
		Segments:         []procurement.Segment{},
		ServiceArea:      []string{},
		QuestionDeadline: time.Date(now.Year(), now.Month(), now.Day()+7, 12, 0, 0, 0, helsinki),
		BidDeadline:      time.Date(now.Year(), now.Month(), now.Day()+d.Settings.MinTenderDays+2, 12, 0, 0, 0, helsinki),
	}
	if len(d.Categories) > 0 {
		def.Category = d.Categories[0].ID
	}
	return def
}

func (q *req) draftDPS() (procurement.DPS, error) {
	var d procurement.DPS
	err := q.get("/dps/"+q.r.PathValue("dps"), nil, &d)
	return d, err
}

func (q *req) draftView(d procurement.DPS, def procurement.Definition, step string) *draftPage {
	p := &draftPage{DPS: d, Def: def, State: encodeDraft(def), Step: step, Steps: draftSteps, Form: map[string]string{},
		Action: "/dps/" + d.ID + "/competitions/new"}
	for _, id := range d.QualityCriteria {
		c := draftCriterion{ID: id, Description: q.h.cat.T(q.lang, codeKey("criterion", id), nil)}
		for _, x := range def.QualityCriteria {
			if x.ID == id {
				c.Description, c.Weight = x.Description, strconv.Itoa(x.Weight)
			}
		}
		p.Criteria = append(p.Criteria, c)
	}
	return p
}

func (q *req) draftStart() error {
	d, err := q.draftDPS()
	if err != nil {
		return err
	}
	return q.renderDraft(200, q.draftView(d, q.newDefinition(d), "basics"), nil)
}

func (q *req) renderDraft(status int, p *draftPage, errs []fieldError) error {
	name, title := "draft", "draft.title."+p.Step
	if p.Step == "check" {
		name, title = "draftcheck", "draftcheck.title"
	}
	return q.render(status, name, title, p, errs)
}

// draftStep reads one question page and shows the next, or the same page
// with its errors; "goto" jumps to a page (the check page's Change).
func (q *req) draftStep() error {
	d, err := q.draftDPS()
	if err != nil {
		return err
	}
	def, ok := decodeDraft(q.r.PostFormValue("state"))
	if !ok {
		def = q.newDefinition(d)
	}
	return q.questionStep(d, def, func(p *draftPage) *draftPage { return p })
}

// questionStep reads one question page, of a new draft or an amendment
// (view sets the page's action and competition).
func (q *req) questionStep(d procurement.DPS, def procurement.Definition, view func(*draftPage) *draftPage) error {
	if to := q.r.PostFormValue("goto"); to != "" && (slices.Contains(draftSteps, to) || to == "check") {
		return q.renderDraft(200, view(q.draftView(d, def, to)), nil)
	}
	step := q.r.PostFormValue("step")
	if !slices.Contains(draftSteps, step) {
		step = "basics"
	}
	// "Add another" and "Remove" re-render the same page with one row more
	// or less, keeping what was typed; the rows are checked on Continue.
	if add, remove := q.r.PostFormValue("add"), q.r.PostFormValue("remove"); (add != "" || remove != "") && (step == "milestones" || step == "segments") {
		q.readStep(d, &def, step)
		editRows(&def, add, remove)
		return q.renderDraft(200, view(q.draftView(d, def, step)), nil)
	}
	errs := q.readStep(d, &def, step)
	p := view(q.draftView(d, def, step))
	if errs != nil {
		for k := range q.r.PostForm {
			p.Form[k] = q.r.PostFormValue(k)
		}
		return q.renderDraft(400, p, errs)
	}
	next := "check"
	if i := slices.Index(draftSteps, step); i+1 < len(draftSteps) {
		next = draftSteps[i+1]
	}
	p.Step = next
	return q.renderDraft(200, p, nil)
}

// readStep reads the fields of one question page into the definition.
func (q *req) readStep(d procurement.DPS, def *procurement.Definition, step string) []fieldError {
	f := func(k string) string { return strings.TrimSpace(q.r.PostFormValue(k)) }
	var errs []fieldError
	bad := func(id, key string) { errs = append(errs, fieldError{ID: id, Text: q.T(key)}) }
	whole := func(id string, dst *int, lo, hi int, key string) {
		n, err := strconv.Atoi(f(id))
		if err != nil || n < lo || n > hi {
			bad(id, key)
			return
		}
		*dst = n
	}
	switch step {
	case "basics":
		def.Category = f("category")
		if _, ok := d.Category(def.Category); !ok {
			bad("category-"+firstCategory(d), "draft.categoryMissing")
		}
		def.Title, def.Description, def.TargetGroup = f("title"), f("description"), f("targetGroup")
		for _, x := range []struct{ id, v, key string }{
			{"title", def.Title, "draft.titleMissing"}, {"description", def.Description, "draft.descriptionMissing"}, {"targetGroup", def.TargetGroup, "draft.targetGroupMissing"}} {
			if x.v == "" {
				bad(x.id, x.key)
			}
		}
		def.ServiceArea = nil
		for _, a := range strings.Split(f("serviceArea"), ",") {
			if a = strings.TrimSpace(a); a != "" {
				def.ServiceArea = append(def.ServiceArea, a)
			}
		}
		if len(def.ServiceArea) == 0 {
			bad("serviceArea", "draft.serviceAreaMissing")
		}
		whole("places", &def.Places, 1, 100000, "draft.placesInvalid")
		def.ContractStart, def.ContractEnd = f("contractStart"), f("contractEnd")
		if _, err := time.Parse(time.DateOnly, def.ContractStart); err != nil {
			bad("contractStart", "draft.dateInvalid")
		}
		if _, err := time.Parse(time.DateOnly, def.ContractEnd); err != nil {
			bad("contractEnd", "draft.dateInvalid")
		} else if def.ContractEnd < def.ContractStart {
			bad("contractEnd", "draft.endBeforeStart")
		}
	case "milestones":
		for i := range def.Milestones {
			m := &def.Milestones[i]
			p := "m-" + m.ID + "-"
			if n := f(p + "name"); n != "" {
				m.Name = n
			} else {
				bad(p+"name", "draft.milestoneNameMissing")
			}
			m.Pricing = f(p + "pricing")
			if m.Pricing != "tariff" && m.Pricing != "offered" {
				m.Pricing = "offered"
			}
			m.TariffCents = 0
			if m.Pricing == "tariff" {
				if c, ok := parseEuros(f(p + "tariff")); ok && c > 0 {
					m.TariffCents = c
				} else {
					bad(p+"tariff", "draft.tariffInvalid")
				}
			}
			if r, ok := parsePercent(f(p + "rate")); ok {
				m.ExpectedRate = procurement.Rate(r)
			} else {
				bad(p+"rate", "draft.rateInvalid")
			}
		}
		// A segment's own tariff exists only for a tariff milestone.
		for _, s := range def.Segments {
			for _, m := range def.Milestones {
				if m.Pricing != "tariff" {
					delete(s.TariffsCents, m.ID)
				}
			}
		}
	case "segments":
		for i := range def.Segments {
			s := &def.Segments[i]
			p := "s-" + s.ID + "-"
			if n := f(p + "name"); n != "" {
				s.Name = n
			} else {
				s.Name = ""
				bad(p+"name", "draft.segmentNameMissing")
			}
			if r, ok := parsePercent(f(p + "share")); ok && r > 0 {
				s.PlacesShare = procurement.Rate(r)
			} else {
				bad(p+"share", "draft.shareInvalid")
			}
			s.ExpectedRates, s.TariffsCents = map[string]procurement.Rate{}, map[string]int64{}
			for _, m := range def.Milestones {
				if v := f(p + "rate-" + m.ID); v != "" {
					if r, ok := parsePercent(v); ok {
						s.ExpectedRates[m.ID] = procurement.Rate(r)
					} else {
						bad(p+"rate-"+m.ID, "draft.rateInvalid")
					}
				}
				if v := f(p + "tariff-" + m.ID); v != "" && m.Pricing == "tariff" {
					if c, ok := parseEuros(v); ok && c > 0 {
						s.TariffsCents[m.ID] = c
					} else {
						bad(p+"tariff-"+m.ID, "draft.tariffInvalid")
					}
				}
			}
		}
	case "weights":
		if c, ok := parseEuros(f("ceiling")); ok && c > 0 {
			def.BudgetCeilingCents = c
		} else {
			bad("ceiling", "draft.ceilingInvalid")
		}
		if r, ok := parsePercent(f("outcomeShare")); ok && r > 0 {
			def.MaxOutcomeShare = procurement.Rate(r)
		} else {
			bad("outcomeShare", "draft.shareInvalid")
		}
		whole("priceWeight", &def.PriceWeight, 0, 100, "draft.weightInvalid")
		def.QualityCriteria = nil
		sum := def.PriceWeight
		for _, id := range d.QualityCriteria {
			w := f("weight-" + id)
			if w == "" || w == "0" {
				continue
			}
			n, err := strconv.Atoi(w)
			if err != nil || n < 1 || n > 100 {
				bad("weight-"+id, "draft.weightInvalid")
				continue
			}
			desc := f("desc-" + id)
			if desc == "" {
				desc = q.h.cat.T(q.lang, codeKey("criterion", id), nil)
			}
			sum += n
			def.QualityCriteria = append(def.QualityCriteria, procurement.QualityCriterion{ID: id, Description: desc, Weight: n})
		}
		if sum != 100 && errs == nil {
			errs = append(errs, fieldError{ID: "priceWeight", Text: q.h.cat.T(q.lang, "draft.weightsSum", map[string]any{"Sum": sum})})
		}
		whole("minQuality", &def.MinQualityPoints, 0, 100, "draft.minQualityInvalid")
		whole("awards", &def.Awards, 1, 50, "draft.awardsInvalid")
	case "deadlines":
		for _, x := range []struct {
			id  string
			dst *time.Time
		}{{"questionDeadline", &def.QuestionDeadline}, {"bidDeadline", &def.BidDeadline}} {
			t, err := time.ParseInLocation("2006-01-02 15:04", f(x.id+"Date")+" "+f(x.id+"Time"), helsinki)
			if err != nil {
				bad(x.id+"Date", "draft.deadlineInvalid")
				continue
			}
			// The form shows minutes: an unchanged deadline keeps its
			// exact time (an amendment may only extend a deadline).
			if !t.Equal(x.dst.Truncate(time.Minute)) {
				*x.dst = t
			}
		}
		if errs == nil && !def.QuestionDeadline.Before(def.BidDeadline) {
			bad("questionDeadlineDate", "draft.questionAfterBid")
		}
	}
	return errs
}

// The API's limits on a definition's rows.
const (
	maxMilestones = 20
	maxSegments   = 10
)

// mandatoryMilestone reports a milestone every competition counts: it has
// no Remove button.
func mandatoryMilestone(id string) bool {
	return id == procurement.MilestoneEmployed || id == procurement.MilestoneVocational
}

// editRows adds a milestone or segment row ("milestone", "segment") or
// removes one ("m-<id>", "s-<id>"). A new row gets the first free id; a
// removed milestone leaves the segments' rates and tariffs too.
func editRows(def *procurement.Definition, add, remove string) {
	free := func(prefix string, used func(string) bool) string {
		for n := 1; ; n++ {
			if id := prefix + strconv.Itoa(n); !used(id) {
				return id
			}
		}
	}
	switch {
	case add == "milestone" && len(def.Milestones) < maxMilestones:
		id := free("outcome-", func(id string) bool {
			return slices.ContainsFunc(def.Milestones, func(m procurement.Milestone) bool { return m.ID == id })
		})
		def.Milestones = append(def.Milestones, procurement.Milestone{ID: id, Pricing: "offered"})
	case add == "segment" && len(def.Segments) < maxSegments:
		id := free("segment-", func(id string) bool {
			return slices.ContainsFunc(def.Segments, func(s procurement.Segment) bool { return s.ID == id })
		})
		def.Segments = append(def.Segments, procurement.Segment{ID: id, ExpectedRates: map[string]procurement.Rate{}, TariffsCents: map[string]int64{}})
	case strings.HasPrefix(remove, "m-") && !mandatoryMilestone(remove[2:]):
		id := remove[2:]
		def.Milestones = slices.DeleteFunc(def.Milestones, func(m procurement.Milestone) bool { return m.ID == id })
		for _, s := range def.Segments {
			delete(s.ExpectedRates, id)
			delete(s.TariffsCents, id)
		}
	case strings.HasPrefix(remove, "s-"):
		id := remove[2:]
		def.Segments = slices.DeleteFunc(def.Segments, func(s procurement.Segment) bool { return s.ID == id })
	}
}

func firstCategory(d procurement.DPS) string {
	if len(d.Categories) > 0 {
		return d.Categories[0].ID
	}
	return ""
}

// draftFieldID maps the API's fields to the check page's Change buttons.
func draftFieldID(field string) string {
	switch {
	case strings.HasPrefix(field, "milestones"):
		return "change-milestones"
	case strings.HasPrefix(field, "segments"):
		return "change-segments"
	case strings.HasPrefix(field, "questionDeadline"), strings.HasPrefix(field, "bidDeadline"):
		return "change-deadlines"
	case slices.Contains([]string{"budgetCeilingCents", "maxOutcomeShare", "priceWeight", "minQualityPoints", "awards"}, field), strings.HasPrefix(field, "qualityCriteria"):
		return "change-weights"
	}
	return "change-basics"
}

// draftPublish creates the competition through the API and publishes it:
// every provider admitted in the category is invited at one moment.
func (q *req) draftPublish() error {
	d, err := q.draftDPS()
	if err != nil {
		return err
	}
	def, ok := decodeDraft(q.r.PostFormValue("state"))
	if !ok {
		return q.renderDraft(400, q.draftView(d, q.newDefinition(d), "basics"), []fieldError{{ID: "category-" + firstCategory(d), Text: q.T("draft.stateLost")}})
	}
	if def.QualityCriteria == nil {
		def.QualityCriteria = []procurement.QualityCriterion{}
	}
	var c procurement.Competition
	err = q.send("POST", "/dps/"+d.ID+"/competitions", def, &c)
	if err != nil {
		var ae *apiError
		if asAPI(err, &ae) && ae.Status == 400 {
			ids := map[string]string{}
			for _, fe := range ae.Fields {
				ids[indexRe.ReplaceAllString(fe.Field, "[]")] = draftFieldID(fe.Field)
			}
			errs, _ := q.fieldErrors(err, "change-basics", ids)
			return q.renderDraft(400, q.draftView(d, def, "check"), errs)
		}
		return err
	}
	if q.r.PostFormValue("action") == "save" {
		q.redirect("/competitions/" + c.ID)
		return nil
	}
	if err := q.send("POST", "/competitions/"+c.ID+"/publication", map[string]any{"version": c.Version}, nil); err != nil {
		var ae *apiError
		if asAPI(err, &ae) && ae.Status == 409 {
			// Saved as a draft; the competition page says why it could not be published.
			q.redirect("/competitions/" + c.ID + "?done=saved")
			return nil
		}
		return err
	}
	q.redirect("/competitions/" + c.ID + "?done=published")
	return nil
}

// Amending offers the whole definition on the same question pages and
// check-answers page as drafting, starting from the competition's own
// definition; saving sends it to the API with a reason (required once
// published) and the version the officer started from. The API decides
// whether the change is material.

func (q *req) amendView(c *procurement.Competition, version int) func(*draftPage) *draftPage {
	return func(p *draftPage) *draftPage {
		p.Action, p.Comp = "/competitions/"+c.ID+"/amend", c
		p.Comp.Version = version
		return p
	}
}

func (q *req) amendForm() error {
	p, err := q.loadCompetition(false)
	if err != nil {
		return err
	}
	return q.renderDraft(200, q.amendView(&p.C, p.C.Version)(q.draftView(p.DPS, p.C.Definition, "basics")), nil)
}

// amendVersion is the version the officer started from (the forms carry
// it), else the competition's current one.
func (q *req) amendVersion(c *procurement.Competition) int {
	if v, err := strconv.Atoi(q.r.PostFormValue("version")); err == nil && v >= 0 {
		return v
	}
	return c.Version
}

func (q *req) amendStep() error {
	p, err := q.loadCompetition(false)
	if err != nil {
		return err
	}
	def, ok := decodeDraft(q.r.PostFormValue("state"))
	if !ok {
		def = p.C.Definition
	}
	return q.questionStep(p.DPS, def, q.amendView(&p.C, q.amendVersion(&p.C)))
}

func (q *req) amend() error {
	p, err := q.loadCompetition(false)
	if err != nil {
		return err
	}
	version := q.amendVersion(&p.C)
	def, ok := decodeDraft(q.r.PostFormValue("state"))
	view := q.amendView(&p.C, version)
	if !ok {
		return q.renderDraft(400, view(q.draftView(p.DPS, p.C.Definition, "basics")), []fieldError{{ID: "category-" + firstCategory(p.DPS), Text: q.T("draft.stateLost")}})
	}
	reason := strings.TrimSpace(q.r.PostFormValue("reason"))
	page := view(q.draftView(p.DPS, def, "check"))
	page.Form["reason"] = reason
	if reason == "" && p.C.Status != procurement.CompDraft {
		return q.renderDraft(400, page, []fieldError{{ID: "reason", Text: q.T("amend.reasonMissing")}})
	}
	if def.QualityCriteria == nil {
		def.QualityCriteria = []procurement.QualityCriterion{}
	}
	body := struct {
		procurement.Definition
		Reason  string `json:"reason"`
		Version int    `json:"version"`
	}{def, reason, version}
	err = q.send("PUT", "/competitions/"+p.C.ID, body, nil)
	if err != nil {
		ids := map[string]string{}
		var ae *apiError
		if asAPI(err, &ae) {
			for _, fe := range ae.Fields {
				ids[indexRe.ReplaceAllString(fe.Field, "[]")] = draftFieldID(fe.Field)
			}
		}
		ids["reason"] = "reason"
		if errs, ok := q.fieldErrors(err, "change-basics", ids); ok {
			return q.renderDraft(400, page, errs)
		}
		return err
	}
	q.redirect("/competitions/" + p.C.ID + "?done=amended")
	return nil
}
