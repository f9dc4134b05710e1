package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rengas/rengas/shared/auth"
	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/files"
	"github.com/rengas/rengas/shared/httpapi"
	"github.com/rengas/rengas/shared/locals3"
	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/seed"
)

// uploadDoc presses a document's upload button on the criteria page (with
// the page's answers so far) and sends the upload page's form as a
// browser without JavaScript does: straight to the bucket (the local S3),
// its hidden fields and then the file. S3 redirects the browser back to
// the pages, which confirm the arrival; the page it lands on is returned.
func uploadDoc(t *testing.T, e *env, b *browser, lang string, form url.Values, doc, mediaType string, file []byte) page {
	t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	f.Set("upload", doc)
	f.Set("doc-"+doc+"-type", mediaType)
	return sendUpload(t, e, b, "/"+lang+"/dps/"+seed.DPSID+"/apply", f, "/"+lang+"/dps/"+seed.DPSID+"/apply/file?", file)
}

// sendUpload posts the form (which presses an upload button) to the page
// at path and sends the upload page's form to the bucket as a browser
// without JavaScript does; S3 must send the browser back to a page at
// back, whose answer is returned.
func sendUpload(t *testing.T, e *env, b *browser, path string, f url.Values, back string, file []byte) page {
	t.Helper()
	up := b.post(path, f)
	forms := find(up.doc, func(n *html.Node) bool {
		return n.Type == html.ElementNode && n.Data == "form" && attr(n, "id") == "upload-form"
	})
	if up.status != 200 || len(forms) != 1 {
		t.Fatalf("the upload page: %d %s", up.status, text(up.doc))
	}
	action := attr(forms[0], "action")
	if u, _ := url.Parse(action); !strings.Contains(up.header.Get("Content-Security-Policy"), "form-action 'self' "+u.Scheme+"://"+u.Host) {
		t.Errorf("the upload page's CSP does not let the form post to the bucket: %s", up.header.Get("Content-Security-Policy"))
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, in := range find(forms[0], element("input")) {
		if attr(in, "type") == "hidden" {
			mw.WriteField(attr(in, "name"), attr(in, "value"))
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="scan.bin"`)
	h.Set("Content-Type", "application/octet-stream")
	w, _ := mw.CreatePart(h)
	w.Write(file)
	mw.Close()
	req, _ := http.NewRequest("POST", action, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	sent := b.do(req)
	if sent.status != http.StatusSeeOther || !strings.HasPrefix(sent.location, e.url+back) {
		t.Fatalf("the bucket answered the form %d, to %q", sent.status, sent.location)
	}
	return b.get(strings.TrimPrefix(sent.location, e.url))
}

// withBucket is a page environment whose API has a documents bucket on
// the local S3 server.
func withBucket(t *testing.T) (*env, *httpapi.Server) {
	objects, err := locals3.Start(locals3.DocumentsBucket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { objects.Close() })
	var srv *httpapi.Server
	e := newEnvWith(t, func(s *httpapi.Server) {
		srv = s
		if s.Files, err = files.Connect(context.Background(), objects.Endpoint, locals3.DocumentsBucket, false); err != nil {
			t.Fatal(err)
		}
	})
	return e, srv
}

// Without JavaScript, a document's file goes from the browser straight to
// the documents bucket (here the local S3 server) by a presigned POST
// form; S3 returns the browser to the application, whose page confirms
// the arrival (size, type and first bytes checked, SHA-256 computed) and
// shows the file attached. The submitted application names the files, and
// the DPS's officer downloads them with the same digest from the
// application's page. A file that is not what it says is refused on the
// page, in its language, and its object deleted.
func TestApplicationPageUploadsToS3(t *testing.T) {
	e, srv := withBucket(t)
	b := e.browser("provider-new")
	reg := url.Values{"name": {"Uusi Valmennus Oy"}, "businessId": {"2617415-6"}, "legalForm": {"company"}, "homeMunicipality": {"Lahti"},
		"contactName": {"Ulla"}, "contactEmail": {"ulla@example.fi"}}
	if p := b.post("/fi/registration", reg); p.status != http.StatusSeeOther {
		t.Fatalf("registration answered %d: %s", p.status, text(p.doc))
	}
	state := inputValue(b.get("/fi/dps/"+seed.DPSID+"/apply").doc, "state")
	task := func(name string, form url.Values) {
		t.Helper()
		form.Set("state", state)
		form.Set("task", name)
		p := b.post("/fi/dps/"+seed.DPSID+"/apply", form)
		if p.status != 200 {
			t.Fatalf("task %s answered %d: %s", name, p.status, text(p.doc))
		}
		state = inputValue(p.doc, "state")
	}
	task("categories", url.Values{"categories": {"job-coaching"}})
	no := url.Values{}
	for _, g := range []string{"convictions", "tax-arrears", "bankruptcy", "professional-misconduct"} {
		no.Set("ex-"+g, "no")
	}
	task("exclusions", no)
	criteria := func() url.Values {
		return url.Values{"state": {state}, "task": {"criteria"}, "crit-job-coaching-insurance": {"yes"}, "crit-job-coaching-experience": {"3"},
			"doc-tax-certificate-issued": {"2026-11-20"}, "doc-pension-certificate-issued": {"2026-11-20"}}
	}
	// Saving the criteria without the files is refused: each document
	// needs its file.
	if p := b.post("/fi/dps/"+seed.DPSID+"/apply", criteria()); p.status != 400 || !strings.Contains(text(p.doc), "Valitse asiakirjan tiedosto") {
		t.Fatalf("criteria without files: %d %s", p.status, text(p.doc))
	}

	// An executable sent as a PDF is refused on the page, in its language:
	// its first bytes give it away on arrival, and its object is deleted.
	if p := uploadDoc(t, e, b, "sv", criteria(), "tax-certificate", "application/pdf", []byte("MZ\x90\x00 not a pdf")); p.status != 400 || !strings.Contains(text(p.doc), "Filen godtogs inte") {
		t.Fatalf("an executable: %d %s", p.status, text(p.doc))
	}
	ctx := context.Background()
	l, err := e.store.ListFiles(ctx, "prov-new", "", 10)
	if err != nil || len(l.Items) != 1 {
		t.Fatalf("files: %v %v", l.Items, err)
	}
	if _, herr := srv.Files.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(srv.Files.Name), Key: aws.String(files.Object(l.Items[0].ID))}); l.Items[0].Status != procurement.FileRefused || herr == nil {
		t.Errorf("the executable's file is %s, its object kept: %t", l.Items[0].Status, herr == nil)
	}

	file := []byte("%PDF-1.7\nverovelkatodistus 2026\n%%EOF\n")
	for _, doc := range []string{"tax-certificate", "pension-certificate"} {
		p := uploadDoc(t, e, b, "fi", criteria(), doc, "application/pdf", file)
		if p.status != 200 || !strings.Contains(text(p.doc), "Liitetty:") {
			t.Fatalf("after uploading %s: %d %s", doc, p.status, text(p.doc))
		}
		state = inputValue(p.doc, "state")
	}
	task("criteria", criteria())
	done := b.follow("/fi/dps/"+seed.DPSID+"/apply/submit", url.Values{"state": {state}})
	if !strings.Contains(text(done.doc), "Hakemuksesi vastaanotettiin") {
		t.Fatalf("after submitting: %s", text(done.doc))
	}

	// The application names the stored files with their verified digest.
	apps, err := e.store.ListProviderApplications(ctx, "prov-new", "", 10)
	if err != nil || len(apps.Items) != 1 {
		t.Fatalf("applications: %v %v", apps.Items, err)
	}
	app := apps.Items[0]
	sum := sha256.Sum256(file)
	for _, d := range app.Documents {
		if d.FileID == "" || d.SHA256 != hex.EncodeToString(sum[:]) || d.MediaType != "application/pdf" || d.Size != int64(len(file)) {
			t.Errorf("document %s does not name its stored file: %+v", d.ID, d)
		}
	}
	// The officer's page of the application shows each document's file
	// state in the officer's language and links its download, which goes
	// through the API's access rules to a presigned GET.
	officer := e.browser("officer-lahti")
	appPage := "/sv/applications/" + seed.DPSID + "/" + app.ID
	p := officer.get(appPage)
	checkPage(t, appPage, p, "sv")
	if p.status != 200 || strings.Count(text(p.doc), "Inte virusgranskad (ingen granskare lokalt)") != 2 {
		t.Fatalf("the officer's application page: %d %s", p.status, text(p.doc))
	}
	dl := "/sv/applications/" + seed.DPSID + "/" + app.ID + "/documents/tax-certificate"
	if !links(p.doc, dl) {
		t.Errorf("the application page does not link %s", dl)
	}
	to := officer.get(dl)
	if to.status != http.StatusSeeOther || !strings.HasPrefix(to.location, "http://127.0.0.1:") {
		t.Fatalf("the download answered %d to %q", to.status, to.location)
	}
	res, err := http.Get(to.location)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !bytes.Equal(got, file) {
		t.Errorf("the officer downloaded %q, want the page's file", got)
	}
	// The applicant downloads it too; another provider gets the 404 of
	// what does not exist, on the page and on the download.
	if p := b.get(strings.Replace(dl, "/sv/", "/fi/", 1)); p.status != http.StatusSeeOther {
		t.Errorf("the applicant's download answered %d", p.status)
	}
	other := e.browser("provider-staffing")
	if p := other.get(dl); p.status != http.StatusNotFound {
		t.Errorf("another provider's download answered %d", p.status)
	}
	if p := other.get(appPage); p.status != http.StatusNotFound {
		t.Errorf("another provider's application page answered %d", p.status)
	}
	officerActor := procurement.Actor{UserID: "officer-lahti", Role: procurement.RoleOfficer, Org: seed.BuyerLahti}
	if link := apiGet(t, srv, officerActor, "/dps/"+seed.DPSID+"/applications/"+app.ID+"/documents/pension-certificate/content"); !strings.Contains(link, files.Object(app.Documents[1].FileID)) {
		t.Errorf("the API's link %s is not to the pension certificate's object", link)
	}
}

// apiCall calls the API's function as the actor, as API Gateway would,
// and decodes its JSON answer; it fails the test on another status.
func apiCall(t *testing.T, srv *httpapi.Server, fn string, a procurement.Actor, method, path string, body any, status int) map[string]any {
	t.Helper()
	claims := map[string]string{auth.ClaimSubject: a.UserID, auth.ClaimOrg: a.Org, auth.ClaimGroups: "[" + auth.GroupOf(a.Role) + "]"}
	raw, _ := json.Marshal(body)
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RawPath: path, Headers: map[string]string{"content-type": "application/json"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{Stage: "$default", RequestID: "test",
			HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims}}},
	}
	if body != nil {
		ev.Body = string(raw)
	}
	res, err := srv.LambdaEntry(fn)(context.Background(), ev)
	if err != nil || res.StatusCode != status {
		t.Fatalf("%s %s: %v %d %s", method, path, err, res.StatusCode, res.Body)
	}
	var out map[string]any
	json.Unmarshal([]byte(res.Body), &out)
	return out
}

// After the opening, the evaluation page shows each bid's attachments
// under their criterion with their file state in the officer's language,
// and links their download, which the API's access rules decide: the
// officer (once declared free of conflicts) gets the file, another
// provider the 404 of what does not exist.
func TestEvaluationPageLinksBidAttachments(t *testing.T) {
	e, srv := withBucket(t)
	c := openCompetition(t, e)
	tyopaja := procurement.Actor{UserID: "provider-tyopaja", Role: procurement.RoleProvider, Org: "prov-tyopaja"}
	body := []byte("%PDF-1.7\ntyönantajaverkosto\n%%EOF\n")
	id := putFile(t, srv, tyopaja, "verkosto.pdf", body)
	apiCall(t, srv, httpapi.FnCompetitions, tyopaja, "PUT", "/competitions/"+c.ID+"/bids/mine", map[string]any{
		"fixedFeeCents": 300000, "outcomePricesCents": map[string]int{"employed": 120000},
		"answers":     map[string]string{"individual-service": "Viikoittain.", "employer-network": "120 työnantajaa.", "outcome-follow-up": "Kuukausittain."},
		"attachments": map[string]any{"employer-network": []any{map[string]any{"fileId": id}}}, "version": 0}, 201)

	e.clock.Set(c.BidDeadline.Add(dynamo.OpeningGrace + time.Second))
	if _, err := e.store.RunSchedule(context.Background()); err != nil {
		t.Fatal(err)
	}
	officer := e.browser("officer-lahti")
	officer.follow("/en/competitions/"+c.ID+"/conflict", url.Values{"statement": {"No ties to any bidder."}})
	where := "/en/competitions/" + c.ID + "/evaluation"
	p := officer.get(where)
	checkPage(t, where, p, "en")
	dl := "/en/competitions/" + c.ID + "/bids/prov-tyopaja/attachments/" + id
	linked := links(p.doc, dl)
	if p.status != 200 || !linked || !strings.Contains(text(p.doc), "verkosto.pdf") || !strings.Contains(text(p.doc), "Not scanned (no scanner locally)") {
		t.Fatalf("the evaluation page (linked %t): %d %s", linked, p.status, text(p.doc))
	}
	downloads(t, officer, dl, body)
	if p := e.browser("provider-staffing").get(dl); p.status != http.StatusNotFound {
		t.Errorf("another provider's download answered %d", p.status)
	}
}

// putFile uploads a PDF through the API as the actor (declared, PUT,
// confirmed) and returns its id.
func putFile(t *testing.T, srv *httpapi.Server, a procurement.Actor, name string, body []byte) string {
	t.Helper()
	sum := sha256.Sum256(body)
	up := apiCall(t, srv, httpapi.FnQualification, a, "POST", "/files", map[string]any{"name": name, "mediaType": "application/pdf", "size": len(body), "sha256": hex.EncodeToString(sum[:])}, 201)
	upload := up["upload"].(map[string]any)
	req, _ := http.NewRequest("PUT", upload["url"].(string), bytes.NewReader(body))
	for k, v := range upload["headers"].(map[string]any) {
		req.Header.Set(k, v.(string))
	}
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
		t.Fatalf("PUT: %v %v", err, res)
	}
	id := up["file"].(map[string]any)["id"].(string)
	apiCall(t, srv, httpapi.FnQualification, a, "POST", "/files/"+id+"/arrival", nil, 200)
	return id
}

// The register page links the documents that came with declaration
// answers; a document recorded by its details only (the seeded
// applications') tells, in the user's language, that there is no file to
// open.
func TestDeclarationDocumentLinksAndUnreadableFiles(t *testing.T) {
	e, srv := withBucket(t)
	officerActor := procurement.Actor{UserID: "officer-lahti", Role: procurement.RoleOfficer, Org: seed.BuyerLahti}
	tyopaja := procurement.Actor{UserID: "provider-tyopaja", Role: procurement.RoleProvider, Org: "prov-tyopaja"}
	var reqs []map[string]any
	apiCall(t, srv, httpapi.FnQualification, officerActor, "POST", "/dps/"+seed.DPSID+"/declaration-requests", map[string]any{"providerIds": []string{"prov-tyopaja"},
		"message": "Uusi verovelkatodistus.", "dueOn": e.clock.Now().AddDate(0, 0, 21).Format(time.DateOnly)}, 201)
	l := apiCall(t, srv, httpapi.FnQualification, tyopaja, "GET", "/providers/prov-tyopaja/declaration-requests", nil, 200)
	for _, it := range l["items"].([]any) {
		reqs = append(reqs, it.(map[string]any))
	}
	if len(reqs) == 0 {
		t.Fatal("no declaration request")
	}
	reqID := reqs[0]["id"].(string)
	body := []byte("%PDF-1.7\nverovelkatodistus 2027\n%%EOF\n")
	sum := sha256.Sum256(body)
	id := putFile(t, srv, tyopaja, "vero.pdf", body)
	excl := []map[string]any{}
	for _, g := range []string{"convictions", "tax-arrears", "bankruptcy", "professional-misconduct"} {
		excl = append(excl, map[string]any{"ground": g, "applies": false})
	}
	apiCall(t, srv, httpapi.FnQualification, tyopaja, "POST", "/declaration-requests/"+reqID+"/answers", map[string]any{
		"declaration": map[string]any{"signedBy": "Tiina", "exclusions": excl, "criteria": []any{}}, "version": reqs[0]["version"],
		"documents": []any{map[string]any{"id": "tax-2027", "name": "Verovelkatodistus 2027", "type": "tax-certificate", "sha256": hex.EncodeToString(sum[:]),
			"issuedOn": e.clock.Now().Format(time.DateOnly), "expiresOn": e.clock.Now().AddDate(0, 3, 0).Format(time.DateOnly), "fileId": id}}}, 200)

	officer := e.browser("officer-lahti")
	p := officer.get("/fi/register")
	checkPage(t, "/fi/register", p, "fi")
	dl := "/fi/declarations/" + reqID + "/documents/tax-2027"
	if !links(p.doc, dl) {
		t.Fatalf("the register page does not link %s: %s", dl, text(p.doc))
	}
	downloads(t, officer, dl, body)
	if p := e.browser("provider-staffing").get(dl); p.status != http.StatusNotFound {
		t.Errorf("another provider's download answered %d", p.status)
	}

	// A seeded application's documents are details only: the page says
	// so, and asking for the file tells why it cannot be opened.
	apps, err := e.store.ListProviderApplications(context.Background(), "prov-tyopaja", "", 10)
	if err != nil || len(apps.Items) == 0 || len(apps.Items[0].Documents) == 0 {
		t.Fatalf("seeded applications: %v %v", apps.Items, err)
	}
	a := apps.Items[0]
	page := officer.get("/sv/applications/" + a.DPSID + "/" + a.ID)
	if !strings.Contains(text(page.doc), "Ingen fil (endast uppgifter)") {
		t.Errorf("the application page does not say the documents have no file: %s", text(page.doc))
	}
	if p := officer.get("/sv/applications/" + a.DPSID + "/" + a.ID + "/documents/" + a.Documents[0].ID); p.status != http.StatusConflict || !strings.Contains(text(p.doc), "Filen kan inte öppnas nu") {
		t.Errorf("a details-only document's download answered %d: %s", p.status, text(p.doc))
	}
}

// apiGet calls the API's function as the actor, as API Gateway would, and
// returns the "url" of its JSON answer.
func apiGet(t *testing.T, srv *httpapi.Server, a procurement.Actor, path string) string {
	t.Helper()
	claims := map[string]string{auth.ClaimSubject: a.UserID, auth.ClaimOrg: a.Org, auth.ClaimGroups: "[" + auth.GroupOf(a.Role) + "]"}
	res, err := srv.LambdaEntry(httpapi.FnQualification)(context.Background(), events.APIGatewayV2HTTPRequest{
		Version: "2.0", RawPath: path, Headers: map[string]string{},
		RequestContext: events.APIGatewayV2HTTPRequestContext{Stage: "$default", RequestID: "test",
			HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: path},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims}}},
	})
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET %s: %v %d %s", path, err, res.StatusCode, res.Body)
	}
	var out struct {
		URL string `json:"url"`
	}
	if err := json.Unmarshal([]byte(res.Body), &out); err != nil {
		t.Fatal(err)
	}
	return out.URL
}

// links tells whether the page has a link to href.
func links(doc *html.Node, href string) bool {
	for _, a := range find(doc, element("a")) {
		if attr(a, "href") == href {
			return true
		}
	}
	return false
}

// downloads follows the page's download link dl as b (303 to the
// presigned GET) and fails unless the bucket gives the bytes want.
func downloads(t *testing.T, b *browser, dl string, want []byte) {
	t.Helper()
	to := b.get(dl)
	if to.status != http.StatusSeeOther {
		t.Fatalf("the download %s answered %d", dl, to.status)
	}
	res, err := http.Get(to.location)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !bytes.Equal(got, want) {
		t.Errorf("%s downloaded %q, want the uploaded file", dl, got)
	}
}
