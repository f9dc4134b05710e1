package web

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/rengas/rengas/shared/audit"
	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/ocds"
	"github.com/rengas/rengas/shared/procurement"
)

func (h *Handler) providerRoutes() {
	h.handle("GET", "/applications", (*req).myApplications, providers...)
	h.handle("GET", "/applications/{dps}/{id}", (*req).application, everyone...)
	h.handle("POST", "/applications/{dps}/{id}/response", (*req).respond, providers...)
	h.handle("GET", "/competitions", (*req).competitionList, everyone...)
	h.handle("GET", "/competitions/{id}", (*req).competition, everyone...)
	h.handle("POST", "/competitions/{id}/questions", (*req).ask, providers...)
	h.handle("GET", "/competitions/{id}/bid", (*req).bidForm, providers...)
	h.handle("POST", "/competitions/{id}/bid", (*req).bidCheck, providers...)
	h.handle("POST", "/competitions/{id}/bid/submit", (*req).bidSubmit, providers...)
	h.handle("GET", "/competitions/{id}/bid/receipt", (*req).bidReceipt, providers...)
	h.handle("GET", "/competitions/{id}/bid/file", (*req).bidFile, providers...)
	h.handle("GET", "/competitions/{id}/bid/withdraw", (*req).withdrawConfirm, providers...)
	h.handle("POST", "/competitions/{id}/bid/withdraw", (*req).withdraw, providers...)
	h.handle("GET", "/competitions/{id}/decision", (*req).decision, everyone...)
	h.handle("GET", "/notifications", (*req).notifications, everyone...)
	h.handle("GET", "/dps/{dps}/apply", (*req).applyStart, providers...)
	h.handle("POST", "/dps/{dps}/apply", (*req).applyStep, providers...)
	h.handle("POST", "/dps/{dps}/apply/submit", (*req).applySubmit, providers...)
	h.handle("GET", "/dps/{dps}/apply/file", (*req).applyFile, providers...)
	h.handle("POST", "/files/put", (*req).declarePut, providers...)
	h.handle("GET", "/applications/{dps}/{id}/documents/{doc}", (*req).applicationDocument, everyone...)
	h.handle("GET", "/declarations/{id}/documents/{doc}", (*req).declarationDocument, everyone...)
	h.handle("GET", "/declarations/{id}", (*req).declaration, providers...)
	h.handle("GET", "/declarations/{id}/file", (*req).declarationFile, providers...)
	h.handle("POST", "/declarations/{id}", (*req).answerDeclaration, providers...)
	h.handle("GET", "/registration", (*req).registration, providers...)
	h.handle("POST", "/registration", (*req).register, providers...)
}

func (q *req) myApplications() error {
	var l list[appView]
	if err := q.get("/providers/"+q.user.Org+"/applications", url.Values{"limit": {"50"}}, &l); err != nil && !isNotFound(err) {
		return err
	}
	return q.render(200, "applications", "applications.title", l.Items, nil)
}

// applicationPage is an application with its DPS, for the detail page,
// and the state of its documents' files.
type applicationPage struct {
	App   appView
	DPS   procurement.DPS
	Files map[string]docFile
}

func (q *req) loadApplication() (*applicationPage, error) {
	p := &applicationPage{}
	if err := q.get("/dps/"+q.r.PathValue("dps")+"/applications/"+q.r.PathValue("id"), nil, &p.App); err != nil {
		return nil, err
	}
	if err := q.get("/dps/"+p.App.DPSID, nil, &p.DPS); err != nil {
		return nil, err
	}
	files, err := q.docFiles("/dps/"+p.App.DPSID+"/applications/"+p.App.ID+"/documents", p.App.Documents)
	if err != nil {
		return nil, err
	}
	p.Files = files
	return p, nil
}

func (q *req) application() error {
	p, err := q.loadApplication()
	if err != nil {
		return err
	}
	return q.render(200, "application", "application.title", p, nil)
}

