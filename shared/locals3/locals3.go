// Package locals3 runs an embedded S3-compatible server
// (github.com/johannesboyne/gofakes3, in memory) on a loopback port, so
// that the local server and the tests keep anchors outside the table
// through the real S3 client, as in AWS.
//
// It does NOT enforce Object Lock: gofakes3 ignores retention settings,
// so locally an anchor object can be overwritten or deleted by anyone who
// reaches the port. It does honour If-None-Match on PutObject, which the
// anchoring job relies on. Write-once storage exists only in AWS, where
// the anchor bucket has Object Lock in compliance mode (see infra/).
package locals3

import (
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// DefaultBucket is the anchor bucket's name locally.
const DefaultBucket = "rengas-anchors"

// DocumentsBucket is the uploaded documents' bucket locally. gofakes3
// checks no signature and no x-amz-checksum-sha256, stores no checksum and
// sends no event notifications: locally the arrival check reads each
// upload and computes its digest itself (package files), and the uploader
// confirms the arrival (POST /files/{id}/arrival) where AWS sends an event.
const DocumentsBucket = "rengas-documents"

// The server answers CORS for any origin, method and header (local only),
// so that a page's script can PUT a file to a presigned URL; in AWS the
// documents bucket needs a CORS rule for the site's origin (see README).

// Server is a running embedded S3-compatible server.
type Server struct {
	Endpoint string
	Bucket   string
	srv      *http.Server
	backend  *s3mem.Backend
}

// Start serves an in-memory S3-compatible server on 127.0.0.1 (a free
// port) with the bucket created.
func Start(bucket string) (*Server, error) {
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		return nil, fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the embedded S3 server: %w", err)
	}
	srv := &http.Server{Handler: browserPost(gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog()), gofakes3.WithInsecureCORS()).Server())}
	go srv.Serve(ln)
	return &Server{Endpoint: "http://" + ln.Addr().String(), Bucket: bucket, srv: srv, backend: backend}, nil
}

// NewBucket creates another bucket on the server (tests use one each).
func (s *Server) NewBucket(name string) error { return s.backend.CreateBucket(name) }

// Close stops the server; its objects are gone.
func (s *Server) Close() error { return s.srv.Close() }

// browserPost is the smallest shim that lets a browser's form upload
// (presigned POST, package files) work against gofakes3 as against S3.
// gofakes3 stores such an upload but answers 204 instead of redirecting
// to success_action_redirect, and takes form fields' names case-sensitively
// (S3 does not: "x-amz-meta-…" would be dropped). So here, for a form POST
// to a bucket: the fields' names are canonicalized, and once gofakes3 has
// stored the object, the browser is redirected (303) to
// success_action_redirect with bucket, key and etag, as S3 does.
//
// It does NOT check the POST policy (signature, key, content-length-range,
// Content-Type): locally, the arrival check enforces size, type and digest
// on the stored object (package files), as it does in AWS too.
func browserPost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bucket := strings.Trim(r.URL.Path, "/")
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if r.Method != http.MethodPost || bucket == "" || strings.Contains(bucket, "/") || mt != "multipart/form-data" {
			next.ServeHTTP(w, r)
			return
		}
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			http.Error(w, "malformed form upload: "+err.Error(), http.StatusBadRequest)
			return
		}
		vals := map[string][]string{}
		for k, v := range r.MultipartForm.Value {
			if strings.HasPrefix(strings.ToLower(k), "x-amz-") || strings.EqualFold(k, "content-type") {
				k = textproto.CanonicalMIMEHeaderKey(k)
			}
			vals[k] = v
		}
		r.MultipartForm.Value = vals
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		to := r.MultipartForm.Value["success_action_redirect"]
		if rec.Code/100 != 2 || len(to) != 1 {
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
			return
		}
		u, err := url.Parse(to[0])
		if err != nil {
			http.Error(w, "success_action_redirect is not an address", http.StatusBadRequest)
			return
		}
		q := u.Query()
		q.Set("bucket", bucket)
		q.Set("key", r.MultipartForm.Value["key"][0])
		q.Set("etag", rec.Header().Get("ETag"))
		u.RawQuery = q.Encode()
		http.Redirect(w, r, u.String(), http.StatusSeeOther)
	})
}
