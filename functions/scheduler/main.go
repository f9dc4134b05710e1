// Command scheduler is the Lambda function that EventBridge runs on a
// schedule: it opens mini-competitions past their deadline, finishes
// notification fan-outs and flags overdue application decisions.
package main

import (
	"context"
	"log"
	"log/slog"
	"os"
	_ "time/tzdata" // Finnish calendar days need Europe/Helsinki

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rengas/rengas/shared/dynamo"
)

func main() {
	ctx := context.Background()
	db, err := dynamo.Connect(ctx, os.Getenv("DYNAMODB_ENDPOINT"))
	if err != nil {
		log.Fatal(err)
	}
	store := dynamo.New(db, dynamo.TableName())
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	lambda.Start(func(ctx context.Context, _ events.EventBridgeEvent) (dynamo.ScheduleReport, error) {
		r, err := store.RunSchedule(ctx)
		logger.Info("scheduled run", "report", r, "err", err)
		return r, err
	})
}
