package web

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/rengas/rengas/shared/procurement"
)

func (h *Handler) officerRoutes() {
	h.handle("GET", "/queue", (*req).queue, offAudit...)
	h.handle("POST", "/applications/{dps}/{id}/decisions", (*req).decide, officers...)
	h.handle("POST", "/applications/{dps}/{id}/information-request", (*req).requestInfo, officers...)
	h.handle("POST", "/applications/{dps}/{id}/extension", (*req).extend, officers...)
	h.handle("GET", "/register", (*req).providerRegister, offAudit...)
	h.handle("POST", "/register/{dps}/{cat}/{prov}", (*req).setAdmission, officers...)
	h.handle("POST", "/register/{dps}/declarations", (*req).requestDeclarations, officers...)
	h.handle("GET", "/dps/{dps}/competitions/new", (*req).draftStart, officers...)
	h.handle("POST", "/dps/{dps}/competitions/new", (*req).draftStep, officers...)
	h.handle("POST", "/dps/{dps}/competitions/new/publish", (*req).draftPublish, officers...)
	h.handle("POST", "/competitions/{id}/publish", (*req).publish, officers...)
	h.handle("POST", "/competitions/{id}/questions/{q}/answer", (*req).answer, officers...)
	h.handle("POST", "/competitions/{id}/conflict", (*req).declare, officers...)
	h.handle("GET", "/competitions/{id}/evaluation", (*req).evaluation, offAudit...)
	h.handle("GET", "/competitions/{id}/bids/{provider}/attachments/{file}", (*req).bidAttachment, everyone...)
	h.handle("POST", "/competitions/{id}/bids/{prov}/score", (*req).score, officers...)
	h.handle("POST", "/competitions/{id}/bids/{prov}/reject", (*req).reject, officers...)
	h.handle("POST", "/competitions/{id}/award", (*req).award, officers...)
	h.handle("GET", "/competitions/{id}/cancel", (*req).cancelForm, officers...)
	h.handle("POST", "/competitions/{id}/cancel", (*req).cancel, officers...)
	h.handle("GET", "/competitions/{id}/amend", (*req).amendForm, officers...)
	h.handle("POST", "/competitions/{id}/amend", (*req).amendStep, officers...)
	h.handle("POST", "/competitions/{id}/amend/save", (*req).amend, officers...)
}

// queue lists applications of a status, earliest decision deadline first,
// with each one's working-day clock.
func (q *req) queue() error {
	status := q.r.URL.Query().Get("status")
	if !slices.Contains(procurement.ApplicationStatuses, procurement.ApplicationStatus(status)) {
		status = string(procurement.StatusReceived)
	}
	ds, err := q.dpss()
	if err != nil {
		return err
	}
	var apps []appView
	for _, d := range ds {
		var l list[appView]
		if err := q.get("/dps/"+d.ID+"/applications", url.Values{"status": {status}, "limit": {"100"}}, &l); err != nil {
			return err
		}
		apps = append(apps, l.Items...)
	}
	return q.render(200, "queue", "queue.title", map[string]any{"Apps": apps, "Status": status, "Statuses": procurement.ApplicationStatuses}, nil)
}

func (q *req) appPath(p *applicationPage) string {
	return "/dps/" + p.App.DPSID + "/applications/" + p.App.ID
}

func (q *req) decide() error {
	p, err := q.loadApplication()
	if err != nil {
		return err
	}
	cat := q.r.PostFormValue("category")
	outcome := q.r.PostFormValue("outcome")
	reason := strings.TrimSpace(q.r.PostFormValue("reason-" + cat))
	var errs []fieldError
	if outcome != "admitted" && outcome != "rejected" {
		errs = append(errs, fieldError{ID: "outcome-" + cat, Text: q.T("application.outcomeMissing")})
	}
	if outcome == "rejected" && reason == "" {
		errs = append(errs, fieldError{ID: "reason-" + cat, Text: q.T("application.reasonMissing")})
	}
	if errs != nil {
		return q.render(400, "application", "application.title", p, errs)
	}
	err = q.send("POST", q.appPath(p)+"/decisions", map[string]any{"category": cat, "outcome": outcome, "reason": reason, "version": p.App.Version}, nil)
	if errs, ok := q.fieldErrors(err, "outcome-"+cat, map[string]string{"reason": "reason-" + cat, "outcome": "outcome-" + cat}); ok {
		return q.render(400, "application", "application.title", p, errs)
	} else if err != nil {
		return err
	}
	q.redirect("/applications/" + p.App.DPSID + "/" + p.App.ID + "?done=decided")
	return nil
}

