// Command audit is the Lambda function that serves the audit routes of the
// Rengas API (see shared/httpapi.Routes).
package main

import (
	"context"
	"log"
	_ "time/tzdata" // Finnish calendar days need Europe/Helsinki

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rengas/rengas/shared/httpapi"
)

func main() {
	srv, err := httpapi.ServerFromEnv(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	srv.Store.ReadOnly = true // as its IAM role: auditors never change anything
	lambda.Start(srv.LambdaEntry(httpapi.FnAudit))
}
