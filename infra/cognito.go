package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
)

// CognitoFunction records signing-in users in their organisation's mail
// directory (functions/cognito).
const CognitoFunction = "cognito"

// wireCognitoTriggers makes Cognito call the cognito function after each
// authentication (the pages' managed login and the API clients' token
// requests alike) and each confirmation, so that every user of an
// organisation is in its mail directory, and passes the mailer the
// directory's maximum age (context mailDirectoryMaxAgeDays, default 365):
// a user who has not signed in for that long is no longer mailed.
func wireCognitoTriggers(st awscdk.Stack, app *App) {
	fn := app.Functions[CognitoFunction]
	app.UserPool.AddTrigger(awscognito.UserPoolOperation_POST_AUTHENTICATION(), fn, awscognito.LambdaVersion_V1_0)
	app.UserPool.AddTrigger(awscognito.UserPoolOperation_POST_CONFIRMATION(), fn, awscognito.LambdaVersion_V1_0)
	if days, ok := st.Node().TryGetContext(s("mailDirectoryMaxAgeDays")).(string); ok && days != "" {
		app.Functions[MailerFunction].AddEnvironment(s("MAIL_DIRECTORY_MAX_AGE_DAYS"), s(days), nil)
	}
}