// appText posts one text field of an application form.
func (q *req) appText(field, apiPath, apiField, missing, done string) error {
	p, err := q.loadApplication()
	if err != nil {
		return err
	}
	text := strings.TrimSpace(q.r.PostFormValue(field))
	if text == "" {
		return q.render(400, "application", "application.title", p, []fieldError{{ID: field, Text: q.T(missing)}})
	}
	err = q.send("POST", q.appPath(p)+apiPath, map[string]any{apiField: text, "version": p.App.Version}, nil)
	if errs, ok := q.fieldErrors(err, field, map[string]string{apiField: field}); ok {
		return q.render(400, "application", "application.title", p, errs)
	} else if err != nil {
		return err
	}
	q.redirect("/applications/" + p.App.DPSID + "/" + p.App.ID + "?done=" + done)
	return nil
}

func (q *req) requestInfo() error {
	return q.appText("message", "/information-requests", "message", "application.messageMissing", "requested")
}

func (q *req) extend() error {
	return q.appText("justification", "/extension", "justification", "application.justificationMissing", "extended")
}

// registerPage is the provider register of every DPS: admissions per
// category and documents about to expire.
type registerPage struct {
	DPS []registerDPS
}

type registerDPS struct {
	D            procurement.DPS
	Categories   []registerCategory
	Expiring     []expiringDoc
	Declarations []procurement.DeclarationRequest
	// Providers are the admitted providers of the DPS, for renewed
	// self-declaration requests.
	Providers []procurement.Admission
}

type registerCategory struct {
	C          procurement.Category
	Admissions []procurement.Admission
}

type expiringDoc struct {
	ProviderID    string `json:"providerId"`
	ApplicationID string `json:"applicationId"`
	procurement.Document
}

func (q *req) loadRegister() (*registerPage, error) {
	ds, err := q.dpss()
	if err != nil {
		return nil, err
	}
	p := &registerPage{}
	for _, d := range ds {
		rd := registerDPS{D: d}
		for _, c := range d.Categories {
			var l list[procurement.Admission]
			if err := q.get("/dps/"+d.ID+"/categories/"+c.ID+"/admissions", url.Values{"limit": {"100"}}, &l); err != nil {
				return nil, err
			}
			rd.Categories = append(rd.Categories, registerCategory{C: c, Admissions: l.Items})
		}
		var ex list[expiringDoc]
		if err := q.get("/dps/"+d.ID+"/documents/expiring", url.Values{"days": {"60"}, "limit": {"100"}}, &ex); err != nil {
			return nil, err
		}
		rd.Expiring = ex.Items
		var dr list[procurement.DeclarationRequest]
		if err := q.get("/dps/"+d.ID+"/declaration-requests", url.Values{"limit": {"100"}}, &dr); err != nil {
			return nil, err
		}
		rd.Declarations = dr.Items
		seen := map[string]bool{}
		for _, c := range rd.Categories {
			for _, a := range c.Admissions {
				if a.Status == procurement.AdmissionAdmitted && !seen[a.ProviderID] {
					seen[a.ProviderID] = true
					rd.Providers = append(rd.Providers, a)
				}
			}
		}
		p.DPS = append(p.DPS, rd)
	}
	return p, nil
}

func (q *req) providerRegister() error {
	p, err := q.loadRegister()
	if err != nil {
		return err
	}
	return q.render(200, "register", "register.title", p, nil)
}

