// Package localdb runs the embedded DynamoDB-compatible engine
// (github.com/truora/minidyn/server) on a loopback port, so that the local
// server and the tests use the real SDK client against a real endpoint.
//
// The engine enforces none of DynamoDB's limits and serialises requests,
// so it is served behind a strict layer that refuses what DynamoDB
// refuses (item and key sizes, transaction limits, invalid query keys),
// lets transactions overlap and conflict as they do in DynamoDB, honours
// idempotency tokens, and injects faults on demand (see Engine.Faults).
package localdb

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rengas/rengas/shared/dynamo"
)

// Engine is a running embedded engine, or an external one when
// DYNAMODB_ENDPOINT is set.
type Engine struct {
	Endpoint string
	srv      *http.Server
	layer    *layer
}

// Start serves the embedded engine on 127.0.0.1 at addr (":0" picks a free
// port), behind the strict layer with every rule on (DefaultStrict). If
// DYNAMODB_ENDPOINT is set, that engine is used instead.
func Start(addr string) (*Engine, error) {
	return StartStrict(addr, DefaultStrict())
}

// StartStrict is Start with a choice of the rules the layer enforces.
func StartStrict(addr string, st Strict) (*Engine, error) {
	if ep := os.Getenv("DYNAMODB_ENDPOINT"); ep != "" {
		return &Engine{Endpoint: ep}, nil
	}
	return serve(addr, st)
}

// serve starts the embedded engine and its layer, whatever the environment.
func serve(addr string, st Strict) (*Engine, error) {
	ln, err := net.Listen("tcp", "127.0.0.1"+addr)
	if err != nil {
		return nil, fmt.Errorf("listen for the embedded DynamoDB engine: %w", err)
	}
	l := newLayer(st)
	srv := &http.Server{Handler: l}
	go srv.Serve(ln)
	return &Engine{Endpoint: "http://" + ln.Addr().String(), srv: srv, layer: l}, nil
}

// Embedded reports whether the engine is the embedded one (and so has the
// strict layer and fault injection), not one named by DYNAMODB_ENDPOINT.
func (e *Engine) Embedded() bool { return e.layer != nil }

// Strict returns the rules the layer enforces (none for an external engine).
func (e *Engine) Strict() Strict {
	if e.layer == nil {
		return Strict{}
	}
	return *e.layer.strict.Load()
}

// SetStrict changes the rules the layer enforces, from the next request
// on. It does nothing for an external engine.
func (e *Engine) SetStrict(st Strict) {
	if e.layer != nil {
		e.layer.strict.Store(&st)
	}
}

// Conflicts returns how many requests the layer has refused so far
// because a transaction in flight held one of their items
// (TransactionConflict): the contention DynamoDB would show.
func (e *Engine) Conflicts() int64 {
	if e.layer == nil {
		return 0
	}
	return e.layer.conflicts.Load()
}

// Faults makes f decide a fault for every request from now on; nil stops
// injecting faults. It does nothing for an external engine (see Embedded).
func (e *Engine) Faults(f FaultFunc) {
	if e.layer != nil {
		e.layer.faults.Store(&f)
	}
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
