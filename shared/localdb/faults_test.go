package localdb

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// once makes the SDK try a request only once, so that a test sees the
// injected fault itself rather than the SDK's retry of it.
func once(o *dynamodb.Options) { o.RetryMaxAttempts = 1 }

func putOnce(db *dynamodb.Client, it map[string]types.AttributeValue) error {
	_, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}, once)
	return err
}

func TestFaultDrop(t *testing.T) {
	e, db := start(t, nil)
	e.Faults(FaultNext(1, Fault{Kind: Drop}, "PutItem"))
	err := putOnce(db, key("d", "1"))
	var ae apiErr
	if err == nil || errors.As(err, &ae) {
		t.Fatalf("want a connection error, got %v", err)
	}
	if get(t, db, key("d", "1")) != nil {
		t.Fatal("a dropped request was applied")
	}
	// The SDK retries a dropped connection by default.
	e.Faults(FaultNext(1, Fault{Kind: Drop}, "PutItem"))
	noErr(t, put(db, key("d", "2")))
	if get(t, db, key("d", "2")) == nil {
		t.Fatal("the retried request was not applied")
	}
}

func TestFaultInternalError(t *testing.T) {
	e, db := start(t, nil)
	e.Faults(FaultNext(1, Fault{Kind: InternalError}))
	var ise *types.InternalServerError
	if err := putOnce(db, key("i", "1")); !errors.As(err, &ise) {
		t.Fatalf("want InternalServerError, got %v", err)
	}
	if get(t, db, key("i", "1")) != nil {
		t.Fatal("a failed request was applied")
	}
}

func TestFaultLoseResponse(t *testing.T) {
	e, db := start(t, nil)
	e.Faults(FaultNext(1, Fault{Kind: LoseResponse}, "TransactWriteItems"))
	_, err := db.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{txAdd(key("l", "1"), "n", 1)}}, once)
	if err == nil {
		t.Fatal("the client saw the lost response")
	}
	if get(t, db, key("l", "1")) == nil {
		t.Fatal("the request whose response was lost was not applied")
	}

	// With its retries the SDK resends the same ClientRequestToken, so the
	// transaction is applied once although the first response was lost.
	e.Faults(FaultNext(1, Fault{Kind: LoseResponse}, "TransactWriteItems"))
	noErr(t, transact(db, txAdd(key("l", "1"), "n", 1)))
	if v := get(t, db, key("l", "1"))["n"].(*types.AttributeValueMemberN).Value; v != "2" {
		t.Fatalf("n = %s, want 2", v)
	}
}

func TestFaultDelay(t *testing.T) {
	e, db := start(t, nil)
	e.Faults(FaultNext(1, Fault{Kind: Delay, Delay: 150 * time.Millisecond}, "GetItem"))
	t0 := time.Now()
	get(t, db, key("x", "1"))
	if d := time.Since(t0); d < 150*time.Millisecond {
		t.Fatalf("answered after %v", d)
	}
	e.Faults(FaultNext(1, Fault{Kind: Delay, Delay: 300 * time.Millisecond}, "PutItem"))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: key("x", "1")})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want the client's deadline, got %v", err)
	}
}

func TestFaultThrottle(t *testing.T) {
	e, db := start(t, nil)
	e.Faults(FaultNext(1, Fault{Kind: Throttle}, "PutItem"))
	var te *types.ThrottlingException
	if err := putOnce(db, key("t", "1")); !errors.As(err, &te) {
		t.Fatalf("want ThrottlingException, got %v", err)
	}
	e.Faults(FaultNext(1, Fault{Kind: Throttle, Code: "ProvisionedThroughputExceededException"}))
	var pte *types.ProvisionedThroughputExceededException
	if err := putOnce(db, key("t", "1")); !errors.As(err, &pte) {
		t.Fatalf("want ProvisionedThroughputExceededException, got %v", err)
	}
	if get(t, db, key("t", "1")) != nil {
		t.Fatal("a throttled request was applied")
	}
	// Two throttles in a row are within the SDK's three attempts.
	e.Faults(FaultNext(2, Fault{Kind: Throttle}, "PutItem"))
	noErr(t, put(db, key("t", "1")))
	e.Faults(nil)
	noErr(t, putOnce(db, key("t", "2")))
}

func TestFaultRateRepeats(t *testing.T) {
	run := func() []bool {
		f := FaultRate(0.3, 42, Fault{Kind: Throttle}, "PutItem")
		var hits []bool
		for range 200 {
			hits = append(hits, f("PutItem", nil).Kind == Throttle)
		}
		if f("GetItem", nil).Kind != NoFault {
			t.Fatal("a fault for another operation")
		}
		return hits
	}
	a, b := run(), run()
	if !slices.Equal(a, b) {
		t.Fatal("the same seed gave different faults")
	}
	k := 0
	for _, h := range a {
		if h {
			k++
		}
	}
	if k < 30 || k > 90 {
		t.Fatalf("%d faults of 200 at rate 0.3", k)
	}
}
