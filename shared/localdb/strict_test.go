package localdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const table = "rengas-test"

// start serves a fresh embedded engine behind the layer (whatever
// DYNAMODB_ENDPOINT says) and returns it with a client on Rengas's table.
func start(t *testing.T, mod func(*Strict)) (*Engine, *dynamodb.Client) {
	t.Helper()
	st := DefaultStrict()
	if mod != nil {
		mod(&st)
	}
	e, err := serve(":0", st)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	db, err := e.Open(context.Background(), table)
	if err != nil {
		t.Fatal(err)
	}
	return e, db
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v int) types.AttributeValue    { return &types.AttributeValueMemberN{Value: fmt.Sprint(v)} }

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"PK": s(pk), "SK": s(sk)}
}

func withAttrs(m map[string]types.AttributeValue, kv ...any) map[string]types.AttributeValue {
	out := map[string]types.AttributeValue{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1].(types.AttributeValue)
	}
	return out
}

// sized is an item of exactly size bytes by DynamoDB's rule: PK and SK of
// one character (2+1 and 2+1 bytes) and a string attribute "d" (1 byte).
func sized(pk string, size int) map[string]types.AttributeValue {
	return withAttrs(key(pk, "s"), "d", s(strings.Repeat("x", size-7)))
}

// apiErr is what the SDK's errors for API answers implement.
type apiErr interface {
	error
	ErrorCode() string
	ErrorMessage() string
}

// wantValidation asserts the SDK saw a ValidationException whose message
// contains msg.
func wantValidation(t *testing.T, err error, msg string) {
	t.Helper()
	var ae apiErr
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" || !strings.Contains(ae.ErrorMessage(), msg) {
		t.Fatalf("want ValidationException %q, got %v", msg, err)
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func put(db *dynamodb.Client, it map[string]types.AttributeValue) error {
	_, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: it})
	return err
}

func get(t *testing.T, db *dynamodb.Client, k map[string]types.AttributeValue) map[string]types.AttributeValue {
	t.Helper()
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), Key: k, ConsistentRead: aws.Bool(true)})
	noErr(t, err)
	return out.Item
}

func txPut(it map[string]types.AttributeValue) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table), Item: it}}
}

func txAdd(k map[string]types.AttributeValue, attr string, by int) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName: aws.String(table), Key: k, UpdateExpression: aws.String("ADD #a :n"),
		ExpressionAttributeNames: map[string]string{"#a": attr}, ExpressionAttributeValues: map[string]types.AttributeValue{":n": n(by)},
	}}
}

func transact(db *dynamodb.Client, items ...types.TransactWriteItem) error {
	_, err := db.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return err
}

func TestItemSizeRule(t *testing.T) {
	for v, size := range map[string]int{
		`{"S":"héllo"}`: 6,
		`{"N":"0"}`:     1, `{"N":"7"}`: 2, `{"N":"12345"}`: 4, `{"N":"-12"}`: 3, `{"N":"1.500e10"}`: 2, `{"N":"0.001"}`: 2,
		`{"BOOL":true}`: 1, `{"NULL":true}`: 1, `{"B":"AQID"}`: 3, `{"SS":["ab","c"]}`: 3, `{"NS":["1","22"]}`: 4,
		`{"L":[{"S":"ab"},{"N":"1"}]}`: 3 + 1 + 2 + 1 + 2,
		`{"M":{"k":{"S":"ab"}}}`:       3 + 1 + 1 + 2,
		`{"L":[]}`:                     3,
	} {
		var it item
		if err := json.Unmarshal([]byte(`{"v":`+v+`}`), &it); err != nil {
			t.Fatal(err)
		}
		if got := itemSize(it) - 1; got != size {
			t.Errorf("size of %s = %d, want %d", v, got, size)
		}
	}
}

