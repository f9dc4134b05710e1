package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/rengas/rengas/shared/procurement"
)

// A bid's attachments: files supporting the answers to its quality
// criteria, uploaded through the same form upload as an application's
// documents (files.go). The typed bid travels with the upload in the
// address S3 returns the browser to, as the application does, so that the
// provider comes back to the form as they left it with the file attached.

// attachInput is the form's hidden field that carries the attachments as
// typed so far (the pages keep no state of their own); what it names is
// checked by the API when the bid is submitted (the caller's own arrived
// files), which fills in each file's name and verified digest.
const attachInput = "attachments"

// readAttachments takes the attachments the form carries, keeping only
// the competition's criteria and at most the API's limit per criterion.
func readAttachments(p *competitionPage, s string) map[string][]procurement.FileRef {
	var in map[string][]procurement.FileRef
	out := map[string][]procurement.FileRef{}
	if s == "" || !decodeState(s, &in) {
		return out
	}
	for _, c := range p.C.QualityCriteria {
		for _, r := range in[c.ID] {
			if r.FileID != "" && len(out[c.ID]) < maxAttachments {
				out[c.ID] = append(out[c.ID], r)
			}
		}
	}
	return out
}

// maxAttachments is the API's limit on the files per criterion.
const maxAttachments = 10

// attachField is the form's id of a criterion's attachments.
func attachField(crit string) string { return "attach-" + crit }

// bidAttachmentAction handles the bid form's upload and remove buttons
// for attachments; ok is false when the form asked for neither.
func (q *req) bidAttachmentAction(p *competitionPage, in bidInput) (ok bool, err error) {
	if r := q.r.PostFormValue("detach"); r != "" {
		crit, n, _ := strings.Cut(r, "/")
		if i, err := strconv.Atoi(n); err == nil && i >= 0 && i < len(in.Attachments[crit]) {
			in.Attachments[crit] = slices.Delete(in.Attachments[crit], i, i+1)
		}
		return true, q.renderBid(200, p, in, nil)
	}
	crit := q.r.PostFormValue("upload")
	if crit == "" {
		return false, nil
	}
	i := slices.IndexFunc(p.C.QualityCriteria, func(c procurement.QualityCriterion) bool { return c.ID == crit })
	if i < 0 {
		return true, q.renderBid(400, p, in, []fieldError{{ID: "continue", Text: q.T("draft.stateLost")}})
	}
	if len(in.Attachments[crit]) >= maxAttachments {
		return true, q.renderBid(400, p, in, []fieldError{{ID: attachField(crit), Text: q.T("bid.attachTooMany")}})
	}
	state := encodeState(in)
	ret := q.href("/competitions/"+p.C.ID+"/bid/file") + "?" + url.Values{"criterion": {crit}, "state": {state}}.Encode()
	err = q.beginUpload(p.C.QualityCriteria[i].Description, q.r.PostFormValue(attachField(crit)+"-type"), ret, q.href("/competitions/"+p.C.ID+"/bid"), state)
	if status, key, ok := uploadRefusal(err, "apply.fileNotAccepted"); ok {
		q.h.log.Info("a page's upload was not declared", "err", err)
		return true, q.renderBid(status, p, in, []fieldError{{ID: attachField(crit), Text: q.T(key)}})
	}
	return true, err
}

// bidFile is where S3 returns the browser after an attachment's upload:
// the arrival is confirmed through the API and the bid form shows the file
// attached to its criterion, or why it was refused.
func (q *req) bidFile() error {
	p, err := q.loadCompetition(false)
	if err != nil {
		return err
	}
	var in bidInput
	if !decodeState(q.r.URL.Query().Get("state"), &in) {
		return q.renderBid(400, p, newBidInput(), []fieldError{{ID: "continue", Text: q.T("draft.stateLost")}})
	}
	in.normalise(p)
	crit := q.r.URL.Query().Get("criterion")
	if !slices.ContainsFunc(p.C.QualityCriteria, func(c procurement.QualityCriterion) bool { return c.ID == crit }) {
		return q.renderBid(400, p, in, []fieldError{{ID: "continue", Text: q.T("draft.stateLost")}})
	}
	f, ok := q.arrivedFile()
	if !ok || f.Status != procurement.FileArrived {
		return q.renderBid(http.StatusBadRequest, p, in, []fieldError{{ID: attachField(crit), Text: q.T("apply.fileNotAccepted")}})
	}
	if !slices.ContainsFunc(in.Attachments[crit], func(r procurement.FileRef) bool { return r.FileID == f.ID }) && len(in.Attachments[crit]) < maxAttachments {
		r := procurement.FileRef{FileID: f.ID}
		r.Fill(&f)
		in.Attachments[crit] = append(in.Attachments[crit], r)
	}
	return q.renderBid(200, p, in, nil)
}

// normalise fills in the maps a bid input decoded from the address may
// lack and drops attachments of criteria the competition does not have.
func (in *bidInput) normalise(p *competitionPage) {
	if in.Prices == nil {
		in.Prices = map[string]string{}
	}
	if in.Answers == nil {
		in.Answers = map[string]string{}
	}
	in.Attachments = readAttachments(p, encodeState(in.Attachments))
	if !validKey(in.Key) {
		in.Key = newKey()
	}
}

// AttachmentsState is the attachments as the form's hidden field carries them.
func (in bidInput) AttachmentsState() string { return encodeState(in.Attachments) }
