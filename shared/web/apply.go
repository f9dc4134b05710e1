package web

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rengas/rengas/shared/procurement"
)

// Applying to a DPS is a task list (GOV.UK pattern): categories, the
// exclusion declaration, the selection criteria of each chosen category
// with their documents, consortium members, then check answers and
// submit. As with drafts, the application so far travels in the form
// (the API's own request body, in a hidden field); only submitting writes.
// A document is identified by the SHA-256 of the file the provider
// uploads: the browser sends the file straight to S3 (see files.go and
// uploadDocument), the arrival check computes the digest, and the
// document names the file.

// applyTasks are the tasks in order.
var applyTasks = []string{"categories", "exclusions", "criteria", "members"}

// application is the API's request body for an application.
type application struct {
	Categories  []string                `json:"categories"`
	Declaration procurement.Declaration `json:"declaration"`
	Documents   []procurement.Document  `json:"documents"`
	Members     []procurement.Member    `json:"members"`
	// Done lists the tasks the provider has completed (the page's own).
	Done []string `json:"done,omitempty"`
}

type applyPage struct {
	DPS   procurement.DPS
	App   application
	State string
	Task  string
	Tasks []string
	Forms []procurement.LegalForm
}

// Chosen returns the chosen categories with their criteria.
func (p *applyPage) Chosen() []procurement.Category {
	var out []procurement.Category
	for _, c := range p.DPS.Categories {
		if slices.Contains(p.App.Categories, c.ID) {
			out = append(out, c)
		}
	}
	return out
}

// Answer returns the lead's answer to a criterion.
func (p *applyPage) Answer(cat, crit string) procurement.CriterionAnswer {
	for _, a := range p.App.Declaration.Criteria {
		if a.Category == cat && a.Criterion == crit {
			return a
		}
	}
	return procurement.CriterionAnswer{}
}

// Document returns the document with the id.
func (p *applyPage) Document(id string) *procurement.Document {
	for i := range p.App.Documents {
		if p.App.Documents[i].ID == id {
			return &p.App.Documents[i]
		}
	}
	return nil
}

// Exclusion returns a party's answer to an exclusion ground: "yes", "no"
// or "" (member -1 is the lead).
func (p *applyPage) Exclusion(member int, ground string) procurement.ExclusionAnswer {
	decl := p.App.Declaration
	if member >= 0 && member < len(p.App.Members) {
		decl = p.App.Members[member].Declaration
	}
	for _, e := range decl.Exclusions {
		if e.Ground == ground {
			return e
		}
	}
	return procurement.ExclusionAnswer{}
}

func (p *applyPage) IsDone(task string) bool { return slices.Contains(p.App.Done, task) }