// respond answers an information request.
func (q *req) respond() error {
	p, err := q.loadApplication()
	if err != nil {
		return err
	}
	text := strings.TrimSpace(q.r.PostFormValue("response"))
	if text == "" {
		return q.render(400, "application", "application.title", p, []fieldError{{ID: "response", Text: q.T("application.responseMissing")}})
	}
	err = q.send("POST", "/dps/"+p.App.DPSID+"/applications/"+p.App.ID+"/information-responses", map[string]any{"response": text, "version": p.App.Version}, nil)
	if errs, ok := q.fieldErrors(err, "response", map[string]string{"response": "response"}); ok {
		return q.render(400, "application", "application.title", p, errs)
	} else if err != nil {
		return err
	}
	q.redirect("/applications/" + p.App.DPSID + "/" + p.App.ID + "?done=responded")
	return nil
}

func (q *req) competitionList() error {
	ds, err := q.dpss()
	if err != nil {
		return err
	}
	cs, err := q.competitions(ds)
	if err != nil {
		return err
	}
	return q.render(200, "competitions", "competitions.title", map[string]any{"Competitions": cs, "DPS": ds}, nil)
}

// competitionPage is a competition as the user may see it, with its DPS,
// its questions and, for a provider, its own bid.
type competitionPage struct {
	C         procurement.Competition
	DPS       procurement.DPS
	Questions []procurement.Question
	Bid       *procurement.Bid
	Open      bool // bids may be written now (server clock)
	AskOpen   bool
	// ShowQuestions is false when the API keeps the questions from the user.
	ShowQuestions bool
	Form          map[string]string
}

func (p *competitionPage) CategoryName() string {
	if c, ok := p.DPS.Category(p.C.Category); ok {
		return c.Name
	}
	return p.C.Category
}

func (q *req) loadCompetition(withQuestions bool) (*competitionPage, error) {
	p := &competitionPage{Form: map[string]string{}}
	if err := q.get("/competitions/"+q.r.PathValue("id"), nil, &p.C); err != nil {
		return nil, err
	}
	if err := q.get("/dps/"+p.C.DPSID, nil, &p.DPS); err != nil {
		return nil, err
	}
	now := q.h.now()
	p.Open = p.C.Status == procurement.CompPublished && now.Before(p.C.BidDeadline)
	p.AskOpen = p.C.Status == procurement.CompPublished && now.Before(p.C.QuestionDeadline)
	if withQuestions && p.C.Status != procurement.CompDraft {
		var l list[procurement.Question]
		// Some who may see the notice may not see its questions (the
		// ring's other buyers): the API's 404 leaves the section out.
		if err := q.get("/competitions/"+p.C.ID+"/questions", url.Values{"limit": {"100"}}, &l); err != nil && !isNotFound(err) {
			return nil, err
		} else if err == nil {
			p.ShowQuestions = true
		}
		p.Questions = l.Items
	}
	if q.user.Role == procurement.RoleProvider {
		var b procurement.Bid
		if err := q.get("/competitions/"+p.C.ID+"/bids/mine", nil, &b); err == nil {
			p.Bid = &b
		} else if !isNotFound(err) {
			return nil, err
		}
	}
	return p, nil
}

func (q *req) competition() error {
	p, err := q.loadCompetition(true)
	if err != nil {
		return err
	}
	return q.render(200, "competition", "competition.title", p, nil)
}

func (q *req) ask() error {
	p, err := q.loadCompetition(true)
	if err != nil {
		return err
	}
	text := strings.TrimSpace(q.r.PostFormValue("question"))
	p.Form["question"] = text
	if text == "" {
		return q.render(400, "competition", "competition.title", p, []fieldError{{ID: "question", Text: q.T("competition.questionMissing")}})
	}
	err = q.send("POST", "/competitions/"+p.C.ID+"/questions", map[string]any{"question": text}, nil)
	if errs, ok := q.fieldErrors(err, "question", map[string]string{"question": "question"}); ok {
		return q.render(400, "competition", "competition.title", p, errs)
	} else if err != nil {
		return err
	}
	q.redirect("/competitions/" + p.C.ID + "?done=asked#questions")
	return nil
}

