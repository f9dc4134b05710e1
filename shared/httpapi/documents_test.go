package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rengas/rengas/shared/files"
)

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// pdf returns the bytes of a small PDF-looking file.
func pdf(text string) []byte { return []byte("%PDF-1.7\n" + text + "\n%%EOF\n") }

// upload declares a file as the user and PUTs body to the signed URL with
// the headers it came with; it returns the file id.
func (e *env) upload(user, name, mediaType string, declared, body []byte) string {
	e.t.Helper()
	r := e.must(e.do(user, "POST", "/files", map[string]any{"name": name, "mediaType": mediaType, "size": len(declared), "sha256": digest(declared)}), 201)
	if r.str("file.status") != "awaiting_upload" || r.str("upload.method") != "PUT" {
		e.t.Fatalf("signed upload: %s", r.raw)
	}
	hs := r.body["upload"].(map[string]any)["headers"].(map[string]any)
	if hs["x-amz-checksum-sha256"] != files.Checksum(digest(declared)) || hs["content-length"] != fmt.Sprint(len(declared)) || hs["content-type"] != mediaType {
		e.t.Fatalf("the upload's required headers do not bind the declaration: %v", hs)
	}
	req, _ := http.NewRequest("PUT", r.str("upload.url"), bytes.NewReader(body))
	for k, v := range hs {
		req.Header.Set(k, v.(string))
	}
	req.ContentLength = int64(len(body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		e.t.Fatalf("PUT to the signed URL: %s", res.Status)
	}
	return r.str("file.id")
}

// fetch downloads a signed link.
func (e *env) fetch(url string) []byte {
	e.t.Helper()
	res, err := http.Get(url)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		e.t.Fatalf("GET the signed link: %s %s", res.Status, b)
	}
	return b
}

func (e *env) objectExists(id string) bool {
	_, err := e.srv.Files.S3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(e.srv.Files.Name), Key: aws.String(files.Object(id))})
	return err == nil
}

func (e *env) registerNew() {
	e.t.Helper()
	e.must(e.do("provider-new", "POST", "/providers", map[string]any{"name": "Uusi Valmennus Oy", "businessId": "0114162-2",
		"legalForm": "company", "homeMunicipality": "Lahti", "contact": map[string]any{"name": "Ulla", "email": "ulla@example.fi"}}), 201)
}

// application is provider-new's application to ips-coaching with the two
// certificates as documents.
func application(tax, pension map[string]any) map[string]any {
	excl := []map[string]any{}
	for _, g := range []string{"convictions", "tax-arrears", "bankruptcy", "professional-misconduct"} {
		excl = append(excl, map[string]any{"ground": g, "applies": false})
	}
	return map[string]any{
		"categories": []string{"ips-coaching"},
		"declaration": map[string]any{"signedBy": "Ulla", "exclusions": excl, "criteria": []map[string]any{
			{"category": "ips-coaching", "criterion": "tax-certificate", "documentId": "tax"},
			{"category": "ips-coaching", "criterion": "pension-certificate", "documentId": "pension"},
			{"category": "ips-coaching", "criterion": "insurance", "confirmed": true},
			{"category": "ips-coaching", "criterion": "ips-fidelity", "confirmed": true},
		}},
		"documents": []any{tax, pension},
	}
}

func docOf(id, typ, fileID string, body []byte) map[string]any {
	d := map[string]any{"id": id, "name": id + ".pdf", "type": typ, "sha256": digest(body), "issuedOn": "2026-11-01", "expiresOn": "2027-05-01"}
	if fileID != "" {
		d["fileId"] = fileID
	}
	return d
}

