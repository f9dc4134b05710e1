package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// CloseEvaluation exposes the award's closing writes to the tests, which
// commit them at a moment of their choosing.
func CloseEvaluation(s *Store, ctx context.Context, comp string) ([]Write, error) {
	return s.closeEvaluation(ctx, comp)
}

// CommitWrites writes the writes in one transaction.
func CommitWrites(s *Store, ctx context.Context, ws []Write) error {
	items := make([]types.TransactWriteItem, len(ws))
	for i, w := range ws {
		items[i] = w.tw
	}
	return s.transact(ctx, items)
}
