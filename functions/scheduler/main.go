// Command scheduler is the Lambda function that EventBridge runs on a
// schedule: it opens mini-competitions past their deadline, finishes
// notification fan-outs, flags overdue application decisions and, once
// per ANCHOR_EVERY (default an hour), anchors the audit chains' heads in
// the write-once ANCHOR_BUCKET.
package main

import (
	"context"
	"log"
	"log/slog"
	"os"
	"time"
	_ "time/tzdata" // Finnish calendar days need Europe/Helsinki

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/httpapi"
)

func main() {
	ctx := context.Background()
	store, err := httpapi.StoreFromEnv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if store.Anchors == nil {
		log.Fatal("ANCHOR_BUCKET is not set: the scheduled job anchors the audit chains there")
	}
	if v := os.Getenv("ANCHOR_EVERY"); v != "" {
		if store.Anchors.Every, err = time.ParseDuration(v); err != nil {
			log.Fatalf("ANCHOR_EVERY: %v", err)
		}
	}
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	lambda.Start(func(ctx context.Context, _ events.EventBridgeEvent) (dynamo.ScheduleReport, error) {
		r, err := store.RunSchedule(ctx)
		logger.Info("scheduled run", "report", r, "err", err)
		return r, err
	})
}