// The way a document takes: declared and signed (1 DynamoDB round trip),
// PUT to S3, arrival checked (1 round trip), attached to an application,
// and downloaded by the DPS's officer with the same digest.
func TestUploadArriveAttachDownload(t *testing.T) {
	e := newEnv(t)
	e.registerNew()
	taxBody := pdf("Verovelkatodistus 2026")
	rt := e.store.RoundTrips()
	r := e.must(e.do("provider-new", "POST", "/files", map[string]any{"name": "Verovelkatodistus ä.pdf", "mediaType": "application/pdf", "size": len(taxBody), "sha256": digest(taxBody)}), 201)
	if n := e.store.RoundTrips() - rt; n != 1 {
		t.Errorf("signing an upload took %d DynamoDB round trips, want 1", n)
	}
	id := r.str("file.id")
	// Before the bytes arrive, confirming is refused and nothing can be attached.
	e.problem(e.do("provider-new", "POST", "/files/"+id+"/arrival", nil), 409, "")
	hs := r.body["upload"].(map[string]any)["headers"].(map[string]any)
	req, _ := http.NewRequest("PUT", r.str("upload.url"), bytes.NewReader(taxBody))
	for k, v := range hs {
		req.Header.Set(k, v.(string))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("PUT: %v %v", err, res)
	}
	res.Body.Close()

	// Another provider cannot learn of the file, confirm it or read it.
	e.problem(e.do("provider-staffing", "POST", "/files/"+id+"/arrival", nil), 404, "")
	e.problem(e.do("provider-staffing", "GET", "/files/"+id, nil), 404, "")
	e.problem(e.do("provider-staffing", "GET", "/files/"+id+"/content", nil), 404, "")

	rt = e.store.RoundTrips()
	r = e.must(e.do("provider-new", "POST", "/files/"+id+"/arrival", nil), 200)
	if n := e.store.RoundTrips() - rt; n != 1 {
		t.Errorf("the arrival took %d DynamoDB round trips, want 1", n)
	}
	t.Logf("round trips: sign 1, arrival %d", e.store.RoundTrips()-rt)
	if r.str("status") != "arrived" || r.str("scan") != "not_scanned" || r.str("scanNote") != "not scanned (no scanner locally)" || r.str("sha256") != digest(taxBody) {
		t.Fatalf("arrived file: %s", r.raw)
	}
	// Confirming again answers the same file and writes nothing.
	again := e.must(e.do("provider-new", "POST", "/files/"+id+"/arrival", nil), 200)
	if again.body["version"] != r.body["version"] {
		t.Errorf("a second confirmation changed the file: %s", again.raw)
	}
	// The arrival is on the file's audit chain, with the digest.
	ev := e.must(e.do("auditor", "GET", "/audit/chains/file."+id+"/events", nil), 200)
	if !strings.Contains(string(ev.raw), "file.arrived") || !strings.Contains(string(ev.raw), digest(taxBody)) {
		t.Errorf("the file's chain does not record its arrival with its digest: %s", ev.raw)
	}

	pensionBody := pdf("Työeläkevakuutustodistus")
	pension := e.upload("provider-new", "elake.pdf", "application/pdf", pensionBody, pensionBody)
	// Not confirmed yet: attaching it is refused, naming the field.
	e.problem(e.do("provider-new", "POST", dpsPath+"/applications", application(docOf("tax", "tax-certificate", id, taxBody), docOf("pension", "pension-certificate", pension, pensionBody))), 400, "documents[1].fileId")
	e.must(e.do("provider-new", "POST", "/files/"+pension+"/arrival", nil), 200)
	// A digest that is not the file's is refused.
	e.problem(e.do("provider-new", "POST", dpsPath+"/applications", application(docOf("tax", "tax-certificate", id, pensionBody), docOf("pension", "pension-certificate", pension, pensionBody))), 400, "documents[0].sha256")
	// Another provider cannot attach the file.
	e.problem(e.do("provider-staffing", "POST", dpsPath+"/applications", application(docOf("tax", "tax-certificate", id, taxBody), docOf("pension", "pension-certificate", pension, pensionBody))), 400, "documents[0].fileId")
	r = e.must(e.do("provider-new", "POST", dpsPath+"/applications", application(docOf("tax", "tax-certificate", id, taxBody), docOf("pension", "pension-certificate", pension, pensionBody))), 201)
	app := r.str("id")
	if r.str("documents.0.fileId") != id || r.str("documents.0.mediaType") != "application/pdf" || r.str("documents.0.size") != fmt.Sprint(len(taxBody)) {
		t.Errorf("the application's document does not carry the file: %s", r.raw)
	}
	// The application's audit event covers the documents' digests: its
	// digest is over the application as stored, documents included.
	content := dpsPath + "/applications/" + app + "/documents/tax/content"
	for _, u := range []string{"officer-lahti", "officer-ph", "auditor", "provider-new"} {
		l := e.must(e.do(u, "GET", content, nil), 200)
		got := e.fetch(l.str("url"))
		if digest(got) != digest(taxBody) || l.str("file.sha256") != digest(got) {
			t.Errorf("%s downloaded %d bytes with digest %s, want %s", u, len(got), digest(got), digest(taxBody))
		}
	}
	for _, u := range []string{"provider-staffing"} {
		e.problem(e.do(u, "GET", content, nil), 404, "")
	}
	// The documents' file states, for the pages: one read of the
	// application and one BatchGetItem.
	states := dpsPath + "/applications/" + app + "/documents"
	for _, u := range []string{"officer-lahti", "auditor", "provider-new"} {
		rt := e.store.RoundTrips()
		st := e.must(e.do(u, "GET", states, nil), 200)
		if n := e.store.RoundTrips() - rt; n > 3 {
			t.Errorf("the file states took %d DynamoDB round trips", n)
		} else if u == "officer-lahti" {
			t.Logf("an application's file states: %d DynamoDB round trips", n)
		}
		if st.str("items.0.documentId") != "tax" || st.str("items.0.fileId") != id || st.str("items.0.status") != "arrived" || st.str("items.0.scan") != "not_scanned" || st.str("items.0.readable") != "true" || st.str("items.1.documentId") != "pension" {
			t.Errorf("%s sees the file states %s", u, st.raw)
		}
	}
	e.problem(e.do("provider-staffing", "GET", states, nil), 404, "")
	e.problem(e.do("", "GET", content, nil), 401, "")
	e.problem(e.do("officer-lahti", "GET", dpsPath+"/applications/"+app+"/documents/nope/content", nil), 404, "")
	// The uploader reads its own file back by id; the officer cannot by id.
	e.must(e.do("provider-new", "GET", "/files/"+id+"/content", nil), 200)
	e.problem(e.do("officer-lahti", "GET", "/files/"+id+"/content", nil), 403, "")
	l := e.must(e.do("provider-new", "GET", "/files", nil), 200)
	if n := len(l.body["items"].([]any)); n != 2 {
		t.Errorf("the provider lists %d files, want 2", n)
	}
}

