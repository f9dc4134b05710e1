package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// A bid's answers take attached files through the same form upload as an
// application's documents, without JavaScript: the bid form's upload
// button shows the form that posts straight to the bucket (the local S3),
// S3 returns the browser to the bid form with the typed bid as it was and
// the file attached to its criterion; a file that is not what it says is
// refused on the form. The submitted bid names the file with its verified
// digest; the bid form then shows its state and links its download, which
// gives the bidder the same bytes, and another provider the 404 of what
// does not exist.
func TestBidPageAttachesFiles(t *testing.T) {
	e, _ := withBucket(t)
	comp := openCompetition(t, e)
	prov := e.browser("provider-tyopaja")
	bidPath := "/fi/competitions/" + comp.ID + "/bid"
	form := prov.get(bidPath)
	if form.status != 200 || len(find(form.doc, func(n *html.Node) bool { return attr(n, "id") == "attach-employer-network" })) != 1 {
		t.Fatalf("the bid form has no upload button for a criterion: %d %s", form.status, text(form.doc))
	}
	offer := url.Values{"version": {"0"}, "key": {inputValue(form.doc, "key")}, "fixedFee": {"3 000"}, "price-employed": {"1 200"},
		"answer-individual-service": {"Viikoittaiset tapaamiset."}, "answer-employer-network": {"120 työnantajaa."}, "answer-outcome-follow-up": {"Kuukausiraportit."},
		"attachments": {inputValue(form.doc, "attachments")}, "subs": {"0"}}
	upload := func(mediaType string, file []byte) page {
		t.Helper()
		f := url.Values{}
		for k, v := range offer {
			f[k] = v
		}
		f.Set("upload", "employer-network")
		f.Set("attach-employer-network-type", mediaType)
		return sendUpload(t, e, prov, bidPath, f, "/fi/competitions/"+comp.ID+"/bid/file?", file)
	}
	if p := upload("application/pdf", []byte("MZ\x90\x00 not a pdf")); p.status != 400 || !strings.Contains(text(p.doc), "Tiedostoa ei hyväksytty") {
		t.Fatalf("an executable as a PDF: %d %s", p.status, text(p.doc))
	}
	file := []byte("%PDF-1.7\ntyönantajaverkosto 2026\n%%EOF\n")
	p := upload("application/pdf", file)
	if p.status != 200 || !strings.Contains(text(p.doc), "Liitetty:") {
		t.Fatalf("after the upload: %d %s", p.status, text(p.doc))
	}
	if !strings.Contains(text(p.doc), "Viikoittaiset tapaamiset.") || inputValue(p.doc, "fixedFee") != "3 000" {
		t.Errorf("the typed bid was not kept across the upload: %s", text(p.doc))
	}
	offer.Set("attachments", inputValue(p.doc, "attachments"))
	// Remove takes the file off the form again.
	detach := url.Values{"detach": {"employer-network/0"}}
	for k, v := range offer {
		detach[k] = v
	}
	if d := prov.post(bidPath, detach); d.status != 200 || strings.Contains(text(d.doc), "Liitetty:") {
		t.Errorf("removing the attachment: %d %s", d.status, text(d.doc))
	}
	check := prov.post(bidPath, offer)
	if check.status != 200 || !strings.Contains(text(check.doc), "Liitetty:") {
		t.Fatalf("check answers: %d %s", check.status, text(check.doc))
	}
	offer.Set("attachments", inputValue(check.doc, "attachments"))
	prov.follow(bidPath+"/submit", offer)

	ctx := context.Background()
	b, err := e.store.GetBid(ctx, comp.ID, "prov-tyopaja")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(file)
	refs := b.Attachments["employer-network"]
	if len(b.Attachments) != 1 || len(refs) != 1 || refs[0].SHA256 != hex.EncodeToString(sum[:]) || refs[0].Size != int64(len(file)) {
		t.Fatalf("the stored bid's attachments: %+v", b.Attachments)
	}

	// The bid form shows the stored file's state and links its download.
	again := prov.get(bidPath)
	checkPage(t, bidPath, again, "fi")
	dl := "/fi/competitions/" + comp.ID + "/bids/prov-tyopaja/attachments/" + refs[0].FileID
	if !links(again.doc, dl) || !strings.Contains(text(again.doc), "Liitetty:") {
		t.Fatalf("the bid form does not link %s: %s", dl, text(again.doc))
	}
	downloads(t, prov, dl, file)
	// Another provider gets the 404 of what does not exist.
	if p := e.browser("provider-college").get(dl); p.status != 404 {
		t.Errorf("another provider's download answered %d", p.status)
	}
}
