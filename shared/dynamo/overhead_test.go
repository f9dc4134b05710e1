package dynamo_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/localdb"
	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/seed"
)

// engineTimer adds up the time of every DynamoDB operation of the SDK
// client, from its first middleware to its decoded answer: the raw engine
// calls, as a program calling the SDK directly would make them.
type engineTimer struct{ spent atomic.Int64 }

func (t *engineTimer) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("engineTimer",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			start := time.Now()
			out, md, err := next.HandleInitialize(ctx, in)
			t.spent.Add(int64(time.Since(start)))
			return out, md, err
		}), middleware.Before)
}

// timedStore is a seeded store whose engine time is measured.
func timedStore(b *testing.B) (*dynamo.Store, *engineTimer) {
	eng, err := localdb.Start(":0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { eng.Close() })
	table := fmt.Sprintf("o%d", tables.Add(1))
	db, err := eng.Open(context.Background(), table)
	if err != nil {
		b.Fatal(err)
	}
	timer := &engineTimer{}
	timed := dynamodb.New(db.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, timer.middleware)
	})
	store := dynamo.New(timed, table)
	if err := seed.Load(context.Background(), store); err != nil {
		b.Fatal(err)
	}
	return store, timer
}

// overhead measures op's wall time against the time its engine calls
// took, side by side in one run, and reports the ratio. Target: at most
// 1.5. prepare runs before each op, outside both measures.
func overhead(b *testing.B, timer *engineTimer, prepare, op func(i int)) {
	var wall, engine time.Duration
	for i := 0; b.Loop(); i++ {
		prepare(i)
		before := timer.spent.Load()
		start := time.Now()
		op(i)
		wall += time.Since(start)
		engine += time.Duration(timer.spent.Load() - before)
	}
	b.ReportMetric(float64(wall)/float64(engine), "x-engine")
}

// BenchmarkOverhead: each operation's time against its own engine calls.
func BenchmarkOverhead(b *testing.B) {
	b.Run("read-competition", func(b *testing.B) {
		st, timer := timedStore(b)
		comp := openCompetition(b, st)
		overhead(b, timer, func(int) {}, func(int) {
			if _, err := st.ReadCompetition(context.Background(), comp); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("submit-bid", func(b *testing.B) {
		st, timer := timedStore(b)
		var comp string
		overhead(b, timer, func(int) { comp = openCompetition(b, st) }, func(i int) {
			if _, err := st.WriteBid(context.Background(), provider, comp, 0, fmt.Sprint("key-", i), "d", seed.System[procurement.Competition], place(300000)); err != nil {
				b.Fatal(err)
			}
		})
	})
}