// bidForm is the bid as typed, kept in the form between the question
// page and the check-answers page (the pages keep no state of their own).
type bidInput struct {
	FixedFee string
	Prices   map[string]string
	Answers  map[string]string
	Version  int
	Key      string // the Idempotency-Key: a retried submission is answered once
	// Subs are the subcontractors as typed, one row each ("add another").
	Subs []procurement.Subcontractor
	// Members are the admitted consortium's members, shown read-only: the
	// API fills them in, and a bid may name only the admitted consortium.
	Members []procurement.Party
	// Attachments are the files attached to the answers, by criterion
	// (bidfiles.go).
	Attachments map[string][]procurement.FileRef
}

// maxSubcontractors is the API's limit on a bid's subcontractors.
const maxSubcontractors = 20

// CanAddSub offers "add another subcontractor" below the limit.
func (in bidInput) CanAddSub() bool { return len(in.Subs) < maxSubcontractors }

func (q *req) readBid(p *competitionPage) bidInput {
	_ = q.r.ParseForm()
	f := q.r.PostForm
	in := bidInput{FixedFee: strings.TrimSpace(f.Get("fixedFee")), Prices: map[string]string{}, Answers: map[string]string{}, Key: f.Get("key")}
	in.Version, _ = strconv.Atoi(f.Get("version"))
	in.Attachments = readAttachments(p, f.Get(attachInput))
	for _, m := range p.C.Milestones {
		if m.Pricing == "offered" {
			in.Prices[m.ID] = strings.TrimSpace(f.Get("price-" + m.ID))
		}
	}
	for _, c := range p.C.QualityCriteria {
		in.Answers[c.ID] = strings.TrimSpace(f.Get("answer-" + c.ID))
	}
	n, _ := strconv.Atoi(f.Get("subs"))
	for i := range min(max(n, 0), maxSubcontractors) {
		pre := "sub-" + strconv.Itoa(i) + "-"
		in.Subs = append(in.Subs, procurement.Subcontractor{Name: strings.TrimSpace(f.Get(pre + "name")),
			BusinessID: strings.TrimSpace(f.Get(pre + "businessId")), Role: strings.TrimSpace(f.Get(pre + "role"))})
	}
	if !validKey(in.Key) {
		in.Key = newKey()
	}
	return in
}

func validKey(k string) bool {
	if len(k) != 32 {
		return false
	}
	_, err := hex.DecodeString(k)
	return err == nil
}

func newKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// offer checks the typed bid and turns it into the API's offer.
func (q *req) offer(p *competitionPage, in bidInput) (procurement.Offer, []fieldError) {
	var errs []fieldError
	o := procurement.Offer{OutcomePricesCents: map[string]int64{}, Answers: map[string]string{}}
	if c, ok := parseEuros(in.FixedFee); !ok || c <= 0 {
		errs = append(errs, fieldError{ID: "fixedFee", Text: q.T("bid.fixedFeeInvalid")})
	} else {
		o.FixedFeeCents = c
	}
	for _, m := range p.C.Milestones {
		if m.Pricing != "offered" {
			continue
		}
		if c, ok := parseEuros(in.Prices[m.ID]); !ok || c <= 0 {
			errs = append(errs, fieldError{ID: "price-" + m.ID, Text: q.h.cat.T(q.lang, "bid.priceInvalid", map[string]any{"Milestone": m.Name})})
		} else {
			o.OutcomePricesCents[m.ID] = c
		}
	}
	for _, c := range p.C.QualityCriteria {
		if in.Answers[c.ID] == "" {
			errs = append(errs, fieldError{ID: "answer-" + c.ID, Text: q.h.cat.T(q.lang, "bid.answerMissing", map[string]any{"Criterion": c.Description})})
		} else {
			o.Answers[c.ID] = in.Answers[c.ID]
		}
	}
	// Attachments: the API takes each file by its id and fills in the rest.
	o.Attachments = map[string][]procurement.FileRef{}
	for crit, refs := range in.Attachments {
		for _, r := range refs {
			o.Attachments[crit] = append(o.Attachments[crit], procurement.FileRef{FileID: r.FileID})
		}
	}
	// Subcontractors: a row left wholly empty is no subcontractor; a row
	// begun needs its name, business ID and role (the API checks the ID).
	o.Subcontractors = []procurement.Subcontractor{}
	for i, s := range in.Subs {
		if s == (procurement.Subcontractor{}) {
			continue
		}
		pre := "sub-" + strconv.Itoa(i) + "-"
		for _, x := range []struct{ v, id, key string }{{s.Name, "name", "bid.subNameMissing"}, {s.BusinessID, "businessId", "bid.subBusinessIDMissing"}, {s.Role, "role", "bid.subRoleMissing"}} {
			if x.v == "" {
				errs = append(errs, fieldError{ID: pre + x.id, Text: q.h.cat.T(q.lang, x.key, map[string]any{"N": i + 1})})
			}
		}
		o.Subcontractors = append(o.Subcontractors, s)
	}
	return o, errs
}

