// Command documents is the Lambda function of the documents bucket's
// events: S3 ObjectCreated notifications settle an upload (its size, type
// and SHA-256 checked against the declaration; arrived, or refused and
// deleted), and GuardDuty Malware Protection's scan results (EventBridge)
// make a file readable to others or mark its threat. It never handles a
// file's bytes beyond its first 16 (the file signature).
package main

import (
	"context"
	"log"
	_ "time/tzdata"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rengas/rengas/shared/httpapi"
)

func main() {
	srv, err := httpapi.ServerFromEnv(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(srv.FileEvent)
}
