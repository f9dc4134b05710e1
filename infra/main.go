// Command infra is the CDK app of Rengas: a stateful stack (the DynamoDB
// table and the documents bucket) and an application stack (HTTP API,
// Cognito, Lambda functions, schedule, alarms), checked with cdk-nag's
// AwsSolutions rules. Run it through the CDK CLI: npx cdk synth.
package main

import (
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Stacks are the two stacks of one deployment.
type Stacks struct {
	Stateful *Stateful
	App      *App
}

// Build defines both stacks in app and applies the AwsSolutions checks.
func Build(app awscdk.App, assets string) Stacks {
	env := &awscdk.Environment{Account: jsii.String(os.Getenv("CDK_DEFAULT_ACCOUNT")), Region: jsii.String(os.Getenv("CDK_DEFAULT_REGION"))}
	if *env.Account == "" {
		env = nil // environment-agnostic: synth works without credentials
	}
	stateful := NewStatefulStack(app, "RengasStateful", &awscdk.StackProps{Env: env, Description: jsii.String("Rengas: DynamoDB table and documents bucket")})
	application := NewAppStack(app, "RengasApp", &AppProps{
		StackProps: awscdk.StackProps{Env: env, Description: jsii.String("Rengas: HTTP API, Cognito, Lambda functions, schedule and alarms")},
		Stateful:   stateful, AssetsDir: assets,
	})
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return Stacks{Stateful: stateful, App: application}
}

func main() {
	// No jsii.Close(): it races with the jsii runtime's own wait on its node
	// process and prints a spurious error; the process ends with the app.
	app := awscdk.NewApp(nil)
	Build(app, "build")
	app.Synth(nil)
}
