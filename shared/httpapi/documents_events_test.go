package httpapi_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rengas/rengas/shared/files"
)

// sampleEvent reads a sample event of the documents function for a file.
func (e *env) sampleEvent(name, fileID string) json.RawMessage {
	e.t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "documents", name))
	if err != nil {
		e.t.Fatal(err)
	}
	s := strings.NewReplacer("DOCUMENTS_BUCKET", e.srv.Files.Name, "FILE_ID", fileID).Replace(string(raw))
	return json.RawMessage(s)
}

// The AWS path, on the local S3: the S3 event settles an upload (one
// DynamoDB round trip) and GuardDuty's result decides who may read it.
func TestDocumentEvents(t *testing.T) {
	e := newEnv(t)
	e.srv.Files.Scanning = true // as in AWS: GuardDuty reports on every object
	e.registerNew()
	ctx := t.Context()
	taxBody, pensionBody := pdf("tax"), pdf("pension")
	tax := e.upload("provider-new", "tax.pdf", "application/pdf", taxBody, taxBody)
	pension := e.upload("provider-new", "pension.pdf", "application/pdf", pensionBody, pensionBody)
	// The bucket's notification, and the same event through EventBridge.
	for id, sample := range map[string]string{tax: "s3-object-created.json", pension: "eventbridge-object-created.json"} {
		rt := e.store.RoundTrips()
		if err := e.srv.FileEvent(ctx, e.sampleEvent(sample, id)); err != nil {
			t.Fatal(err)
		}
		if n := e.store.RoundTrips() - rt; n != 1 {
			t.Errorf("the S3 event's arrival took %d DynamoDB round trips, want 1", n)
		}
	}
	// The same event again (S3 delivers at least once) changes nothing.
	if err := e.srv.FileEvent(ctx, e.sampleEvent("s3-object-created.json", tax)); err != nil {
		t.Fatal(err)
	}
	r := e.must(e.do("provider-new", "GET", "/files/"+tax, nil), 200)
	if r.str("status") != "arrived" || r.str("scan") != "scan_pending" || r.body["version"].(float64) != 2 {
		t.Fatalf("after the S3 event: %s", r.raw)
	}
	app := e.must(e.do("provider-new", "POST", dpsPath+"/applications", application(docOf("tax", "tax-certificate", tax, taxBody), docOf("pension", "pension-certificate", pension, pensionBody))), 201).str("id")
	content := dpsPath + "/applications/" + app + "/documents/"
	// Until the scan reports, only the uploader reads the file.
	e.must(e.do("provider-new", "GET", content+"tax/content", nil), 200)
	d := e.do("officer-lahti", "GET", content+"tax/content", nil)
	e.problem(d, 409, "")
	if !strings.Contains(d.str("detail"), "being scanned") {
		t.Errorf("pending scan: %s", d.raw)
	}

	if err := e.srv.FileEvent(ctx, e.sampleEvent("guardduty-no-threats-found.json", tax)); err != nil {
		t.Fatal(err)
	}
	l := e.must(e.do("officer-lahti", "GET", content+"tax/content", nil), 200)
	if digest(e.fetch(l.str("url"))) != digest(taxBody) || l.str("file.scan") != "no_threats_found" {
		t.Errorf("after a clean scan: %s", l.raw)
	}

	if err := e.srv.FileEvent(ctx, e.sampleEvent("guardduty-threats-found.json", pension)); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"officer-lahti", "provider-new", "auditor"} {
		d := e.do(u, "GET", content+"pension/content", nil)
		e.problem(d, 409, "")
		if !strings.Contains(d.str("detail"), "malware") || !strings.Contains(d.str("detail"), "EICAR") {
			t.Errorf("%s is not told of the threat: %s", u, d.raw)
		}
	}
	e.problem(e.do("provider-new", "GET", "/files/"+pension+"/content", nil), 409, "")
	n := e.must(e.do("provider-new", "GET", "/notifications", nil), 200)
	if !strings.Contains(string(n.raw), "file.threat") {
		t.Errorf("the uploader was not notified of the threat: %s", n.raw)
	}
	ev := e.must(e.do("auditor", "GET", "/audit/chains/file."+pension+"/events", nil), 200)
	if !strings.Contains(string(ev.raw), "file.scanned") {
		t.Errorf("the scan is not on the file's chain: %s", ev.raw)
	}
	// A file with a threat cannot be attached anew.
	e.problem(e.do("provider-new", "POST", dpsPath+"/applications", application(docOf("tax", "tax-certificate", tax, taxBody), docOf("pension", "pension-certificate", pension, pensionBody))), 400, "documents[1].fileId")

	// GuardDuty may report before the arrival is settled: the result stays.
	early := pdf("early")
	id := e.upload("provider-new", "early.pdf", "application/pdf", early, early)
	if err := e.srv.FileEvent(ctx, e.sampleEvent("guardduty-no-threats-found.json", id)); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.FileEvent(ctx, e.sampleEvent("s3-object-created.json", id)); err != nil {
		t.Fatal(err)
	}
	if r := e.must(e.do("provider-new", "GET", "/files/"+id, nil), 200); r.str("status") != "arrived" || r.str("scan") != "no_threats_found" {
		t.Errorf("a scan result before the arrival was lost: %s", r.raw)
	}

	// An object nobody declared is deleted.
	if _, err := e.srv.Files.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(e.srv.Files.Name), Key: aws.String(files.Object("stray")), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.FileEvent(ctx, e.sampleEvent("s3-object-created.json", "stray")); err != nil {
		t.Fatal(err)
	}
	if e.objectExists("stray") {
		t.Error("an undeclared object was kept")
	}
}
