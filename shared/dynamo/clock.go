package dynamo

import (
	"sync/atomic"
	"time"
)

// Clock is the server clock with an adjustable offset. Only the local
// server and tests move it (to get past a 10-day tender period in a demo);
// in AWS the offset is always zero.
type Clock struct{ offset atomic.Int64 }

// Now returns the current time plus the offset.
func (c *Clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// Set sets the clock to t.
func (c *Clock) Set(t time.Time) { c.offset.Store(int64(time.Until(t))) }
