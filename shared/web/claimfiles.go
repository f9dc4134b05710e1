package web

import (
	"net/url"
	"strings"

	"github.com/rengas/rengas/shared/procurement"
)

// A claim's evidence as an uploaded file: the claim form's upload button
// keeps what the provider typed in the form (the referral, milestone and
// day), shows the form that sends the file straight to S3 (files.go), and
// S3 returns the browser to claimFile, which confirms the arrival and
// shows the contract page with the file attached to the claim form; the
// claim then names the file by its id with its verified SHA-256.

// claimFields are the claim form's fields the upload carries, by the
// referral's id.
func claimFields(ref string) []string {
	return []string{"referral", "milestone-" + ref, "achievedOn-" + ref}
}

// uploadEvidence shows the upload page for the claim's evidence.
func (q *req) uploadEvidence(d *contractData) error {
	ref := strings.TrimSpace(q.r.PostFormValue("referral"))
	kept := map[string]string{}
	for _, k := range claimFields(ref) {
		kept[k] = strings.TrimSpace(q.r.PostFormValue(k))
		d.Form[k] = kept[k]
	}
	state := encodeState(kept)
	ret := q.href(q.pageContract()+"/claim/file") + "?" + url.Values{"state": {state}}.Encode()
	err := q.beginUpload(q.T("claim.evidenceDocument"), q.r.PostFormValue("evidenceType-"+ref), ret, q.href(q.pageContract()+"/claim"), state)
	if status, key, ok := uploadRefusal(err, "apply.fileNotAccepted"); ok {
		q.h.log.Info("a page's upload was not declared", "err", err)
		return q.render(status, "contract", "contract.title", d, []fieldError{{ID: "evidenceUpload-" + ref, Text: q.T(key)}})
	}
	return err
}

// restoreClaim puts the claim form's kept fields back into the contract
// page's form; false when the state is not one.
func restoreClaim(d *contractData, state string) bool {
	var kept map[string]string
	if !decodeState(state, &kept) || kept["referral"] == "" {
		return false
	}
	for _, k := range claimFields(kept["referral"]) {
		d.Form[k] = kept[k]
	}
	return true
}

// claimFile is where S3 returns the browser after the evidence's upload:
// the contract page with the file attached to the claim form (its name,
// digest and id in the form), or why it was refused.
func (q *req) claimFile() error {
	d, err := q.loadContract()
	if err != nil {
		return err
	}
	if !restoreClaim(d, q.r.URL.Query().Get("state")) {
		return q.render(400, "contract", "contract.title", d, []fieldError{{ID: "main", Text: q.T("draft.stateLost")}})
	}
	ref := d.Form["referral"]
	f, ok := q.arrivedFile()
	if !ok || f.Status != procurement.FileArrived {
		return q.render(400, "contract", "contract.title", d, []fieldError{{ID: "evidenceUpload-" + ref, Text: q.T("apply.fileNotAccepted")}})
	}
	d.Form["evidenceFile-"+ref], d.Form["evidenceName-"+ref], d.Form["evidenceSha-"+ref] = f.ID, f.Name, f.SHA256
	return q.render(200, "contract", "contract.title", d, nil)
}

// claimEvidence downloads a claim's evidence file.
func (q *req) claimEvidence() error {
	return q.fileLink(q.apiContract() + "/claims/" + url.PathEscape(q.r.PathValue("claim")) + "/evidence/" + url.PathEscape(q.r.PathValue("file")) + "/content")
}