func TestValidRequestsPass(t *testing.T) {
	_, db := start(t, nil)
	ctx := context.Background()
	noErr(t, put(db, sized("a", maxItemSize))) // exactly 400 KB is allowed
	for i := range 5 {
		noErr(t, put(db, withAttrs(key("q", fmt.Sprintf("%02d", i)), "GSI1PK", s("g"), "GSI1SK", s(fmt.Sprint(i)))))
	}
	noErr(t, put(db, withAttrs(key(strings.Repeat("p", maxPartitionKey), strings.Repeat("s", maxSortKey)))))
	_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key("u", "s"),
		UpdateExpression: aws.String("SET d = :d"), ExpressionAttributeValues: map[string]types.AttributeValue{":d": s(strings.Repeat("x", 400_000))}})
	noErr(t, err)
	noErr(t, transact(db, txPut(withAttrs(key("t", "1"))), txAdd(key("t", "2"), "n", 1), txAdd(key("u", "s"), "n", 1)))

	// Paging a table query and an index query with the keys DynamoDB hands back.
	q := &dynamodb.QueryInput{TableName: aws.String(table), KeyConditionExpression: aws.String("PK = :p AND SK BETWEEN :a AND :b"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("q"), ":a": s("00"), ":b": s("03")}, Limit: aws.Int32(2)}
	out, err := db.Query(ctx, q)
	noErr(t, err)
	q.ExclusiveStartKey = out.LastEvaluatedKey
	out, err = db.Query(ctx, q)
	noErr(t, err)
	if len(out.Items) != 2 {
		t.Fatalf("second page: %d items", len(out.Items))
	}
	gq := &dynamodb.QueryInput{TableName: aws.String(table), IndexName: aws.String("GSI1"), KeyConditionExpression: aws.String("GSI1PK = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("g")}, Limit: aws.Int32(2)}
	out, err = db.Query(ctx, gq)
	noErr(t, err)
	gq.ExclusiveStartKey = out.LastEvaluatedKey
	_, err = db.Query(ctx, gq)
	noErr(t, err)

	_, err = db.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
		{Get: &types.Get{TableName: aws.String(table), Key: key("t", "1")}}, {Get: &types.Get{TableName: aws.String(table), Key: key("t", "2")}},
	}})
	noErr(t, err)
	_, err = db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		table: {Keys: []map[string]types.AttributeValue{key("t", "1"), key("t", "2")}}}})
	noErr(t, err)
	_, err = db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
		table: {{PutRequest: &types.PutRequest{Item: key("b", "1")}}, {DeleteRequest: &types.DeleteRequest{Key: key("t", "1")}}}}})
	noErr(t, err)
	_, err = db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key("b", "1")})
	noErr(t, err)
}

func TestItemSizeLimit(t *testing.T) {
	_, db := start(t, nil)
	ctx := context.Background()
	wantValidation(t, put(db, sized("a", maxItemSize+1)), "Item size has exceeded the maximum allowed size")
	if get(t, db, key("a", "s")) != nil {
		t.Fatal("an oversized item was stored")
	}

	// An update is judged by the item it produces.
	noErr(t, put(db, sized("u", 300_000)))
	_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key("u", "s"),
		UpdateExpression: aws.String("SET e = :e"), ExpressionAttributeValues: map[string]types.AttributeValue{":e": s(strings.Repeat("y", 110_000))}})
	wantValidation(t, err, "Item size to update has exceeded the maximum allowed size")
	if get(t, db, key("u", "s"))["e"] != nil {
		t.Fatal("the refused update was applied")
	}

	_, err = db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
		table: {{PutRequest: &types.PutRequest{Item: key("b", "1")}}, {PutRequest: &types.PutRequest{Item: sized("b", maxItemSize+1)}}}}})
	wantValidation(t, err, "Item size has exceeded the maximum allowed size")
	wantValidation(t, transact(db, txPut(key("t", "1")), txPut(sized("t", maxItemSize+1))), "Item size has exceeded the maximum allowed size")

	// In a transaction, an update that grows the item too much cancels it.
	err = transact(db, txPut(key("t", "1")), types.TransactWriteItem{Update: &types.Update{TableName: aws.String(table), Key: key("u", "s"),
		UpdateExpression: aws.String("SET e = :e"), ExpressionAttributeValues: map[string]types.AttributeValue{":e": s(strings.Repeat("y", 110_000))}}})
	tce := wantCanceled(t, err, "None", "ValidationError")
	if !strings.Contains(aws.ToString(tce.CancellationReasons[1].Message), "Item size to update") {
		t.Fatalf("reason: %v", aws.ToString(tce.CancellationReasons[1].Message))
	}
	if get(t, db, key("t", "1")) != nil {
		t.Fatal("the cancelled transaction was applied")
	}
}

// wantCanceled asserts a TransactionCanceledException with these reason codes.
func wantCanceled(t *testing.T, err error, codes ...string) *types.TransactionCanceledException {
	t.Helper()
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		t.Fatalf("want TransactionCanceledException, got %v", err)
	}
	var got []string
	for _, r := range tce.CancellationReasons {
		got = append(got, aws.ToString(r.Code))
	}
	if fmt.Sprint(got) != fmt.Sprint(codes) {
		t.Fatalf("reasons %v, want %v", got, codes)
	}
	return tce
}