func (q *req) setAdmission() error {
	dps, cat, prov := q.r.PathValue("dps"), q.r.PathValue("cat"), q.r.PathValue("prov")
	status := q.r.PostFormValue("status")
	reason := strings.TrimSpace(q.r.PostFormValue("reason"))
	version, _ := strconv.Atoi(q.r.PostFormValue("version"))
	id := "reason-" + cat + "-" + prov
	p, err := q.loadRegister()
	if err != nil {
		return err
	}
	if reason == "" {
		return q.render(400, "register", "register.title", p, []fieldError{{ID: id, Text: q.T("register.reasonMissing")}})
	}
	err = q.send("POST", "/dps/"+dps+"/categories/"+cat+"/admissions/"+prov+"/status", map[string]any{"status": status, "reason": reason, "version": version}, nil)
	if errs, ok := q.fieldErrors(err, id, map[string]string{"reason": id}); ok {
		return q.render(400, "register", "register.title", p, errs)
	} else if err != nil {
		return err
	}
	q.redirect("/register?done=status")
	return nil
}

func (q *req) answer() error {
	p, err := q.loadCompetition(true)
	if err != nil {
		return err
	}
	qid := q.r.PathValue("q")
	field := "answer-" + qid
	text := strings.TrimSpace(q.r.PostFormValue(field))
	version, _ := strconv.Atoi(q.r.PostFormValue("version"))
	if text == "" {
		return q.render(400, "competition", "competition.title", p, []fieldError{{ID: field, Text: q.T("competition.answerMissing")}})
	}
	err = q.send("POST", "/competitions/"+p.C.ID+"/questions/"+qid+"/answer", map[string]any{"answer": text, "version": version}, nil)
	if errs, ok := q.fieldErrors(err, field, map[string]string{"answer": field}); ok {
		return q.render(400, "competition", "competition.title", p, errs)
	} else if err != nil {
		return err
	}
	q.redirect("/competitions/" + p.C.ID + "?done=answered#questions")
	return nil
}

func (q *req) publish() error {
	p, err := q.loadCompetition(true)
	if err != nil {
		return err
	}
	err = q.send("POST", "/competitions/"+p.C.ID+"/publication", map[string]any{"version": p.C.Version}, nil)
	if errs, ok := q.fieldErrors(err, "publish", nil); ok {
		return q.render(409, "competition", "competition.title", p, errs)
	} else if err != nil {
		return err
	}
	q.redirect("/competitions/" + p.C.ID + "?done=published")
	return nil
}

// evaluationPage is the evaluation of an opened competition: the bids (for
// officers after their conflict declaration) and the live comparison.
type evaluationPage struct {
	P          *competitionPage
	Bids       []procurement.Bid
	Comparison *struct {
		Results []struct {
			Bid             string   `json:"bid"`
			FixedFee        string   `json:"fixedFeeEuros"`
			OutcomePerPlace string   `json:"expectedOutcomeFeesPerClientEuros"`
			EvaluationPrice string   `json:"evaluationPriceEuros"`
			OutcomeShare    string   `json:"outcomeSharePercent"`
			PricePoints     *string  `json:"pricePoints"`
			QualityPoints   *string  `json:"qualityPoints"`
			Total           *string  `json:"totalPoints"`
			Excluded        bool     `json:"excluded"`
			Reasons         []string `json:"exclusionReasons"`
			Rank            int      `json:"rank"`
			Places          int64    `json:"awardedPlaces"`
		} `json:"results"`
		Lowest  string   `json:"lowestEvaluationPriceEuros"`
		Winners []string `json:"winners"`
	}
	NeedsDeclaration bool
	Names            map[string]string
	Form             map[string]string
	// Files are the states of the bids' attachments, by bidder and file id.
	Files map[string]map[string]docFile
}

