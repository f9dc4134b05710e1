package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"

	"github.com/rengas/rengas/shared/outcomes"
	"github.com/rengas/rengas/shared/workdays"
)

// A claim's evidence goes as an uploaded file through the same form upload
// as the other pages' files, without JavaScript: the claim form's upload
// button keeps the typed milestone and day, S3 returns the browser to the
// contract page with the file attached to the claim form, and the claim
// names the file with its verified digest. The officer's contract page and
// verification queue link the evidence's download, which gives the same
// bytes; another provider gets the 404 of what does not exist.
func TestClaimEvidenceUploadsToS3(t *testing.T) {
	e, _ := withBucket(t)
	contract := awardedContract(t, e)
	officer, prov := e.browser("officer-lahti"), e.browser("provider-college")
	e.clock.Set(e.clock.Now().AddDate(0, 2, 0))
	today := workdays.DateString(e.clock.Now())
	officer.follow("/fi"+contract+"/conclude", url.Values{})
	p := prov.get("/fi" + contract)
	prov.follow("/fi"+contract+"/accept", url.Values{"version": {formVersion(p, "/accept", "", "")}})
	officer.follow("/fi"+contract+"/refer", url.Values{"clientRef": {"LAHTI-A"}, "segment": {"base"}, "referredOn": {today}})
	var ref string
	for _, f := range find(prov.get("/fi"+contract).doc, element("form")) {
		if strings.HasSuffix(attr(f, "action"), "/start") {
			ref = inputValue(f, "referral")
		}
	}
	prov.follow("/fi"+contract+"/start", url.Values{"referral": {ref}, "version": {"1"}, "startedOn-" + ref: {today}})

	claim := url.Values{"referral": {ref}, "milestone-" + ref: {"vocational-education"}, "achievedOn-" + ref: {today}}
	upload := func(file []byte) page {
		t.Helper()
		f := url.Values{"upload": {"evidence"}, "evidenceType-" + ref: {"application/pdf"}}
		for k, v := range claim {
			f[k] = v
		}
		return sendUpload(t, e, prov, "/fi"+contract+"/claim", f, "/fi"+contract+"/claim/file?", file)
	}
	if p := upload([]byte("MZ\x90\x00 not a pdf")); p.status != 400 || !strings.Contains(text(p.doc), "Tiedostoa ei hyväksytty") {
		t.Fatalf("an executable as a PDF: %d %s", p.status, text(p.doc))
	}
	file := []byte("%PDF-1.7\nopiskelutodistus 2026\n%%EOF\n")
	p = upload(file)
	if p.status != 200 || !strings.Contains(text(p.doc), "Liitetty:") {
		t.Fatalf("after the upload: %d %s", p.status, text(p.doc))
	}
	sum := sha256.Sum256(file)
	for _, k := range []string{"evidenceFile-", "evidenceName-", "evidenceSha-"} {
		claim.Set(k+ref, inputValue(p.doc, k+ref))
	}
	if claim.Get("evidenceSha-"+ref) != hex.EncodeToString(sum[:]) || claim.Get("evidenceFile-"+ref) == "" {
		t.Fatalf("the claim form does not carry the arrived file: %v", claim)
	}
	prov.follow("/fi"+contract+"/claim", claim)

	comp, provID, _ := strings.Cut(strings.TrimPrefix(contract, "/contracts/"), "/")
	_, cl, err := e.store.ReadClaim(context.Background(), comp, provID, ref+".vocational-education", func(*outcomes.Contract) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if ev := cl.Evidence; len(ev) != 1 || ev[0].FileID != claim.Get("evidenceFile-"+ref) || ev[0].SHA256 != hex.EncodeToString(sum[:]) || ev[0].Bytes != int64(len(file)) {
		t.Fatalf("the stored claim's evidence: %+v", ev)
	}
	// The officer's queue and contract page link the evidence's download.
	dl := "/fi" + contract + "/claims/" + ref + ".vocational-education/evidence/" + claim.Get("evidenceFile-"+ref)
	for _, path := range []string{"/fi/verification", "/fi" + contract} {
		if !links(officer.get(path).doc, dl) {
			t.Errorf("%s does not link %s", path, dl)
		}
	}
	downloads(t, officer, dl, file)
	if p := e.browser("provider-tyopaja").get(dl); p.status != 404 {
		t.Errorf("another provider's download answered %d", p.status)
	}
}
