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

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rengas/rengas/shared/auth"
	"github.com/rengas/rengas/shared/files"
	"github.com/rengas/rengas/shared/httpapi"
	"github.com/rengas/rengas/shared/locals3"
	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/seed"
)

// Without JavaScript, the application page takes the documents' files in
// its form and stores them through the API's upload into the documents
// bucket (here the local S3 server): the submitted application names the
// files, and the DPS's officer downloads them with the same digest. A file
// of a type the rules do not take is refused on the page, in its language.
func TestApplicationPageStoresFiles(t *testing.T) {
	objects, err := locals3.Start(locals3.DocumentsBucket)
	if err != nil {
		t.Fatal(err)
	}
	defer objects.Close()
	var srv *httpapi.Server
	e := newEnvWith(t, func(s *httpapi.Server) {
		srv = s
		if s.Files, err = files.Connect(context.Background(), objects.Endpoint, locals3.DocumentsBucket, false); err != nil {
			t.Fatal(err)
		}
	})
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

	criteria := func(ctype string, file []byte) page {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		for k, v := range map[string]string{"state": state, "task": "criteria", "crit-job-coaching-insurance": "yes", "crit-job-coaching-experience": "3",
			"doc-tax-certificate-issued": "2026-11-20", "doc-pension-certificate-issued": "2026-11-20"} {
			mw.WriteField(k, v)
		}
		for _, f := range []string{"doc-tax-certificate", "doc-pension-certificate"} {
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", `form-data; name="`+f+`"; filename="`+f+`.pdf"`)
			h.Set("Content-Type", ctype)
			w, _ := mw.CreatePart(h)
			w.Write(file)
		}
		mw.Close()
		req, _ := http.NewRequest("POST", e.url+"/sv/dps/"+seed.DPSID+"/apply", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		return b.do(req)
	}
	// An executable named .pdf is refused on the page, in its language:
	// its first bytes give it away on arrival, and its object is deleted.
	if p := criteria("application/x-msdownload", []byte("MZ\x90\x00")); p.status != 400 || !strings.Contains(text(p.doc), "Filen godtogs inte") {
		t.Fatalf("an executable: %d %s", p.status, text(p.doc))
	}
	ctx := context.Background()
	l, err := e.store.ListFiles(ctx, "prov-new", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range l.Items {
		_, herr := srv.Files.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(srv.Files.Name), Key: aws.String(files.Object(f.ID))})
		if f.Status != procurement.FileRefused || herr == nil {
			t.Errorf("the executable's file is %s, its object kept: %t", f.Status, herr == nil)
		}
	}
	file := []byte("%PDF-1.7\nverovelkatodistus 2026\n%%EOF\n")
	crit := criteria("application/pdf", file)
	if crit.status != 200 {
		t.Fatalf("criteria: %d %s", crit.status, text(crit.doc))
	}
	state = inputValue(crit.doc, "state")
	done := b.follow("/fi/dps/"+seed.DPSID+"/apply/submit", url.Values{"state": {state}})
	if !strings.Contains(text(done.doc), "Hakemuksesi vastaanotettiin") {
		t.Fatalf("after submitting: %s", text(done.doc))
	}

	// The application names the stored files; the officer downloads one.
	apps, err := e.store.ListProviderApplications(ctx, "prov-new", "", 10)
	if err != nil || len(apps.Items) != 1 {
		t.Fatalf("applications: %v %v", apps.Items, err)
	}
	app := apps.Items[0]
	sum := sha256.Sum256(file)
	for _, d := range app.Documents {
		if d.FileID == "" || d.SHA256 != hex.EncodeToString(sum[:]) || d.MediaType != "application/pdf" {
			t.Errorf("document %s does not name its stored file: %+v", d.ID, d)
		}
	}
	officer := procurement.Actor{UserID: "officer-lahti", Role: procurement.RoleOfficer, Org: seed.BuyerLahti}
	link := apiGet(t, srv, officer, "/dps/"+seed.DPSID+"/applications/"+app.ID+"/documents/tax-certificate/content")
	res, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !bytes.Equal(got, file) {
		t.Errorf("the officer downloaded %q, want the page's file", got)
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
