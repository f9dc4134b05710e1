package web

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/rengas/rengas/shared/procurement"
)

// storeFile stores a document's file chosen on a page through the API's
// upload: declare it (POST /files), PUT its bytes to the signed URL with
// the headers it came with, and confirm the arrival. It returns the file's
// id, "" with ok when the API has no documents bucket (the document is
// then recorded by its metadata only), and !ok when the file was refused
// (its type, size or content).
//
// The page receives the file in its form, as pages without JavaScript
// must send it; so here, unlike through the API, the bytes pass through
// the web function on their way to S3.
func (q *req) storeFile(file multipart.File, hdr *multipart.FileHeader, digest string) (id string, ok bool) {
	mediaType, _, _ := mime.ParseMediaType(hdr.Header.Get("Content-Type"))
	if _, known := procurement.FileTypes[mediaType]; !known {
		// Browsers name some types loosely; the extension decides then.
		ext := strings.ToLower(filepath.Ext(hdr.Filename))
		if ext == ".jpeg" {
			ext = ".jpg"
		}
		for t, e := range procurement.FileTypes {
			if e == ext {
				mediaType = t
			}
		}
	}
	var up struct {
		File struct {
			ID string `json:"id"`
		} `json:"file"`
		Upload struct {
			Method  string            `json:"method"`
			URL     string            `json:"url"`
			Headers map[string]string `json:"headers"`
		} `json:"upload"`
	}
	name := hdr.Filename
	if name == "" {
		name = "document"
	}
	err := q.send("POST", "/files", map[string]any{"name": name, "mediaType": mediaType, "size": hdr.Size, "sha256": digest}, &up)
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.Status == http.StatusServiceUnavailable:
		return "", true // no documents bucket: metadata only
	case err != nil:
		q.h.log.Info("a page's file was not accepted", "err", err)
		return "", false
	}
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		return "", false
	}
	body, err := io.ReadAll(file)
	if err != nil {
		return "", false
	}
	req, err := http.NewRequestWithContext(q.r.Context(), up.Upload.Method, up.Upload.URL, bytes.NewReader(body))
	if err != nil {
		return "", false
	}
	for k, v := range up.Upload.Headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		q.h.log.Error("upload a page's file", "err", err)
		return "", false
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		q.h.log.Info("the documents bucket refused a page's file", "status", res.Status)
		return "", false
	}
	var arrived struct {
		Status string `json:"status"`
	}
	if err := q.send("POST", "/files/"+up.File.ID+"/arrival", nil, &arrived); err != nil || arrived.Status != string(procurement.FileArrived) {
		return "", false
	}
	return up.File.ID, true
}
