package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rengas/rengas/shared/seed"
)

// A renewed self-declaration takes renewed certificates through the same
// form upload as the application's documents, without JavaScript: the
// upload keeps the answers typed so far, S3 returns the browser to the
// declaration page with the file attached, and the answer carries the
// document with its verified digest and issue date; the officer's
// register links its download, which gives the same bytes, and another
// provider gets the 404 of what does not exist.
func TestDeclarationDocumentUploadsToS3(t *testing.T) {
	e, _ := withBucket(t)
	officer := e.browser("officer-lahti")
	officer.follow("/fi/register/"+seed.DPSID+"/declarations", url.Values{"providers": {"prov-tyopaja"}, "declMessage": {"Vuosittainen tarkistus."},
		"declDue": {e.clock.Now().AddDate(0, 0, 21).Format(time.DateOnly)}})
	prov := e.browser("provider-tyopaja")
	var link string
	for _, a := range find(prov.get("/fi/").doc, element("a")) {
		if strings.HasPrefix(attr(a, "href"), "/fi/declarations/") {
			link = attr(a, "href")
		}
	}
	if link == "" {
		t.Fatal("no declaration request on the provider's front page")
	}
	answers := url.Values{"ex-convictions": {"no"}, "ex-tax-arrears": {"no"}, "ex-bankruptcy": {"no"}, "ex-professional-misconduct": {"no"},
		"documents": {inputValue(prov.get(link).doc, "documents")}}
	upload := func(file []byte) page {
		t.Helper()
		f := url.Values{"upload": {"tax-certificate"}, "doc-tax-certificate-type": {"application/pdf"}}
		for k, v := range answers {
			f[k] = v
		}
		return sendUpload(t, e, prov, link, f, link+"/file?", file)
	}
	if p := upload([]byte("MZ\x90\x00 not a pdf")); p.status != 400 || !strings.Contains(text(p.doc), "Tiedostoa ei hyväksytty") {
		t.Fatalf("an executable as a PDF: %d %s", p.status, text(p.doc))
	}
	file := []byte("%PDF-1.7\nverovelkatodistus 2027\n%%EOF\n")
	p := upload(file)
	if p.status != 200 || !strings.Contains(text(p.doc), "Liitetty:") {
		t.Fatalf("after the upload: %d %s", p.status, text(p.doc))
	}
	// The answers typed before the upload are kept.
	var kept bool
	for _, in := range find(p.doc, element("input")) {
		kept = kept || attr(in, "name") == "ex-bankruptcy" && attr(in, "value") == "no" && hasAttr(in, "checked")
	}
	if !kept {
		t.Errorf("the answers were not kept across the upload: %s", text(p.doc))
	}
	answers.Set("documents", inputValue(p.doc, "documents"))
	if p := prov.post(link, answers); p.status != 400 {
		t.Fatalf("a document without its issue date answered %d", p.status)
	}
	answers.Set("doc-tax-certificate-issued", e.clock.Now().AddDate(0, 0, -3).Format(time.DateOnly))
	prov.follow(link, answers)

	r, err := e.store.GetDeclarationRequest(context.Background(), strings.TrimPrefix(link, "/fi/declarations/"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(file)
	if len(r.Documents) != 1 || r.Documents[0].ID != "tax-certificate" || r.Documents[0].SHA256 != hex.EncodeToString(sum[:]) || r.Documents[0].FileID == "" {
		t.Fatalf("the answer's documents: %+v", r.Documents)
	}
	dl := "/fi/declarations/" + r.ID + "/documents/tax-certificate"
	if !links(officer.get("/fi/register").doc, dl) {
		t.Errorf("the register does not link %s", dl)
	}
	downloads(t, officer, dl, file)
	if p := e.browser("provider-college").get(dl); p.status != 404 {
		t.Errorf("another provider's download answered %d", p.status)
	}
}
