package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rengas/rengas/shared/httpapi"
	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/seed"
)

// In a real browser (Chromium), a provider uploads an application
// document's file from the criteria page straight to the documents bucket
// (the local S3 server) and comes back to the page with the file attached
// and its digest shown: without JavaScript by the presigned POST form and
// S3's redirect; with JavaScript by a presigned PUT of the digest the page
// computed with WebCrypto. The pages' CSP lets the upload through to the
// bucket's origin only; axe-core checks the upload page.
func TestUploadInTheBrowser(t *testing.T) {
	src := axeSource(t)
	for _, noJS := range []bool{true, false} {
		name := "script"
		if noJS {
			name = "noscript"
		}
		t.Run(name, func(t *testing.T) {
			e, srv := withBucket(t)
			newProv := procurement.Actor{UserID: "provider-new", Role: procurement.RoleProvider, Org: "prov-new"}
			apiCall(t, srv, httpapi.FnQualification, newProv, "POST", "/providers", map[string]any{"name": "Uusi Valmennus Oy", "businessId": "2617415-6",
				"legalForm": "company", "homeMunicipality": "Lahti", "contact": map[string]any{"name": "Ulla", "email": "ulla@example.fi"}}, 201)
			file := []byte("%PDF-1.7\nverovelkatodistus selaimesta\n%%EOF\n")
			path := filepath.Join(t.TempDir(), "verovelkatodistus.pdf")
			if err := os.WriteFile(path, file, 0o600); err != nil {
				t.Fatal(err)
			}
			ctx := newBrowser(t, noJS)
			signInBrowser(t, ctx, e.url, "fi", "provider-new")
			save := chromedp.CSS("form[novalidate] > button[type=submit]:last-of-type")
			step := func(where string, actions ...chromedp.Action[chromedp.Void]) {
				t.Helper()
				if err := chromedp.Do(ctx, actions...); err != nil {
					t.Fatalf("%s: %v", where, err)
				}
			}
			step("tasks", chromedp.Navigate(e.url+"/fi/dps/"+seed.DPSID+"/apply"), chromedp.Click(chromedp.ID("goto-categories")))
			step("categories", chromedp.Click(chromedp.ID("cat-job-coaching")), chromedp.Click(save), chromedp.Click(chromedp.ID("goto-exclusions")))
			step("exclusions", chromedp.Click(chromedp.ID("ex-convictions")), chromedp.Click(chromedp.ID("ex-tax-arrears")),
				chromedp.Click(chromedp.ID("ex-bankruptcy")), chromedp.Click(chromedp.ID("ex-professional-misconduct")), chromedp.Click(save),
				chromedp.Click(chromedp.ID("goto-criteria")))
			step("upload page", chromedp.Click(chromedp.ID("crit-job-coaching-insurance")), chromedp.Click(chromedp.ID("doc-tax-certificate")),
				chromedp.WaitVisible(chromedp.ID("upload-file")))
			scripts(t, ctx, true)
			axe(t, ctx, src, "upload page")
			scripts(t, ctx, !noJS)
			step("upload", chromedp.SetUploadFiles(chromedp.ID("upload-file"), []string{path}), chromedp.Click(chromedp.ID("upload-send")),
				chromedp.WaitVisible(chromedp.ID("doc-pension-certificate")))
			main, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(file)
			if !strings.Contains(main, "Liitetty:") || !strings.Contains(main, hex.EncodeToString(sum[:])[:12]) {
				t.Fatalf("back on the criteria page: %s", main)
			}
			l, err := e.store.ListFiles(context.Background(), "prov-new", "", 10)
			if err != nil {
				t.Fatal(err)
			}
			var arrived []procurement.File
			for _, f := range l.Items {
				if f.Status == procurement.FileArrived {
					arrived = append(arrived, f)
				}
			}
			if len(arrived) != 1 || arrived[0].SHA256 != hex.EncodeToString(sum[:]) || arrived[0].Form != noJS {
				t.Errorf("the provider's files: %+v", l.Items)
			}
		})
	}
}