func TestTransactionLimits(t *testing.T) {
	_, db := start(t, func(st *Strict) { st.Hold = 0 })
	ctx := context.Background()
	var items []types.TransactWriteItem
	for i := range 101 {
		items = append(items, txPut(key("t", fmt.Sprint(i))))
	}
	wantValidation(t, transact(db, items...), "Member must have length less than or equal to 100")
	noErr(t, transact(db, items[:100]...))

	var big []types.TransactWriteItem
	for i := range 11 { // 11 × 390 KB > 4 MB
		big = append(big, txPut(sized(fmt.Sprint("big", i), 390_000)))
	}
	wantValidation(t, transact(db, big...), "4 MB")
	noErr(t, transact(db, big[:10]...))

	wantValidation(t, transact(db, txPut(key("d", "1")), txAdd(key("d", "1"), "n", 1)), "Transaction request cannot include multiple operations on one item")
	wantValidation(t, transact(db, txAdd(key("d", "1"), "n", 1), types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName: aws.String(table), Key: key("d", "1"), ConditionExpression: aws.String("attribute_not_exists(PK)")}}),
		"multiple operations on one item")

	var gets []types.TransactGetItem
	for i := range 101 {
		gets = append(gets, types.TransactGetItem{Get: &types.Get{TableName: aws.String(table), Key: key("t", fmt.Sprint(i))}})
	}
	_, err := db.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: gets})
	wantValidation(t, err, "less than or equal to 100")
	_, err = db.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{gets[0], gets[0]}})
	wantValidation(t, err, "multiple operations on one item")
	_, err = db.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: gets[:100]})
	noErr(t, err)
}

func TestKeyLimits(t *testing.T) {
	_, db := start(t, nil)
	ctx := context.Background()
	long := func(n int) string { return strings.Repeat("k", n) }
	wantValidation(t, put(db, key(long(maxPartitionKey+1), "s")), "Size of hashkey has exceeded")
	wantValidation(t, put(db, key("p", long(maxSortKey+1))), "range keys has exceeded")
	wantValidation(t, put(db, key("", "s")), "cannot contain an empty value")
	wantValidation(t, put(db, withAttrs(key("p", "s"), "GSI1PK", s(""), "GSI1SK", s("x"))), "IndexName: GSI1, IndexKey: GSI1PK")
	wantValidation(t, put(db, withAttrs(key("p", "s"), "GSI2PK", s("x"), "GSI2SK", s(long(maxSortKey+1)))), "range keys has exceeded")

	_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key(long(maxPartitionKey+1), "s")})
	wantValidation(t, err, "Size of hashkey")
	_, err = db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key("p", "")})
	wantValidation(t, err, "cannot contain an empty value")
	_, err = db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key("", "s")})
	wantValidation(t, err, "empty value")
	_, err = db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		table: {Keys: []map[string]types.AttributeValue{key("p", "s"), key("p", "")}}}})
	wantValidation(t, err, "empty value")
	wantValidation(t, transact(db, txAdd(key("p", long(maxSortKey+1)), "n", 1)), "range keys")

	// An update may not set an index key to an empty string either.
	noErr(t, put(db, key("p", "s")))
	_, err = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key("p", "s"),
		UpdateExpression: aws.String("SET GSI3PK = :e, GSI3SK = :x"), ExpressionAttributeValues: map[string]types.AttributeValue{":e": s(""), ":x": s("x")}})
	wantValidation(t, err, "IndexName: GSI3, IndexKey: GSI3PK")

	_, err = db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), KeyConditionExpression: aws.String("PK = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("")}})
	wantValidation(t, err, "empty value")
	_, err = db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), IndexName: aws.String("GSI2"), KeyConditionExpression: aws.String("#p = :p AND begins_with(#s, :s)"),
		ExpressionAttributeNames:  map[string]string{"#p": "GSI2PK", "#s": "GSI2SK"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("x"), ":s": s(long(maxSortKey + 1))}})
	wantValidation(t, err, "range keys")
}