// Refusals: a type or size the rules do not take is refused at signing and
// nothing is stored; bytes that do not match the declaration are refused
// on arrival and deleted.
func TestUploadRefusals(t *testing.T) {
	e := newEnv(t)
	e.registerNew()
	body := pdf("x")
	e.problem(e.do("provider-new", "POST", "/files", map[string]any{"name": "big.pdf", "mediaType": "application/pdf", "size": 20<<20 + 1, "sha256": digest(body)}), 400, "size")
	e.problem(e.do("provider-new", "POST", "/files", map[string]any{"name": "run.exe", "mediaType": "application/x-msdownload", "size": len(body), "sha256": digest(body)}), 400, "mediaType")
	e.problem(e.do("provider-new", "POST", "/files", map[string]any{"name": "a.pdf", "mediaType": "application/pdf", "size": len(body), "sha256": "00"}), 400, "sha256")
	l := e.must(e.do("provider-new", "GET", "/files", nil), 200)
	if n := len(l.body["items"].([]any)); n != 0 {
		t.Fatalf("refused declarations stored %d files: %s", n, l.raw)
	}

	// Bytes other than those declared (same length): the local S3 takes
	// them (it does not enforce x-amz-checksum-sha256; S3 does), and the
	// arrival check refuses them and deletes the object.
	other := pdf("y")
	id := e.upload("provider-new", "a.pdf", "application/pdf", body, other)
	r := e.must(e.do("provider-new", "POST", "/files/"+id+"/arrival", nil), 200)
	if r.str("status") != "refused" || !strings.Contains(r.str("refusal"), "SHA-256") {
		t.Fatalf("wrong bytes: %s", r.raw)
	}
	if e.objectExists(id) {
		t.Error("the refused object is still in the bucket")
	}
	e.problem(e.do("provider-new", "GET", "/files/"+id+"/content", nil), 409, "")

	// A PNG declared, a PDF sent under the PNG's type: its first bytes give it away.
	id = e.upload("provider-new", "a.png", "image/png", body, body)
	r = e.must(e.do("provider-new", "POST", "/files/"+id+"/arrival", nil), 200)
	if r.str("status") != "refused" || !strings.Contains(r.str("refusal"), "first bytes") {
		t.Fatalf("a PDF declared as PNG: %s", r.raw)
	}
	if e.objectExists(id) {
		t.Error("the refused object is still in the bucket")
	}
	// Sent with another type than declared (the local S3 checks no
	// signature; S3 refuses it): the declaration on the record decides.
	r = e.must(e.do("provider-new", "POST", "/files", map[string]any{"name": "c.pdf", "mediaType": "application/pdf", "size": len(body), "sha256": digest(body)}), 201)
	req, _ := http.NewRequest("PUT", r.str("upload.url"), bytes.NewReader(body))
	for k, v := range r.body["upload"].(map[string]any)["headers"].(map[string]any) {
		req.Header.Set(k, v.(string))
	}
	req.Header.Set("Content-Type", "image/png")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	r = e.must(e.do("provider-new", "POST", "/files/"+r.str("file.id")+"/arrival", nil), 200)
	if r.str("status") != "refused" || !strings.Contains(r.str("refusal"), "image/png") {
		t.Fatalf("another type than declared: %s", r.raw)
	}

	// A refused file cannot be attached.
	e.problem(e.do("provider-new", "POST", dpsPath+"/applications", application(docOf("tax", "tax-certificate", id, body), docOf("pension", "pension-certificate", "", body))), 400, "documents[0].fileId")
}