// bidIDs maps the API's bid fields to the form's inputs.
func bidIDs(p *competitionPage) map[string]string {
	ids := map[string]string{"fixedFeeCents": "fixedFee"}
	for _, m := range p.C.Milestones {
		ids["outcomePricesCents."+m.ID] = "price-" + m.ID
	}
	for _, c := range p.C.QualityCriteria {
		ids["answers."+c.ID] = "answer-" + c.ID
		ids["attachments."+c.ID] = attachField(c.ID)
	}
	return ids
}

// subIDs maps the API's subcontractor fields (by their index in the offer,
// wholly empty rows left out) to the form's rows.
func subIDs(ids map[string]string, in bidInput) map[string]string {
	n := 0
	for i, s := range in.Subs {
		if s == (procurement.Subcontractor{}) {
			continue
		}
		for _, f := range []string{"name", "businessId", "role"} {
			ids["subcontractors["+strconv.Itoa(n)+"]."+f] = "sub-" + strconv.Itoa(i) + "-" + f
		}
		n++
	}
	return ids
}

// renderBid shows the bid form with the admitted consortium's members:
// the bid's own once stored, else the caller's admission in the category.
func (q *req) renderBid(status int, p *competitionPage, in bidInput, errs []fieldError) error {
	if p.Bid != nil && p.Bid.Members != nil {
		in.Members = p.Bid.Members
	} else {
		var l dynamo.Page[procurement.Admission]
		if err := q.get("/providers/"+q.user.Org+"/admissions", url.Values{"limit": {"100"}}, &l); err != nil && !isNotFound(err) {
			return err
		}
		for _, a := range l.Items {
			if a.DPSID == p.C.DPSID && a.Category == p.C.Category {
				in.Members = a.Members
			}
		}
	}
	// The states of the stored bid's attachments (one call, none without).
	var stored map[string]docFile
	if p.Bid != nil && len(p.Bid.Attachments) > 0 {
		fs, err := q.bidFiles(p.C.ID, []procurement.Bid{*p.Bid})
		if err != nil {
			return err
		}
		stored = fs[p.Bid.ProviderID]
	}
	return q.render(status, "bid", "bid.title", map[string]any{"P": p, "In": in, "Files": stored}, errs)
}

func newBidInput() bidInput {
	return bidInput{Prices: map[string]string{}, Answers: map[string]string{}, Attachments: map[string][]procurement.FileRef{}, Key: newKey()}
}

func (q *req) bidForm() error {
	p, err := q.loadCompetition(false)
	if err != nil {
		return err
	}
	in := newBidInput()
	if p.Bid != nil && p.Bid.Status == procurement.BidSubmitted {
		in.Attachments = readAttachments(p, encodeState(p.Bid.Attachments))
		in.FixedFee = strings.ReplaceAll(formatCents("fi", p.Bid.FixedFeeCents), nbsp+"€", "")
		for k, v := range p.Bid.OutcomePricesCents {
			in.Prices[k] = strings.ReplaceAll(formatCents("fi", v), nbsp+"€", "")
		}
		in.Answers = p.Bid.Answers
		in.Version = p.Bid.Version
		in.Subs = p.Bid.Subcontractors
	} else if p.Bid != nil {
		in.Version = p.Bid.Version
	}
	if !p.Open {
		return q.renderBid(409, p, in, nil)
	}
	return q.renderBid(200, p, in, nil)
}

