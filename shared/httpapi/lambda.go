package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/exports"
	"github.com/rengas/rengas/shared/files"
	"github.com/rengas/rengas/shared/procurement"
)

// LambdaEntry returns the Lambda entry point of a function: its routes as
// an http.Handler behind the API Gateway v2 adapter.
func (s *Server) LambdaEntry(function string) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	proxy := httpadapter.NewV2(s.Handler(function)).ProxyWithContext
	// Load the contract in the Lambda init phase rather than on the first
	// request; a failure answers 500 on each request and is logged.
	_, _ = LoadContract()
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		res, err := proxy(ctx, ev)
		if err != nil {
			// The adapter could not turn the event into a request (e.g. a
			// path that is not a URL): the request's shape is at fault.
			return badRequest(), nil
		}
		return res, nil
	}
}

func badRequest() events.APIGatewayV2HTTPResponse {
	b, _ := json.Marshal(Problem{Type: "urn:rengas:problem:" + procurement.EINVALID, Title: "Bad Request", Status: 400,
		Detail: "the request line is not a valid URL; percent-encode the path and query"})
	return events.APIGatewayV2HTTPResponse{StatusCode: 400, Headers: map[string]string{"Content-Type": "application/problem+json", "Cache-Control": "no-store"}, Body: string(b)}
}

// ServerFromEnv builds a server for a Lambda function from its environment:
// TABLE_NAME, DYNAMODB_ENDPOINT to point at another engine,
// ANCHOR_BUCKET (with S3_ENDPOINT for another S3) where the anchors are
// kept, for the functions that read them, and EXPORT_BUCKET where answers
// too large for a response are kept for download.
func ServerFromEnv(ctx context.Context) (*Server, error) {
	store, err := StoreFromEnv(ctx)
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	srv := NewServer(store, log)
	if b := os.Getenv("EXPORT_BUCKET"); b != "" {
		if srv.Exports, err = exports.Connect(ctx, os.Getenv("S3_ENDPOINT"), b); err != nil {
			return nil, err
		}
	}
	if b := os.Getenv("DOCUMENTS_BUCKET"); b != "" {
		if srv.Files, err = FilesFromEnv(ctx, b); err != nil {
			return nil, err
		}
	}
	return srv, nil
}

// FilesFromEnv connects the documents bucket: S3_ENDPOINT for another S3
// (the arrival check then verifies digests itself), DOCUMENT_SCANNING=
// guardduty when GuardDuty scans the bucket, DOCUMENT_MAX_BYTES for another
// size limit than 20 MiB.
func FilesFromEnv(ctx context.Context, bucket string) (*files.Bucket, error) {
	b, err := files.Connect(ctx, os.Getenv("S3_ENDPOINT"), bucket, os.Getenv("DOCUMENT_SCANNING") == "guardduty")
	if err != nil {
		return nil, err
	}
	if v := os.Getenv("DOCUMENT_MAX_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("DOCUMENT_MAX_BYTES=%q: give a size in bytes", v)
		}
		b.MaxBytes = n
	}
	return b, nil
}

// StoreFromEnv connects the store as ServerFromEnv describes.
func StoreFromEnv(ctx context.Context) (*dynamo.Store, error) {
	db, err := dynamo.Connect(ctx, os.Getenv("DYNAMODB_ENDPOINT"))
	if err != nil {
		return nil, err
	}
	store := dynamo.New(db, dynamo.TableName())
	if b := os.Getenv("ANCHOR_BUCKET"); b != "" {
		if store.Anchors, err = dynamo.ConnectAnchors(ctx, os.Getenv("S3_ENDPOINT"), b); err != nil {
			return nil, err
		}
	}
	return store, nil
}

// maxClockSkew is how far the gateway's time of receipt may lie ahead of
// the function's clock before it is distrusted.
const maxClockSkew = 2 * time.Second

// receivedAt is the time the request reached API Gateway, from the
// request context's timeEpoch (the local gateway stamps it the same way).
// A request without one, such as a direct call in a test, was received
// when the function began serving it. A time of receipt later than the
// function's clock allows is not believed: the function's clock is used.
func (s *Server) receivedAt(r *http.Request) time.Time {
	now := s.Store.Now()
	rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context())
	if !ok || rc.TimeEpoch <= 0 {
		return now
	}
	t := time.UnixMilli(rc.TimeEpoch)
	if t.After(now.Add(maxClockSkew)) {
		return now
	}
	return t
}