func (q *req) loadEvaluation() (*evaluationPage, error) {
	p, err := q.loadCompetition(false)
	if err != nil {
		return nil, err
	}
	e := &evaluationPage{P: p, Names: q.inviteeNames(p.C.ID), Form: map[string]string{}}
	var bids list[procurement.Bid]
	err = q.get("/competitions/"+p.C.ID+"/bids", url.Values{"limit": {"100"}}, &bids)
	var ae *apiError
	if asAPI(err, &ae) && ae.Status == 409 {
		// Sealed, or the officer has not declared yet: the API says which
		// by the competition's state.
		e.NeedsDeclaration = q.user.Role == procurement.RoleOfficer && (p.C.Status == procurement.CompEvaluation || p.C.Status == procurement.CompAwarded)
		return e, nil
	} else if err != nil {
		return nil, err
	}
	e.Bids = bids.Items
	if err := q.get("/competitions/"+p.C.ID+"/evaluation", nil, &e.Comparison); err != nil {
		return nil, err
	}
	if e.Files, err = q.bidFiles(p.C.ID, e.Bids); err != nil {
		return nil, err
	}
	return e, nil
}

func (q *req) evaluation() error {
	e, err := q.loadEvaluation()
	if err != nil {
		return err
	}
	return q.render(200, "evaluation", "evaluation.title", e, nil)
}

func (q *req) declare() error {
	e, err := q.loadEvaluation()
	if err != nil {
		return err
	}
	text := strings.TrimSpace(q.r.PostFormValue("statement"))
	if text == "" {
		return q.render(400, "evaluation", "evaluation.title", e, []fieldError{{ID: "statement", Text: q.T("evaluation.statementMissing")}})
	}
	err = q.send("POST", "/competitions/"+e.P.C.ID+"/conflict-declarations", map[string]any{"statement": text}, nil)
	if errs, ok := q.fieldErrors(err, "statement", map[string]string{"statement": "statement"}); ok {
		return q.render(400, "evaluation", "evaluation.title", e, errs)
	} else if err != nil {
		return err
	}
	q.redirect("/competitions/" + e.P.C.ID + "/evaluation?done=declared")
	return nil
}

func (q *req) score() error {
	e, err := q.loadEvaluation()
	if err != nil {
		return err
	}
	prov, crit := q.r.PathValue("prov"), q.r.PostFormValue("criterion")
	base := "score-" + prov + "-" + crit
	reasonID := "reason-" + prov + "-" + crit
	score, serr := strconv.Atoi(q.r.PostFormValue(base))
	reason := strings.TrimSpace(q.r.PostFormValue(reasonID))
	version, _ := strconv.Atoi(q.r.PostFormValue("version"))
	var errs []fieldError
	if serr != nil || score < 0 || score > 5 {
		errs = append(errs, fieldError{ID: base, Text: q.T("evaluation.scoreMissing")})
	}
	if reason == "" {
		errs = append(errs, fieldError{ID: reasonID, Text: q.T("evaluation.reasonMissing")})
	}
	if errs != nil {
		return q.render(400, "evaluation", "evaluation.title", e, errs)
	}
	err = q.send("POST", "/competitions/"+e.P.C.ID+"/bids/"+prov+"/scores", map[string]any{"criterion": crit, "score": score, "reason": reason, "version": version}, nil)
	if errs, ok := q.fieldErrors(err, base, map[string]string{"score": base, "reason": reasonID}); ok {
		return q.render(400, "evaluation", "evaluation.title", e, errs)
	} else if err != nil {
		return err
	}
	q.redirect("/competitions/" + e.P.C.ID + "/evaluation?done=scored#bid-" + prov)
	return nil
}

func (q *req) reject() error {
	e, err := q.loadEvaluation()
	if err != nil {
		return err
	}
	prov := q.r.PathValue("prov")
	id := "reject-" + prov
	reason := strings.TrimSpace(q.r.PostFormValue(id))
	version, _ := strconv.Atoi(q.r.PostFormValue("version"))
	if reason == "" {
		return q.render(400, "evaluation", "evaluation.title", e, []fieldError{{ID: id, Text: q.T("evaluation.rejectMissing")}})
	}
	err = q.send("POST", "/competitions/"+e.P.C.ID+"/bids/"+prov+"/rejection", map[string]any{"reason": reason, "version": version}, nil)
	if errs, ok := q.fieldErrors(err, id, map[string]string{"reason": id}); ok {
		return q.render(400, "evaluation", "evaluation.title", e, errs)
	} else if err != nil {
		return err
	}
	q.redirect("/competitions/" + e.P.C.ID + "/evaluation?done=rejected")
	return nil
}

