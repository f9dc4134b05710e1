package web

import (
	"cmp"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rengas/rengas/shared/files"
	"github.com/rengas/rengas/shared/procurement"
)

// Documents' files on the pages. The bytes never pass through the web
// function: without JavaScript, the page declares a form upload
// (POST /files with upload "form") and shows a form that the browser
// POSTs straight to S3 (a presigned POST: the policy fixes the object's
// key, its type, the size range and where S3 sends the browser back).
// S3 redirects the browser to a page that confirms the arrival through
// the API (POST /files/{id}/arrival: size, type and first bytes checked,
// SHA-256 computed) and returns the user to the form they came from with
// the file attached, or tells them in their language why it was refused.
// With JavaScript (assets/app.js), the same upload page computes the
// SHA-256 with WebCrypto and PUTs the file to a presigned URL instead (see
// uploadPage.PutAction).

// fileType is a choice of the type a file is uploaded as.
type fileType struct{ MediaType, Label string }

// fileTypes lists the accepted types, PDF first, labelled by extension.
func fileTypes() []fileType {
	var out []fileType
	for t, ext := range procurement.FileTypes {
		out = append(out, fileType{t, strings.ToUpper(strings.TrimPrefix(ext, "."))})
	}
	slices.SortFunc(out, func(a, b fileType) int {
		if (a.MediaType == "application/pdf") != (b.MediaType == "application/pdf") {
			if a.MediaType == "application/pdf" {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.Label, b.Label)
	})
	return out
}

// formField is a hidden field of the upload form.
type formField struct{ Name, Value string }

// uploadPage is the form that sends a file straight to S3.
type uploadPage struct {
	// Document is what the file is for (its name on the page).
	Document string
	Type     string
	URL      string
	Fields   []formField
	// Back is the page to post State to when the user goes back without
	// uploading; Return is where the upload returns (for the JavaScript
	// path, which confirms itself and then follows it).
	Back, State string
	FileID      string
	Return      string
	// Put is where the script declares a PUT upload (declarePut).
	Put string
}

// absolute returns the address of a page of this site, as the browser
// reaches it (API Gateway forwards https as X-Forwarded-Proto).
func (q *req) absolute(path string) string {
	scheme := "http"
	if secure(q.r) {
		scheme = "https"
	}
	return scheme + "://" + q.r.Host + path
}

// fileName names a file after the document it is for.
func fileName(doc, mediaType string) string {
	name := strings.Map(func(r rune) rune {
		if strings.ContainsRune("\x00\r\n/\\\"", r) || r < 0x20 {
			return '-'
		}
		return r
	}, strings.TrimSpace(doc))
	for len(name) > 180 { // bytes, as the API counts; cut whole characters
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if name == "" {
		name = "document"
	}
	return name + procurement.FileTypes[mediaType]
}

// errNoBucket: the API has no documents bucket, so no file can be uploaded.
var errNoBucket = errors.New("no documents bucket")

// beginUpload declares a form upload of a file for the document (named
// doc, of the type chosen), which S3 returns to back (a path of this
// site, with its query), and renders the upload page.
func (q *req) beginUpload(doc, mediaType, ret, backPath, state string) error {
	if _, ok := procurement.FileTypes[mediaType]; !ok {
		mediaType = "application/pdf"
	}
	var up struct {
		File   procurement.File `json:"file"`
		Upload files.Upload     `json:"upload"`
	}
	err := q.send("POST", "/files", map[string]any{"name": fileName(doc, mediaType), "mediaType": mediaType, "upload": "form", "redirect": q.absolute(ret)}, &up)
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusServiceUnavailable {
		return errNoBucket
	}
	if err != nil {
		return err
	}
	p := &uploadPage{Document: doc, Type: mediaType, URL: up.Upload.URL, Back: backPath, State: state,
		FileID: up.File.ID, Return: ret, Put: q.href("/files/put")}
	for _, k := range slices.Sorted(maps.Keys(up.Upload.Fields)) {
		p.Fields = append(p.Fields, formField{k, up.Upload.Fields[k]})
	}
	// The form posts to the bucket's origin: the page's CSP allows that
	// one origin as a form action (and, for the JavaScript path, as a
	// connection).
	if u, err := url.Parse(up.Upload.URL); err == nil {
		origin := u.Scheme + "://" + u.Host
		q.w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self' "+origin+"; form-action 'self' "+origin+"; frame-ancestors 'none'; base-uri 'none'")
	}
	return q.render(200, "fileupload", "upload.title", p, nil)
}

// uploadRefusal tells why beginUpload could not show the upload page, as
// the status and message key of the field's error on the form the user
// came from; ok is false for other errors (the page's error handling).
func uploadRefusal(err error, notAccepted string) (status int, key string, ok bool) {
	var ae *apiError
	switch {
	case errors.Is(err, errNoBucket):
		return http.StatusServiceUnavailable, "upload.unavailable", true
	case errors.As(err, &ae) && ae.Status == http.StatusBadRequest:
		// The declaration was refused (a type the rules do not take, or
		// a form too large to carry back in the address).
		return http.StatusBadRequest, notAccepted, true
	}
	return 0, "", false
}

// arrivedFile confirms the arrival of the file S3 returned the browser
// with (its object key in the query) and returns it: arrived, or refused
// with the reason; !ok when the key is not a file's or the caller's.
func (q *req) arrivedFile() (f procurement.File, ok bool) {
	id := files.IDOf(q.r.URL.Query().Get("key"))
	if id == "" {
		id = q.r.URL.Query().Get("file")
	}
	if id == "" || strings.ContainsAny(id, "/?#") {
		return f, false
	}
	if err := q.send("POST", "/files/"+url.PathEscape(id)+"/arrival", nil, &f); err != nil {
		q.h.log.Info("a page's upload did not arrive", "file", id, "err", err)
		return f, false
	}
	return f, true
}

// docFile is the state of a document's uploaded file as the API tells it
// to the user (GET …/documents of an application, …/attachments of a bid).
type docFile struct {
	DocumentID string                 `json:"documentId"`
	FileID     string                 `json:"fileId"`
	Status     procurement.FileStatus `json:"status"`
	Scan       procurement.ScanStatus `json:"scan"`
	Readable   bool                   `json:"readable"`
}

// fileStates are the message keys of a file's states, by its upload
// status or, once arrived, its scan status.
var fileStates = map[string]string{
	string(procurement.FileAwaiting): "file.state.awaiting_upload",
	string(procurement.FileRefused):  "file.state.refused",
	string(procurement.FileArrived):  "file.state.arrived",
	string(procurement.ScanPending):  "file.state.scan_pending",
	string(procurement.ScanClean):    "file.state.no_threats_found",
	string(procurement.ScanThreat):   "file.state.threats_found",
	string(procurement.ScanFailed):   "file.state.scan_failed",
	string(procurement.ScanNone):     "file.state.not_scanned",
}

// State is the message key of the file's state, shown beside the
// document in the user's language.
func (f docFile) State() string {
	s := string(f.Status)
	if f.Status == procurement.FileArrived && f.Scan != "" {
		s = string(f.Scan)
	}
	if k, ok := fileStates[s]; ok {
		return k
	}
	return "file.state.arrived"
}

// docFiles reads the state of the documents' files from the API (path is
// the record's …/documents or …/attachments route), by document id; no call when no document
// names a file.
func (q *req) docFiles(path string, docs []procurement.Document) (map[string]docFile, error) {
	if !slices.ContainsFunc(docs, func(d procurement.Document) bool { return d.FileID != "" }) {
		return nil, nil
	}
	var l struct {
		Items []docFile `json:"items"`
	}
	if err := q.get(path, nil, &l); err != nil {
		return nil, err
	}
	out := map[string]docFile{}
	for _, f := range l.Items {
		out[f.DocumentID] = f
	}
	return out, nil
}

// fileLink sends the browser to a short-lived link to a file that the API
// signs (path is one of its …/content routes), so that the API's access
// rules decide who may read it: 303 to the presigned GET.
func (q *req) fileLink(path string) error {
	var l struct {
		URL string `json:"url"`
	}
	err := q.get(path, nil, &l)
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusConflict {
		// Not readable now: not arrived, refused, being scanned, a
		// threat, or a document recorded by its metadata only.
		q.h.errorPage(q.w, q.r, q.lang, http.StatusConflict, "file.notReadable")
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(q.w, q.r, l.URL, http.StatusSeeOther)
	return nil
}

// applicationDocument downloads an application's document.
func (q *req) applicationDocument() error {
	return q.fileLink("/dps/" + url.PathEscape(q.r.PathValue("dps")) + "/applications/" + url.PathEscape(q.r.PathValue("id")) +
		"/documents/" + url.PathEscape(q.r.PathValue("doc")) + "/content")
}

// bidFiles reads the states of the bids' attachments: one API call per
// bid that has any (none for bids without attachments).
func (q *req) bidFiles(comp string, bids []procurement.Bid) (map[string]map[string]docFile, error) {
	out := map[string]map[string]docFile{}
	for _, b := range bids {
		var docs []procurement.Document
		for _, refs := range b.Attachments {
			for _, r := range refs {
				docs = append(docs, procurement.Document{ID: r.FileID, FileID: r.FileID})
			}
		}
		fs, err := q.docFiles("/competitions/"+url.PathEscape(comp)+"/bids/"+url.PathEscape(b.ProviderID)+"/attachments", docs)
		if err != nil {
			return nil, err
		}
		out[b.ProviderID] = fs
	}
	return out, nil
}

// bidAttachment downloads a bid's attachment.
func (q *req) bidAttachment() error {
	return q.fileLink("/competitions/" + url.PathEscape(q.r.PathValue("id")) + "/bids/" + url.PathEscape(q.r.PathValue("provider")) +
		"/attachments/" + url.PathEscape(q.r.PathValue("file")) + "/content")
}

// declarationDocument downloads a document that came with a declaration
// answer.
func (q *req) declarationDocument() error {
	return q.fileLink("/declaration-requests/" + url.PathEscape(q.r.PathValue("id")) + "/documents/" + url.PathEscape(q.r.PathValue("doc")) + "/content")
}

// declarePut declares, for the upload page's script, a PUT upload of the
// file it chose with the SHA-256 it computed (WebCrypto): S3 then enforces
// the size, type and digest, as for any API client. It answers JSON: the
// file's id and the signed URL with the headers to send. Without
// JavaScript this is never called (the page's form posts to S3 itself).
func (q *req) declarePut() error {
	_ = q.r.ParseForm()
	size, _ := strconv.ParseInt(q.r.PostFormValue("size"), 10, 64)
	var up struct {
		File   procurement.File `json:"file"`
		Upload files.Upload     `json:"upload"`
	}
	err := q.send("POST", "/files", map[string]any{"name": q.r.PostFormValue("name"), "mediaType": q.r.PostFormValue("mediaType"),
		"size": size, "sha256": q.r.PostFormValue("sha256")}, &up)
	q.w.Header().Set("Content-Type", "application/json")
	var ae *apiError
	if errors.As(err, &ae) && ae.Status < 500 {
		q.w.WriteHeader(ae.Status)
		return json.NewEncoder(q.w).Encode(map[string]any{"detail": ae.Detail, "errors": ae.Fields})
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(q.w).Encode(map[string]any{"file": up.File.ID, "url": up.Upload.URL, "headers": up.Upload.Headers})
}
