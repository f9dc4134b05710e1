// Package localdb runs the embedded DynamoDB-compatible engine
// (github.com/truora/minidyn/server) on a loopback port, so that the local
// server and the tests use the real SDK client against a real endpoint.
package localdb

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/truora/minidyn/server"

	"github.com/rengas/rengas/shared/dynamo"
)

// Engine is a running embedded engine, or an external one when
// DYNAMODB_ENDPOINT is set.
type Engine struct {
	Endpoint string
	srv      *http.Server
}

// Start serves the embedded engine on 127.0.0.1 at addr (":0" picks a free
// port). If DYNAMODB_ENDPOINT is set, that engine is used instead.
func Start(addr string) (*Engine, error) {
	if ep := os.Getenv("DYNAMODB_ENDPOINT"); ep != "" {
		return &Engine{Endpoint: ep}, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1"+addr)
	if err != nil {
		return nil, fmt.Errorf("listen for the embedded DynamoDB engine: %w", err)
	}
	srv := &http.Server{Handler: server.NewServer()}
	go srv.Serve(ln)
	return &Engine{Endpoint: "http://" + ln.Addr().String(), srv: srv}, nil
}

// Close stops the embedded engine.
func (e *Engine) Close() error {
	if e.srv == nil {
		return nil
	}
	return e.srv.Close()
}

// Open connects to the engine and creates the table (from the one
// definition in package dynamo) if it does not exist.
func (e *Engine) Open(ctx context.Context, table string) (*dynamodb.Client, error) {
	db, err := dynamo.Connect(ctx, e.Endpoint)
	if err != nil {
		return nil, err
	}
	if err := dynamo.EnsureTable(ctx, db, table); err != nil {
		return nil, err
	}
	return db, nil
}