// A bid's attachments, per quality criterion: the bidder's alone until the
// bids are opened, then the running buyer's evaluators' and the auditors'.
func TestBidAttachments(t *testing.T) {
	e := newEnv(t)
	e.admit("prov-staffing")
	now := e.clock.Now()
	def := definition(now)
	comp := e.publish(def)
	base := "/competitions/" + comp
	body := pdf("Työnantajaverkosto")
	id := e.upload("provider-tyopaja", "verkosto.pdf", "application/pdf", body, body)
	bid := with(offer(300000, 120000, 0), "attachments", map[string]any{"employer-network": []any{map[string]any{"fileId": id}}})
	e.problem(e.do("provider-tyopaja", "PUT", base+"/bids/mine", bid), 400, "attachments.employer-network[0].fileId")
	e.must(e.do("provider-tyopaja", "POST", "/files/"+id+"/arrival", nil), 200)
	e.problem(e.do("provider-tyopaja", "PUT", base+"/bids/mine", with(bid, "attachments", map[string]any{"no-such": []any{map[string]any{"fileId": id}}})), 400, "attachments.no-such")
	r := e.must(e.do("provider-tyopaja", "PUT", base+"/bids/mine", bid), 201)
	if r.str("attachments.employer-network.0.sha256") != digest(body) {
		t.Fatalf("the bid does not carry the attachment's digest: %s", r.raw)
	}
	content := base + "/bids/prov-tyopaja/attachments/" + id + "/content"
	e.must(e.do("provider-tyopaja", "GET", content, nil), 200)
	// Sealed: nobody else may know of it.
	for _, u := range []string{"officer-lahti", "auditor", "provider-staffing"} {
		e.problem(e.do(u, "GET", content, nil), 404, "")
	}
	deadline, _ := time.Parse(time.RFC3339, def["bidDeadline"].(string))
	e.openBids(deadline)
	e.problem(e.do("officer-lahti", "GET", content, nil), 409, "") // declare no conflict first
	e.must(e.do("officer-lahti", "POST", base+"/conflict-declarations", map[string]any{"statement": "No ties."}), 201)
	for _, u := range []string{"officer-lahti", "auditor"} {
		l := e.must(e.do(u, "GET", content, nil), 200)
		if digest(e.fetch(l.str("url"))) != digest(body) {
			t.Errorf("%s downloaded other bytes", u)
		}
	}
	e.problem(e.do("provider-staffing", "GET", content, nil), 404, "")
	// The attachments' states, for the pages.
	states := base + "/bids/prov-tyopaja/attachments"
	for _, u := range []string{"officer-lahti", "auditor", "provider-tyopaja"} {
		st := e.must(e.do(u, "GET", states, nil), 200)
		if st.str("items.0.fileId") != id || st.str("items.0.documentId") != id || st.str("items.0.readable") != "true" || st.str("items.0.scan") != "not_scanned" {
			t.Errorf("%s sees the attachments' states %s", u, st.raw)
		}
	}
	e.problem(e.do("provider-staffing", "GET", states, nil), 404, "")
}

