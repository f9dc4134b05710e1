package localdb

import (
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// FaultKind is what an injected fault does to a request.
type FaultKind int

// The kinds of fault.
const (
	// NoFault serves the request normally.
	NoFault FaultKind = iota
	// Drop closes the connection without an answer; nothing is applied.
	Drop
	// InternalError answers 500 InternalServerError; nothing is applied.
	InternalError
	// LoseResponse applies the request, then closes the connection without
	// an answer (after Fault.Delay), so the client cannot tell it succeeded.
	LoseResponse
	// Delay waits Fault.Delay, then serves the request normally.
	Delay
	// Throttle answers Fault.Code (ThrottlingException unless set, or for
	// example ProvisionedThroughputExceededException) with HTTP 400;
	// nothing is applied.
	Throttle
)

// Fault is one injected fault.
type Fault struct {
	Kind  FaultKind
	Delay time.Duration
	Code  string
}

// FaultFunc decides the fault for one request, given the operation name
// (such as "TransactWriteItems") and the request body. It may be called
// concurrently.
type FaultFunc func(op string, body []byte) Fault

// FaultNext injects f into the next n requests of the given operations
// (of any operation if none are given), then none.
func FaultNext(n int, f Fault, ops ...string) FaultFunc {
	var left atomic.Int64
	left.Store(int64(n))
	return func(op string, _ []byte) Fault {
		if len(ops) > 0 && !slices.Contains(ops, op) {
			return Fault{}
		}
		if left.Add(-1) < 0 {
			return Fault{}
		}
		return f
	}
}

// FaultRate injects f into each request of the given operations (any if
// none are given) with probability rate, from a seeded generator so that a
// run can be repeated.
func FaultRate(rate float64, seed uint64, f Fault, ops ...string) FaultFunc {
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(seed, seed))
	return func(op string, _ []byte) Fault {
		if len(ops) > 0 && !slices.Contains(ops, op) {
			return Fault{}
		}
		mu.Lock()
		hit := r.Float64() < rate
		mu.Unlock()
		if !hit {
			return Fault{}
		}
		return f
	}
}