// bidCheck shows the check-answers page of the typed bid, or the form
// again with its errors.
func (q *req) bidCheck() error {
	p, err := q.loadCompetition(false)
	if err != nil {
		return err
	}
	// Back from the upload page without a file: the form as it was.
	if s := q.r.PostFormValue("state"); s != "" {
		var in bidInput
		if !decodeState(s, &in) {
			return q.renderBid(400, p, newBidInput(), []fieldError{{ID: "continue", Text: q.T("draft.stateLost")}})
		}
		in.normalise(p)
		return q.renderBid(200, p, in, nil)
	}
	in := q.readBid(p)
	if q.r.PostFormValue("change") != "" {
		return q.renderBid(200, p, in, nil)
	}
	if ok, err := q.bidAttachmentAction(p, in); ok {
		return err
	}
	// "Add another subcontractor" and "Remove" re-render the form.
	if q.r.PostFormValue("add") == "subcontractor" && in.CanAddSub() {
		in.Subs = append(in.Subs, procurement.Subcontractor{})
		return q.renderBid(200, p, in, nil)
	}
	if r := q.r.PostFormValue("remove"); r != "" {
		if i, err := strconv.Atoi(r); err == nil && i >= 0 && i < len(in.Subs) {
			in.Subs = slices.Delete(in.Subs, i, i+1)
		}
		return q.renderBid(200, p, in, nil)
	}
	o, errs := q.offer(p, in)
	if errs != nil {
		return q.renderBid(400, p, in, errs)
	}
	return q.render(200, "bidcheck", "bidcheck.title", map[string]any{"P": p, "In": in, "Offer": o}, nil)
}

func (q *req) bidSubmit() error {
	p, err := q.loadCompetition(false)
	if err != nil {
		return err
	}
	in := q.readBid(p)
	o, errs := q.offer(p, in)
	if errs != nil {
		return q.renderBid(400, p, in, errs)
	}
	body := map[string]any{"fixedFeeCents": o.FixedFeeCents, "outcomePricesCents": o.OutcomePricesCents, "answers": o.Answers,
		"subcontractors": o.Subcontractors, "attachments": o.Attachments, "version": in.Version}
	_, _, err = q.h.api.callWithKey(q.r.Context(), q.claims, "PUT", "/competitions/"+p.C.ID+"/bids/mine", body, in.Key)
	if errs, ok := q.fieldErrors(err, "fixedFee", subIDs(bidIDs(p), in)); ok {
		return q.renderBid(400, p, in, errs)
	} else if err != nil {
		return err
	}
	q.redirect("/competitions/" + p.C.ID + "/bid/receipt")
	return nil
}

func (q *req) bidReceipt() error {
	p, err := q.loadCompetition(false)
	if err != nil {
		return err
	}
	if p.Bid == nil {
		q.h.errorPage(q.w, q.r, q.lang, 404, "error.notFound")
		return nil
	}
	// The digest of the bid as stored: the same SHA-256 its audit trail records.
	return q.render(200, "receipt", "receipt.title", map[string]any{"P": p, "Digest": audit.Digest(p.Bid)}, nil)
}

func (q *req) withdrawConfirm() error {
	p, err := q.loadCompetition(false)
	if err != nil {
		return err
	}
	if p.Bid == nil || p.Bid.Status != procurement.BidSubmitted {
		q.h.errorPage(q.w, q.r, q.lang, 404, "error.notFound")
		return nil
	}
	return q.render(200, "withdraw", "withdraw.title", p, nil)
}