// A renewed declaration comes with its documents as files; the DPS's
// officers download them.
func TestDeclarationDocuments(t *testing.T) {
	e := newEnv(t)
	r := e.must(e.do("officer-lahti", "POST", dpsPath+"/declaration-requests", map[string]any{"providerIds": []string{"prov-tyopaja"},
		"message": "Renew your tax certificate.", "dueOn": e.clock.Now().AddDate(0, 0, 21).Format(time.DateOnly)}), 201)
	var reqs []map[string]any
	if err := json.Unmarshal(r.raw, &reqs); err != nil || len(reqs) != 1 {
		t.Fatalf("declaration requests: %s", r.raw)
	}
	req := reqs[0]["id"].(string)
	body := pdf("Verovelkatodistus 2027")
	id := e.upload("provider-tyopaja", "vero.pdf", "application/pdf", body, body)
	e.must(e.do("provider-tyopaja", "POST", "/files/"+id+"/arrival", nil), 200)
	answer := map[string]any{"declaration": declaration("Tiina"), "version": 1, "documents": []any{docOf("tax-2027", "tax-certificate", id, body)}}
	// Another provider's file cannot be sent.
	other := pdf("other")
	otherID := e.upload("provider-staffing", "x.pdf", "application/pdf", other, other)
	e.must(e.do("provider-staffing", "POST", "/files/"+otherID+"/arrival", nil), 200)
	e.problem(e.do("provider-tyopaja", "POST", "/declaration-requests/"+req+"/answers", with(answer, "documents", []any{docOf("x", "tax-certificate", otherID, other)})), 400, "documents[0].fileId")
	r = e.must(e.do("provider-tyopaja", "POST", "/declaration-requests/"+req+"/answers", answer), 200)
	if r.str("documents.0.fileId") != id || r.str("documents.0.sha256") != digest(body) {
		t.Fatalf("the answer does not carry the file: %s", r.raw)
	}
	content := "/declaration-requests/" + req + "/documents/tax-2027/content"
	for _, u := range []string{"officer-lahti", "officer-ph", "auditor", "provider-tyopaja"} {
		l := e.must(e.do(u, "GET", content, nil), 200)
		if digest(e.fetch(l.str("url"))) != digest(body) {
			t.Errorf("%s downloaded other bytes", u)
		}
	}
	e.problem(e.do("provider-staffing", "GET", content, nil), 404, "")
}