// MemberSlots are the member forms shown: the members so far and one empty.
func (p *applyPage) MemberSlots() []int {
	n := len(p.App.Members) + 1
	if n > 5 {
		n = 5
	}
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// Member returns member i, or an empty one.
func (p *applyPage) Member(i int) procurement.Member {
	if i < len(p.App.Members) {
		return p.App.Members[i]
	}
	return procurement.Member{}
}

func encodeState(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeState(s string, v any) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && json.Unmarshal(b, v) == nil
}

func (q *req) applyView(d procurement.DPS, a application, task string) *applyPage {
	return &applyPage{DPS: d, App: a, State: encodeState(a), Task: task, Tasks: applyTasks, Forms: procurement.LegalForms}
}

func (q *req) renderApply(status int, p *applyPage, errs []fieldError) error {
	return q.render(status, "apply", "apply.title."+p.Task, p, errs)
}

func (q *req) applyStart() error {
	d, err := q.draftDPS()
	if err != nil {
		return err
	}
	return q.renderApply(200, q.applyView(d, application{}, "tasks"), nil)
}

// applyStep reads one task's page and goes back to the task list, or
// shows the task again with its errors; "goto" opens a task.
func (q *req) applyStep() error {
	d, err := q.draftDPS()
	if err != nil {
		return err
	}
	_ = q.r.ParseForm()
	var a application
	decodeState(q.r.FormValue("state"), &a)
	if to := q.r.FormValue("goto"); to != "" && (slices.Contains(applyTasks, to) || to == "check" || to == "tasks") {
		return q.renderApply(200, q.applyView(d, a, to), nil)
	}
	task := q.r.FormValue("task")
	if !slices.Contains(applyTasks, task) {
		task = "categories"
	}
	if doc := q.r.FormValue("upload"); doc != "" && task == "criteria" {
		return q.uploadDocument(d, a, doc)
	}
	errs := q.readTask(d, &a, task)
	if errs != nil {
		return q.renderApply(400, q.applyView(d, a, task), errs)
	}
	if !slices.Contains(a.Done, task) {
		a.Done = append(a.Done, task)
	}
	return q.renderApply(200, q.applyView(d, a, "tasks"), nil)
}

func (q *req) readTask(d procurement.DPS, a *application, task string) []fieldError {
	f := func(k string) string { return strings.TrimSpace(q.r.FormValue(k)) }
	var errs []fieldError
	bad := func(id, key string, data map[string]any) {
		errs = append(errs, fieldError{ID: id, Text: q.h.cat.T(q.lang, key, data)})
	}
	yes := true
	exclusions := func(prefix string) []procurement.ExclusionAnswer {
		out, e := q.readExclusions(d, prefix)
		errs = append(errs, e...)
		return out
	}
	switch task {
	case "categories":
		a.Categories = nil
		for _, c := range d.Categories {
			if slices.Contains(q.r.Form["categories"], c.ID) {
				a.Categories = append(a.Categories, c.ID)
			}
		}
		if len(a.Categories) == 0 && len(d.Categories) > 0 {
			bad("cat-"+d.Categories[0].ID, "apply.categoriesMissing", nil)
		}
	case "exclusions":
		a.Declaration.Exclusions = exclusions("ex-")
		a.Declaration.SignedBy = q.user.Name
	case "criteria":
		a.Declaration.Criteria = nil
		a.Declaration.SignedBy = q.user.Name
		for _, cid := range a.Categories {
			cat, _ := d.Category(cid)
			for _, k := range cat.Criteria {
				id := "crit-" + cid + "-" + k.ID
				ans := procurement.CriterionAnswer{Category: cid, Criterion: k.ID}
				switch k.Kind {
				case procurement.KindDeclaration:
					if f(id) != "yes" {
						bad(id, "apply.confirmMissing", nil)
						continue
					}
					ans.Confirmed = &yes
				case procurement.KindMinimum:
					n, err := strconv.ParseInt(f(id), 10, 64)
					if err != nil || n < 0 {
						bad(id, "apply.figureMissing", map[string]any{"Minimum": k.Minimum, "Unit": k.Unit})
						continue
					}
					ans.Value = &n
				case procurement.KindDocument:
					if errs2 := q.readDocument(a, k, "doc-"+k.ID); errs2 != nil {
						errs = append(errs, errs2...)
						continue
					}
					ans.DocumentID = k.ID
				}
				a.Declaration.Criteria = append(a.Declaration.Criteria, ans)
			}
		}
	case "members":
		a.Members = nil
		for i := range 5 {
			p := "m" + strconv.Itoa(i) + "-"
			if f(p+"name") == "" && f(p+"businessId") == "" {
				continue
			}
			m := procurement.Member{Party: procurement.Party{Name: f(p + "name"), BusinessID: f(p + "businessId"),
				LegalForm: procurement.LegalForm(f(p + "legalForm")), HomeMunicipality: f(p + "municipality")}, Documents: []procurement.Document{}}
			if m.Name == "" {
				bad(p+"name", "apply.memberNameMissing", nil)
			}
			if !slices.Contains(procurement.LegalForms, m.LegalForm) {
				bad(p+"legalForm-"+string(procurement.LegalForms[0]), "apply.legalFormMissing", nil)
			}
			m.Declaration = procurement.Declaration{SignedBy: m.Name, Exclusions: exclusions(p + "ex-"), Criteria: []procurement.CriterionAnswer{}}
			a.Members = append(a.Members, m)
		}
	}
	return errs
}

// readDocument takes a document criterion's issue date and the file
// uploaded for it before.
func (q *req) readDocument(a *application, k procurement.Criterion, id string) []fieldError {
	issued := strings.TrimSpace(q.r.FormValue(id + "-issued"))
	day, err := time.Parse(time.DateOnly, issued)
	var errs []fieldError
	if err != nil {
		errs = append(errs, fieldError{ID: id + "-issued", Text: q.T("draft.dateInvalid")})
	}
	doc := procurement.Document{ID: k.ID, Name: k.Text, Type: k.DocumentType, IssuedOn: issued}
	if k.ValidityDays > 0 && err == nil {
		doc.ExpiresOn = day.AddDate(0, 0, k.ValidityDays).Format(time.DateOnly)
	}
	var prev *procurement.Document
	for i := range a.Documents {
		if a.Documents[i].ID == k.ID {
			prev = &a.Documents[i]
		}
	}
	// The file itself was uploaded straight to S3 (see uploadDocument);
	// the form keeps only the issue date.
	if prev != nil && prev.FileID != "" {
		doc.SHA256, doc.Name, doc.FileID = prev.SHA256, prev.Name, prev.FileID
	} else {
		errs = append(errs, fieldError{ID: id, Text: q.T("apply.fileMissing")})
	}
	if errs != nil {
		return errs
	}
	if prev != nil {
		*prev = doc
	} else {
		a.Documents = append(a.Documents, doc)
	}
	return nil
}

// applyTaskOf maps the API's field errors to the task that fixes them.
func applyTaskOf(field string) string {
	switch {
	case strings.HasPrefix(field, "categories"):
		return "goto-categories"
	case strings.HasPrefix(field, "members"):
		return "goto-members"
	case strings.Contains(field, "exclusions"):
		return "goto-exclusions"
	}
	return "goto-criteria"
}

func (q *req) applySubmit() error {
	d, err := q.draftDPS()
	if err != nil {
		return err
	}
	_ = q.r.ParseForm()
	var a application
	if !decodeState(q.r.FormValue("state"), &a) {
		return q.renderApply(400, q.applyView(d, application{}, "tasks"), []fieldError{{ID: "goto-categories", Text: q.T("draft.stateLost")}})
	}
	body := a
	body.Done = nil
	if body.Documents == nil {
		body.Documents = []procurement.Document{}
	}
	if body.Members == nil {
		body.Members = []procurement.Member{}
	}
	var created appView
	err = q.send("POST", "/dps/"+d.ID+"/applications", body, &created)
	if err != nil {
		var ae *apiError
		if asAPI(err, &ae) && ae.Status == 400 {
			ids := map[string]string{}
			for _, fe := range ae.Fields {
				ids[indexRe.ReplaceAllString(fe.Field, "[]")] = applyTaskOf(fe.Field)
			}
			errs, _ := q.fieldErrors(err, "goto-criteria", ids)
			return q.renderApply(400, q.applyView(d, a, "check"), errs)
		}
		return err
	}
	q.redirect("/applications/" + d.ID + "/" + created.ID + "?done=applied")
	return nil
}

// readExclusions reads a party's answers to the exclusion grounds: yes
// (with an explanation) or no for each.
func (q *req) readExclusions(d procurement.DPS, prefix string) ([]procurement.ExclusionAnswer, []fieldError) {
	yes, no := true, false
	var out []procurement.ExclusionAnswer
	var errs []fieldError
	for _, g := range d.ExclusionGrounds {
		id := prefix + g.ID
		ans := procurement.ExclusionAnswer{Ground: g.ID, Explanation: strings.TrimSpace(q.r.FormValue(id + "-explanation"))}
		switch q.r.FormValue(id) {
		case "yes":
			ans.Applies = &yes
			if ans.Explanation == "" {
				errs = append(errs, fieldError{ID: id + "-explanation", Text: q.T("apply.explanationMissing")})
			}
		case "no":
			ans.Applies = &no
		default:
			errs = append(errs, fieldError{ID: id, Text: q.h.cat.T(q.lang, "apply.exclusionMissing", map[string]any{"Question": g.Question})})
		}
		out = append(out, ans)
	}
	return out, errs
}

// declarationPage is a renewed self-declaration request and its form.
type declarationPage struct {
	R       procurement.DeclarationRequest
	DPS     procurement.DPS
	answers []procurement.ExclusionAnswer
	// Docs are the documents attached so far (declfiles.go).
	Docs []procurement.Document
}

// Exclusion returns the answer given so far (member is ignored: the
// provider declares for itself).
func (p *declarationPage) Exclusion(member int, ground string) procurement.ExclusionAnswer {
	for _, e := range p.answers {
		if e.Ground == ground {
			return e
		}
	}
	return procurement.ExclusionAnswer{}
}

func (q *req) loadDeclaration() (*declarationPage, error) {
	var l list[procurement.DeclarationRequest]
	if err := q.get("/providers/"+q.user.Org+"/declaration-requests", url.Values{"limit": {"100"}}, &l); err != nil {
		return nil, err
	}
	for _, r := range l.Items {
		if r.ID == q.r.PathValue("id") {
			p := &declarationPage{R: r}
			if err := q.get("/dps/"+r.DPSID, nil, &p.DPS); err != nil {
				return nil, err
			}
			return p, nil
		}
	}
	return nil, &apiError{Status: 404}
}

func (q *req) declaration() error {
	p, err := q.loadDeclaration()
	if err != nil {
		return err
	}
	return q.render(200, "declaration", "declaration.title", p, nil)
}

func (q *req) answerDeclaration() error {
	p, err := q.loadDeclaration()
	if err != nil {
		return err
	}
	// The upload page's way back: the page as it was.
	if s := q.r.PostFormValue("state"); s != "" && q.restoreDecl(p, s) {
		return q.render(200, "declaration", "declaration.title", p, nil)
	}
	answers, errs := q.readExclusions(p.DPS, "ex-")
	p.answers = answers
	docErrs := q.readDeclDocs(p, q.r.PostFormValue("documents"))
	if doc := q.r.PostFormValue("upload"); doc != "" {
		return q.uploadDeclDocument(p, doc)
	}
	if errs = append(errs, docErrs...); errs != nil {
		return q.render(400, "declaration", "declaration.title", p, errs)
	}
	body := map[string]any{"declaration": procurement.Declaration{Exclusions: answers, Criteria: []procurement.CriterionAnswer{}, SignedBy: q.user.Name},
		"documents": append([]procurement.Document{}, p.Docs...), "version": p.R.Version}
	err = q.send("POST", "/declaration-requests/"+p.R.ID+"/answers", body, nil)
	first := "ex-"
	if len(p.DPS.ExclusionGrounds) > 0 {
		first += p.DPS.ExclusionGrounds[0].ID
	}
	if errs, ok := q.fieldErrors(err, first, nil); ok {
		return q.render(400, "declaration", "declaration.title", p, errs)
	} else if err != nil {
		return err
	}
	q.redirect("/?done=declared")
	return nil
}

// documentCriterion returns the chosen categories' document criterion
// with the id.
func documentCriterion(d procurement.DPS, a application, id string) (procurement.Criterion, bool) {
	for _, cid := range a.Categories {
		cat, _ := d.Category(cid)
		for _, k := range cat.Criteria {
			if k.ID == id && k.Kind == procurement.KindDocument {
				return k, true
			}
		}
	}
	return procurement.Criterion{}, false
}

// uploadDocument keeps what the criteria page holds so far (what is
// complete of it) and shows the form that uploads a file for the document
// straight to S3, which returns the browser to applyFile.
func (q *req) uploadDocument(d procurement.DPS, a application, doc string) error {
	k, ok := documentCriterion(d, a, doc)
	if !ok {
		return q.renderApply(400, q.applyView(d, a, "criteria"), []fieldError{{ID: "goto-criteria", Text: q.T("draft.stateLost")}})
	}
	_ = q.readTask(d, &a, "criteria")
	state := encodeState(a)
	ret := q.href("/dps/"+d.ID+"/apply/file") + "?" + url.Values{"doc": {doc}, "state": {state}}.Encode()
	err := q.beginUpload(k.Text, q.r.FormValue("doc-"+doc+"-type"), ret, q.href("/dps/"+d.ID+"/apply"), state)
	if status, key, ok := uploadRefusal(err, "apply.fileNotAccepted"); ok {
		q.h.log.Info("a page's upload was not declared", "err", err)
		return q.renderApply(status, q.applyView(d, a, "criteria"), []fieldError{{ID: "doc-" + doc, Text: q.T(key)}})
	}
	return err
}

// applyFile is where S3 returns the browser after a file's upload: the
// arrival is confirmed through the API and the criteria page shows the
// file attached to its document, or why it was refused.
func (q *req) applyFile() error {
	d, err := q.draftDPS()
	if err != nil {
		return err
	}
	var a application
	if !decodeState(q.r.URL.Query().Get("state"), &a) {
		return q.renderApply(400, q.applyView(d, application{}, "tasks"), []fieldError{{ID: "goto-categories", Text: q.T("draft.stateLost")}})
	}
	doc := q.r.URL.Query().Get("doc")
	k, ok := documentCriterion(d, a, doc)
	if !ok {
		return q.renderApply(400, q.applyView(d, a, "criteria"), []fieldError{{ID: "goto-criteria", Text: q.T("draft.stateLost")}})
	}
	f, ok := q.arrivedFile()
	if !ok || f.Status != procurement.FileArrived {
		return q.renderApply(400, q.applyView(d, a, "criteria"), []fieldError{{ID: "doc-" + doc, Text: q.T("apply.fileNotAccepted")}})
	}
	nd := procurement.Document{ID: k.ID, Name: k.Text, Type: k.DocumentType, SHA256: f.SHA256, FileID: f.ID}
	i := slices.IndexFunc(a.Documents, func(x procurement.Document) bool { return x.ID == k.ID })
	if i >= 0 {
		nd.IssuedOn, nd.ExpiresOn = a.Documents[i].IssuedOn, a.Documents[i].ExpiresOn
		a.Documents[i] = nd
	} else {
		a.Documents = append(a.Documents, nd)
	}
	return q.renderApply(200, q.applyView(d, a, "criteria"), nil)
}