func (q *req) withdraw() error {
	p, err := q.loadCompetition(false)
	if err != nil {
		return err
	}
	if p.Bid == nil {
		q.h.errorPage(q.w, q.r, q.lang, 404, "error.notFound")
		return nil
	}
	err = q.send("POST", "/competitions/"+p.C.ID+"/bids/mine/withdrawal", map[string]any{"version": p.Bid.Version}, nil)
	if errs, ok := q.fieldErrors(err, "withdraw", nil); ok {
		return q.render(409, "withdraw", "withdraw.title", p, errs)
	} else if err != nil {
		return err
	}
	q.redirect("/competitions/" + p.C.ID + "?done=withdrawn")
	return nil
}

// decisionPage is an award decision with the competition it decides.
type decisionPage struct {
	P        *competitionPage
	D        procurement.AwardDecision
	Names    map[string]string
	Criteria map[string]string
}

func (q *req) decision() error {
	p, err := q.loadCompetition(false)
	if err != nil {
		return err
	}
	d := decisionPage{P: p, Names: map[string]string{}, Criteria: map[string]string{}}
	if err := q.get("/competitions/"+p.C.ID+"/decision", nil, &d.D); err != nil {
		return err
	}
	d.Names = q.inviteeNames(p.C.ID)
	for _, c := range p.C.QualityCriteria {
		d.Criteria[c.ID] = c.Description
	}
	if _, ok := d.Names[q.user.Org]; !ok && q.user.Role == procurement.RoleProvider {
		// A bidder does not see the invitee list; its own bid is named so.
		d.Names[q.user.Org] = q.T("decision.yours")
		// The winners are named by the competition's open data (the OCDS
		// release every visitor may read): an award's id is the
		// competition's id and the winner's provider id.
		var pkg ocds.Package
		if err := q.get("/open-data/competitions/"+p.C.ID+"/ocds", nil, &pkg); err != nil && !isNotFound(err) {
			return err
		}
		for _, r := range pkg.Releases {
			for _, a := range r.Awards {
				if id, ok := strings.CutPrefix(a.ID, p.C.ID+"-"); ok && len(a.Suppliers) > 0 && d.Names[id] == "" {
					d.Names[id] = a.Suppliers[0].Name
				}
			}
		}
	}
	return q.render(200, "decision", "decision.title", d, nil)
}

func (q *req) notifications() error {
	var l list[notification]
	query := url.Values{"limit": {"50"}}
	if c := q.r.URL.Query().Get("cursor"); c != "" {
		query.Set("cursor", c)
	}
	if err := q.get("/notifications", query, &l); err != nil {
		return err
	}
	return q.render(200, "notifications", "notifications.title", l, nil)
}

// registration is the provider's organisation form.
func (q *req) registration() error {
	return q.render(200, "registration", "registration.title", map[string]any{"Form": map[string]string{}, "Forms": procurement.LegalForms}, nil)
}

var registrationIDs = map[string]string{"name": "name", "businessId": "businessId", "legalForm": "legalForm-" + string(procurement.LegalForms[0]),
	"homeMunicipality": "homeMunicipality", "contact.name": "contactName", "contact.email": "contactEmail", "contact.phone": "contactPhone"}

func (q *req) register() error {
	f := map[string]string{}
	for _, k := range []string{"name", "businessId", "legalForm", "homeMunicipality", "contactName", "contactEmail", "contactPhone"} {
		f[k] = strings.TrimSpace(q.r.PostFormValue(k))
	}
	body := map[string]any{"name": f["name"], "businessId": f["businessId"], "legalForm": f["legalForm"], "homeMunicipality": f["homeMunicipality"],
		"contact": map[string]any{"name": f["contactName"], "email": f["contactEmail"], "phone": f["contactPhone"]}}
	err := q.send("POST", "/providers", body, nil)
	if errs, ok := q.fieldErrors(err, "name", registrationIDs); ok {
		return q.render(400, "registration", "registration.title", map[string]any{"Form": f, "Forms": procurement.LegalForms}, errs)
	} else if err != nil {
		return err
	}
	q.redirect("/?done=registered")
	return nil
}