func TestQueryRules(t *testing.T) {
	_, db := start(t, nil)
	ctx := context.Background()
	for i := range 3 {
		noErr(t, put(db, withAttrs(key("q", fmt.Sprint(i)), "GSI1PK", s("g"), "GSI1SK", s(fmt.Sprint(i)))))
	}
	query := func(mod func(*dynamodb.QueryInput)) error {
		in := &dynamodb.QueryInput{TableName: aws.String(table), KeyConditionExpression: aws.String("(PK = :p) AND (SK BETWEEN :a AND :b)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("q"), ":a": s("0"), ":b": s("2")}}
		mod(in)
		_, err := db.Query(ctx, in)
		return err
	}
	noErr(t, query(func(*dynamodb.QueryInput) {}))
	wantValidation(t, query(func(in *dynamodb.QueryInput) { in.ExpressionAttributeValues[":a"] = s("3") }), "BETWEEN operator requires upper bound to be greater than or equal to lower bound")
	wantValidation(t, query(func(in *dynamodb.QueryInput) { in.Limit = aws.Int32(0) }), "greater than or equal to 1")
	wantValidation(t, query(func(in *dynamodb.QueryInput) { in.ExclusiveStartKey = map[string]types.AttributeValue{"PK": s("q")} }), "The provided starting key is invalid")
	wantValidation(t, query(func(in *dynamodb.QueryInput) { in.ExclusiveStartKey = withAttrs(key("q", "0"), "other", s("x")) }), "The provided starting key is invalid")
	wantValidation(t, query(func(in *dynamodb.QueryInput) { in.ExclusiveStartKey = key("q", "") }), "The provided starting key is invalid")
	noErr(t, query(func(in *dynamodb.QueryInput) { in.ExclusiveStartKey = key("q", "0") }))

	gsi := func(esk map[string]types.AttributeValue) error {
		_, err := db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), IndexName: aws.String("GSI1"),
			KeyConditionExpression:    aws.String("GSI1PK = :p"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("g")}, ExclusiveStartKey: esk})
		return err
	}
	wantValidation(t, gsi(key("q", "0")), "The provided starting key is invalid")
	noErr(t, gsi(withAttrs(key("q", "0"), "GSI1PK", s("g"), "GSI1SK", s("0"))))
}

func TestTransactionConflict(t *testing.T) {
	_, db := start(t, func(st *Strict) { st.Hold = 300 * time.Millisecond })
	ctx := context.Background()
	done := make(chan error)
	go func() { done <- transact(db, txAdd(key("x", "1"), "n", 1)) }()
	time.Sleep(100 * time.Millisecond) // the first transaction is now in flight

	wantCanceled(t, transact(db, txAdd(key("y", "1"), "n", 1), txAdd(key("x", "1"), "n", 1)), "None", "TransactionConflict")
	var tce *types.TransactionConflictException
	if err := put(db, key("x", "1")); !errors.As(err, &tce) {
		t.Fatalf("PutItem on an item in a transaction: want TransactionConflictException, got %v", err)
	}
	_, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key("x", "1")})
	if !errors.As(err, &tce) {
		t.Fatalf("DeleteItem: want TransactionConflictException, got %v", err)
	}
	_, err = db.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
		{Get: &types.Get{TableName: aws.String(table), Key: key("x", "1")}}}})
	wantCanceled(t, err, "TransactionConflict")

	noErr(t, <-done)
	if it := get(t, db, key("x", "1")); it["n"].(*types.AttributeValueMemberN).Value != "1" {
		t.Fatalf("after the first transaction: %v", it)
	}
	if get(t, db, key("y", "1")) != nil {
		t.Fatal("the cancelled transaction was partly applied")
	}
	noErr(t, transact(db, txAdd(key("y", "1"), "n", 1), txAdd(key("x", "1"), "n", 1)))
}

