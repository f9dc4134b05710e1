package web

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/rengas/rengas/shared/procurement"
)

// Documents that come with a renewed self-declaration (renewed
// certificates): the declaration page offers the DPS's document criteria,
// each with the same form upload as the application's (files.go). The
// answers typed so far travel with the upload in the address S3 returns
// the browser to; the documents attached so far travel in a hidden field.
// Documents are optional: the answer sends those that have a file.

// declState is what the upload carries: the form's fields as posted and
// the documents attached so far.
type declState struct {
	Form url.Values             `json:"form"`
	Docs []procurement.Document `json:"docs"`
}

// DocCriteria are the DPS's document criteria, once each.
func (p *declarationPage) DocCriteria() []procurement.Criterion {
	var out []procurement.Criterion
	for _, c := range p.DPS.Categories {
		for _, k := range c.Criteria {
			if k.Kind == procurement.KindDocument && !slices.ContainsFunc(out, func(x procurement.Criterion) bool { return x.ID == k.ID }) {
				out = append(out, k)
			}
		}
	}
	return out
}

// Document returns the document attached for the criterion, or nil.
func (p *declarationPage) Document(id string) *procurement.Document {
	for i := range p.Docs {
		if p.Docs[i].ID == id {
			return &p.Docs[i]
		}
	}
	return nil
}

// DocsState is the attached documents as the form's hidden field carries them.
func (p *declarationPage) DocsState() string { return encodeState(p.Docs) }

// readDeclDocs takes the documents the form carries (only the DPS's
// document criteria, each with a file) and their issue dates as typed.
func (q *req) readDeclDocs(p *declarationPage, s string) []fieldError {
	var in []procurement.Document
	p.Docs = nil
	if s != "" {
		decodeState(s, &in)
	}
	var errs []fieldError
	for _, k := range p.DocCriteria() {
		i := slices.IndexFunc(in, func(d procurement.Document) bool { return d.ID == k.ID && d.FileID != "" })
		if i < 0 {
			continue
		}
		d := procurement.Document{ID: k.ID, Name: in[i].Name, Type: k.DocumentType, SHA256: in[i].SHA256, FileID: in[i].FileID, IssuedOn: in[i].IssuedOn}
		if v, ok := q.r.Form["doc-"+k.ID+"-issued"]; ok {
			d.IssuedOn = strings.TrimSpace(v[0])
		}
		if day, err := time.Parse(time.DateOnly, d.IssuedOn); err != nil {
			errs = append(errs, fieldError{ID: "doc-" + k.ID + "-issued", Text: q.T("draft.dateInvalid")})
		} else if k.ValidityDays > 0 {
			d.ExpiresOn = day.AddDate(0, 0, k.ValidityDays).Format(time.DateOnly)
		}
		p.Docs = append(p.Docs, d)
	}
	return errs
}

// uploadDeclDocument shows the upload page for a document criterion's file.
func (q *req) uploadDeclDocument(p *declarationPage, doc string) error {
	i := slices.IndexFunc(p.DocCriteria(), func(k procurement.Criterion) bool { return k.ID == doc })
	if i < 0 {
		return q.render(400, "declaration", "declaration.title", p, []fieldError{{ID: "main", Text: q.T("draft.stateLost")}})
	}
	form := url.Values{}
	for k, v := range q.r.PostForm {
		if strings.HasPrefix(k, "ex-") || strings.HasPrefix(k, "doc-") && strings.HasSuffix(k, "-issued") {
			form[k] = v
		}
	}
	state := encodeState(declState{Form: form, Docs: p.Docs})
	ret := q.href("/declarations/"+p.R.ID+"/file") + "?" + url.Values{"doc": {doc}, "state": {state}}.Encode()
	err := q.beginUpload(p.DocCriteria()[i].Text, q.r.PostFormValue("doc-"+doc+"-type"), ret, q.href("/declarations/"+p.R.ID), state)
	if status, key, ok := uploadRefusal(err, "apply.fileNotAccepted"); ok {
		q.h.log.Info("a page's upload was not declared", "err", err)
		return q.render(status, "declaration", "declaration.title", p, []fieldError{{ID: "doc-" + doc, Text: q.T(key)}})
	}
	return err
}

// restoreDecl puts the kept answers and documents back on the page.
func (q *req) restoreDecl(p *declarationPage, state string) bool {
	var st declState
	if !decodeState(state, &st) {
		return false
	}
	q.r.Form = st.Form
	if q.r.Form == nil {
		q.r.Form = url.Values{}
	}
	p.answers, _ = q.readExclusions(p.DPS, "ex-")
	q.readDeclDocs(p, encodeState(st.Docs))
	return true
}

// declarationFile is where S3 returns the browser after a document's
// upload: the declaration page with the answers kept and the file
// attached, or why it was refused.
func (q *req) declarationFile() error {
	p, err := q.loadDeclaration()
	if err != nil {
		return err
	}
	if !q.restoreDecl(p, q.r.URL.Query().Get("state")) {
		return q.render(400, "declaration", "declaration.title", p, []fieldError{{ID: "main", Text: q.T("draft.stateLost")}})
	}
	doc := q.r.URL.Query().Get("doc")
	i := slices.IndexFunc(p.DocCriteria(), func(k procurement.Criterion) bool { return k.ID == doc })
	f, ok := q.arrivedFile()
	if i < 0 || !ok || f.Status != procurement.FileArrived {
		return q.render(400, "declaration", "declaration.title", p, []fieldError{{ID: "doc-" + doc, Text: q.T("apply.fileNotAccepted")}})
	}
	k := p.DocCriteria()[i]
	nd := procurement.Document{ID: k.ID, Name: f.Name, Type: k.DocumentType, SHA256: f.SHA256, FileID: f.ID}
	if d := p.Document(k.ID); d != nil {
		nd.IssuedOn = d.IssuedOn
		*d = nd
	} else {
		nd.IssuedOn = q.r.Form.Get("doc-" + k.ID + "-issued")
		p.Docs = append(p.Docs, nd)
	}
	return q.render(200, "declaration", "declaration.title", p, nil)
}
