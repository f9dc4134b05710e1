package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rengas/rengas/shared/audit"
)

// RewriteForTest overwrites an event and its chain's head directly, as
// someone with write access to the table (not the application) could.
func RewriteForTest(ctx context.Context, s *Store, ev audit.Event, head audit.Head) error {
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: entity(eventKey(ev.Chain, ev.Seq), "event", 1, ev).av()}); err != nil {
		return err
	}
	h := s.headPut(ev.Chain, audit.Head{}, head, ev.At).Put
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: h.Item})
	return err
}
