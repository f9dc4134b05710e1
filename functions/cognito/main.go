// Command cognito is the Lambda function Cognito calls after each
// authentication and confirmation of a user (PostAuthentication and
// PostConfirmation triggers): it records the user's verified e-mail
// address, organisation and language in the organisation's mail
// directory (package mail, CognitoTrigger), so that notifications reach
// every user, whether they use the pages or only the API.
package main

import (
	"context"
	"log"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rengas/rengas/shared/httpapi"
	"github.com/rengas/rengas/shared/mail"
)

func main() {
	store, err := httpapi.StoreFromEnv(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(mail.CognitoTrigger(store, slog.New(slog.NewJSONHandler(os.Stdout, nil))))
}