func (q *req) award() error {
	e, err := q.loadEvaluation()
	if err != nil {
		return err
	}
	reasons := strings.TrimSpace(q.r.PostFormValue("reasons"))
	e.Form["reasons"] = reasons
	if reasons == "" {
		return q.render(400, "evaluation", "evaluation.title", e, []fieldError{{ID: "reasons", Text: q.T("evaluation.reasonsMissing")}})
	}
	err = q.send("POST", "/competitions/"+e.P.C.ID+"/award", map[string]any{"reasons": reasons, "version": e.P.C.Version}, nil)
	if errs, ok := q.fieldErrors(err, "reasons", map[string]string{"reasons": "reasons"}); ok {
		return q.render(400, "evaluation", "evaluation.title", e, errs)
	} else if err != nil {
		return err
	}
	q.redirect("/competitions/" + e.P.C.ID + "/decision?done=awarded")
	return nil
}

func (q *req) cancelForm() error {
	p, err := q.loadCompetition(false)
	if err != nil {
		return err
	}
	return q.render(200, "cancel", "cancel.title", p, nil)
}

func (q *req) cancel() error {
	p, err := q.loadCompetition(false)
	if err != nil {
		return err
	}
	reason := strings.TrimSpace(q.r.PostFormValue("reason"))
	if reason == "" {
		return q.render(400, "cancel", "cancel.title", p, []fieldError{{ID: "reason", Text: q.T("cancel.reasonMissing")}})
	}
	err = q.send("POST", "/competitions/"+p.C.ID+"/cancellation", map[string]any{"reason": reason, "version": p.C.Version}, nil)
	if errs, ok := q.fieldErrors(err, "reason", map[string]string{"reason": "reason"}); ok {
		return q.render(400, "cancel", "cancel.title", p, errs)
	} else if err != nil {
		return err
	}
	q.redirect("/competitions/" + p.C.ID + "?done=cancelled")
	return nil
}

func asAPI(err error, target **apiError) bool {
	ae, ok := err.(*apiError)
	if ok {
		*target = ae
	}
	return ok
}

// requestDeclarations asks admitted providers for a renewed
// self-declaration; the API enforces the least time to answer.
func (q *req) requestDeclarations() error {
	dps := q.r.PathValue("dps")
	p, err := q.loadRegister()
	if err != nil {
		return err
	}
	_ = q.r.ParseForm()
	provs := q.r.PostForm["providers"]
	message := strings.TrimSpace(q.r.PostFormValue("declMessage"))
	due := strings.TrimSpace(q.r.PostFormValue("declDue"))
	first := "decl-" + dps
	for _, d := range p.DPS {
		if d.D.ID == dps && len(d.Providers) > 0 {
			first = "decl-" + dps + "-" + d.Providers[0].ProviderID
		}
	}
	var errs []fieldError
	if len(provs) == 0 {
		errs = append(errs, fieldError{ID: first, Text: q.T("register.declProvidersMissing")})
	}
	if message == "" {
		errs = append(errs, fieldError{ID: "declMessage", Text: q.T("register.declMessageMissing")})
	}
	if errs != nil {
		return q.render(400, "register", "register.title", p, errs)
	}
	err = q.send("POST", "/dps/"+dps+"/declaration-requests", map[string]any{"providerIds": provs, "message": message, "dueOn": due}, nil)
	if errs, ok := q.fieldErrors(err, first, map[string]string{"providerIds": first, "message": "declMessage", "dueOn": "declDue"}); ok {
		return q.render(400, "register", "register.title", p, errs)
	} else if err != nil {
		return err
	}
	q.redirect("/register?done=requested")
	return nil
}
