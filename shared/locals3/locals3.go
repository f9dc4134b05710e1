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
	"net"
	"net/http"

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
	srv := &http.Server{Handler: gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server()}
	go srv.Serve(ln)
	return &Server{Endpoint: "http://" + ln.Addr().String(), Bucket: bucket, srv: srv, backend: backend}, nil
}

// NewBucket creates another bucket on the server (tests use one each).
func (s *Server) NewBucket(name string) error { return s.backend.CreateBucket(name) }

// Close stops the server; its objects are gone.
func (s *Server) Close() error { return s.srv.Close() }