// TestConcurrentTransactions runs read-modify-write transactions on one
// counter from many goroutines: some are cancelled by conflicts, some by
// their conditions, and every successful one counts exactly once.
func TestConcurrentTransactions(t *testing.T) {
	_, db := start(t, func(st *Strict) { st.Hold = 5 * time.Millisecond })
	noErr(t, put(db, withAttrs(key("c", "1"), "n", n(0))))
	var mu sync.Mutex
	var ok, conflicts, conditions int
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range 16 {
		wg.Go(func() {
			<-start
			for range 5 {
				cur := get(t, db, key("c", "1"))["n"].(*types.AttributeValueMemberN).Value
				err := transact(db,
					txPut(withAttrs(key("log", fmt.Sprintf("%d-%s", g, cur)))),
					types.TransactWriteItem{Update: &types.Update{TableName: aws.String(table), Key: key("c", "1"),
						UpdateExpression: aws.String("SET n = n + :one"), ConditionExpression: aws.String("n = :cur"),
						ExpressionAttributeValues: map[string]types.AttributeValue{":one": n(1), ":cur": &types.AttributeValueMemberN{Value: cur}}}})
				mu.Lock()
				var tce *types.TransactionCanceledException
				switch {
				case err == nil:
					ok++
				case errors.As(err, &tce) && aws.ToString(tce.CancellationReasons[1].Code) == "TransactionConflict":
					conflicts++
				case errors.As(err, &tce) && aws.ToString(tce.CancellationReasons[1].Code) == "ConditionalCheckFailed":
					conditions++
				default:
					t.Errorf("unexpected: %v", err)
				}
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	got := get(t, db, key("c", "1"))["n"].(*types.AttributeValueMemberN).Value
	t.Logf("committed %d, conflicts %d, failed conditions %d", ok, conflicts, conditions)
	if got != fmt.Sprint(ok) {
		t.Fatalf("counter %s after %d successful increments", got, ok)
	}
	if conflicts == 0 {
		t.Fatal("no transaction conflict among 16 concurrent writers")
	}
}

func TestIdempotencyToken(t *testing.T) {
	e, db := start(t, func(st *Strict) { st.Hold = 0 })
	ctx := context.Background()
	tw := func(tok string, by int) error {
		_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{ClientRequestToken: aws.String(tok),
			TransactItems: []types.TransactWriteItem{txAdd(key("i", "1"), "n", by)}})
		return err
	}
	count := func() string { return get(t, db, key("i", "1"))["n"].(*types.AttributeValueMemberN).Value }
	noErr(t, tw("tok-1", 1))
	noErr(t, tw("tok-1", 1))
	if c := count(); c != "1" {
		t.Fatalf("a repeated token applied the transaction again: n = %s", c)
	}
	var ipm *types.IdempotentParameterMismatchException
	if err := tw("tok-1", 2); !errors.As(err, &ipm) {
		t.Fatalf("want IdempotentParameterMismatchException, got %v", err)
	}
	noErr(t, tw("tok-2", 1))
	if c := count(); c != "2" {
		t.Fatalf("n = %s, want 2", c)
	}

	// After the window the token is new again.
	st := e.Strict()
	st.IdempotencyWindow = 50 * time.Millisecond
	e.SetStrict(st)
	noErr(t, tw("tok-3", 1))
	time.Sleep(60 * time.Millisecond)
	noErr(t, tw("tok-3", 1))
	if c := count(); c != "4" {
		t.Fatalf("n = %s, want 4", c)
	}
}

func TestRulesCanBeSwitchedOff(t *testing.T) {
	e, db := start(t, func(st *Strict) { st.ItemSize = false })
	noErr(t, put(db, sized("a", maxItemSize+1)))
	e.SetStrict(Strict{})
	_, err := db.Query(context.Background(), &dynamodb.QueryInput{TableName: aws.String(table), KeyConditionExpression: aws.String("PK = :p AND SK BETWEEN :a AND :b"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("q"), ":a": s("b"), ":b": s("a")}})
	noErr(t, err)
}

// A Query's page ends after 1 MB of items, as in DynamoDB; a Limit still
// ends it earlier; following LastEvaluatedKey reads every item once.
func TestQueryPagesEndAfterOneMegabyte(t *testing.T) {
	_, db := start(t, func(st *Strict) { st.Hold = 0 })
	const items, size = 2500, 1000 // 2.5 MB in one partition
	for i := range items {
		it := withAttrs(key("p", fmt.Sprintf("%05d", i)), "d", s(strings.Repeat("x", size-14)))
		noErr(t, put(db, it))
	}
	q := func(start map[string]types.AttributeValue, limit *int32) *dynamodb.QueryOutput {
		out, err := db.Query(context.Background(), &dynamodb.QueryInput{TableName: aws.String(table), KeyConditionExpression: aws.String("PK = :p"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("p")}, ExclusiveStartKey: start, Limit: limit})
		noErr(t, err)
		return out
	}
	var pages []int
	seen := 0
	var start map[string]types.AttributeValue
	for {
		out := q(start, nil)
		pages = append(pages, len(out.Items))
		seen += len(out.Items)
		if out.LastEvaluatedKey == nil {
			break
		}
		start = out.LastEvaluatedKey
	}
	sz := (2 + 1) + (2 + 5) + (1 + size - 14) // PK "p", SK of 5 digits, d: DynamoDB's item size
	if seen != items || len(pages) != 3 || pages[0]*sz < 1<<20 || (pages[0]-1)*sz >= 1<<20 {
		t.Errorf("pages %v (%d items), want three, the first ending at 1 MB", pages, seen)
	}
	if out := q(nil, aws.Int32(10)); len(out.Items) != 10 || out.LastEvaluatedKey == nil {
		t.Errorf("Limit 10: %d items", len(out.Items))
	}
}
