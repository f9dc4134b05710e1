package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/rengas/rengas/shared/auth"
	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/httpapi"
)

var s = jsii.String

// Stateful holds what must survive a redeploy: the table, the documents
// bucket and the anchor bucket.
type Stateful struct {
	awscdk.Stack
	Table     awsdynamodb.Table
	Documents awss3.Bucket
	// Anchors keeps the anchors of the audit chains, write-once.
	Anchors awss3.Bucket
	// Exports keeps answers too large for a response for a day, handed
	// out by presigned links.
	Exports awss3.Bucket
	// Backups keep the table and the documents for years (backup.go).
	Backups *Backups
}

// DefaultAnchorRetentionYears is how long an anchor cannot be changed or
// deleted by anyone (Object Lock, compliance mode), unless the CDK context
// anchorRetentionYears says otherwise (npx cdk deploy -c anchorRetentionYears=12).
const DefaultAnchorRetentionYears = 10

func anchorRetentionYears(st awscdk.Stack) float64 {
	if v, ok := st.Node().TryGetContext(s("anchorRetentionYears")).(float64); ok && v >= 1 {
		return v
	}
	if v, ok := st.Node().TryGetContext(s("anchorRetentionYears")).(string); ok {
		var y float64
		if _, err := fmt.Sscan(v, &y); err == nil && y >= 1 {
			return y
		}
	}
	return DefaultAnchorRetentionYears
}

// NewStatefulStack defines the DynamoDB table from the key and index
// definition in shared/dynamo/table.go, and the provider documents bucket.
func NewStatefulStack(scope constructs.Construct, id string, props *awscdk.StackProps) *Stateful {
	st := awscdk.NewStack(scope, s(id), props)
	attr := func(name string) *awsdynamodb.Attribute {
		return &awsdynamodb.Attribute{Name: s(name), Type: awsdynamodb.AttributeType_STRING}
	}
	table := awsdynamodb.NewTable(st, s("Table"), &awsdynamodb.TableProps{
		PartitionKey:                     attr(dynamo.AttrPK),
		SortKey:                          attr(dynamo.AttrSK),
		BillingMode:                      awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: jsii.Bool(true)},
		DeletionProtection:               jsii.Bool(true),
		RemovalPolicy:                    awscdk.RemovalPolicy_RETAIN,
		Encryption:                       awsdynamodb.TableEncryption_AWS_MANAGED,
		TimeToLiveAttribute:              s("expires"), // idempotency records
	})
	for _, ix := range dynamo.Indexes {
		table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
			IndexName: s(ix.Name), PartitionKey: attr(ix.PK), SortKey: attr(ix.SK), ProjectionType: awsdynamodb.ProjectionType_ALL,
		})
	}

	accessLogs := awss3.NewBucket(st, s("DocumentsAccessLogs"), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_PREFERRED,
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		LifecycleRules:    &[]*awss3.LifecycleRule{{Expiration: awscdk.Duration_Days(jsii.Number(400))}},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(accessLogs, &[]*cdknag.NagPackSuppression{{
		Id: s("AwsSolutions-S1"), Reason: s("This bucket receives the documents bucket's access logs; logging it into itself would loop."),
	}}, nil)
	docs := awss3.NewBucket(st, s("Documents"), &awss3.BucketProps{
		Encryption:             awss3.BucketEncryption_S3_MANAGED,
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:             jsii.Bool(true),
		Versioned:              jsii.Bool(true),
		RemovalPolicy:          awscdk.RemovalPolicy_RETAIN,
		ServerAccessLogsBucket: accessLogs,
		ServerAccessLogsPrefix: s("documents/"),
		// Object Created events go to EventBridge, where the documents
		// function takes them (see documents.go).
		EventBridgeEnabled: jsii.Bool(true),
		// The pages' script PUTs a file straight to its presigned URL
		// (the signature, not CORS, is what authorises the write); without
		// this rule the browser refuses the cross-origin PUT and the page
		// falls back to its form upload.
		Cors: &[]*awss3.CorsRule{{
			AllowedMethods: &[]awss3.HttpMethods{awss3.HttpMethods_PUT},
			AllowedOrigins: &[]*string{pagesOrigin(st)},
			AllowedHeaders: &[]*string{s("content-type"), s("x-amz-checksum-sha256"), s("x-amz-meta-rengas-*"), s("x-amz-sdk-checksum-algorithm")},
			MaxAge:         jsii.Number(3000),
		}},
	})
	newMalwareProtection(st, docs)
	// The anchors of the audit chains: Object Lock in compliance mode, so
	// that no one, the account's root user included, can overwrite or
	// delete an anchor until its retention ends; every write must be
	// conditional (If-None-Match), so not even a new version can be put
	// over an anchor.
	anchors := awss3.NewBucket(st, s("Anchors"), &awss3.BucketProps{
		Encryption:                 awss3.BucketEncryption_S3_MANAGED,
		BlockPublicAccess:          awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:                 jsii.Bool(true),
		Versioned:                  jsii.Bool(true),
		ObjectLockEnabled:          jsii.Bool(true),
		ObjectLockDefaultRetention: awss3.ObjectLockRetention_Compliance(awscdk.Duration_Days(jsii.Number(365 * anchorRetentionYears(st)))),
		RemovalPolicy:              awscdk.RemovalPolicy_RETAIN,
		ServerAccessLogsBucket:     accessLogs,
		ServerAccessLogsPrefix:     s("anchors/"),
	})
	anchors.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        s("WriteOnlyNewAnchors"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("s3:PutObject"),
		Resources:  &[]*string{anchors.ArnForObjects(s("*"))},
		Conditions: &map[string]any{"Null": map[string]any{"s3:if-none-match": "true"}},
	}))
	awscdk.NewCfnOutput(st, s("TableName"), &awscdk.CfnOutputProps{Value: table.TableName()})
	awscdk.NewCfnOutput(st, s("DocumentsBucket"), &awscdk.CfnOutputProps{Value: docs.BucketName()})
	awscdk.NewCfnOutput(st, s("AnchorBucket"), &awscdk.CfnOutputProps{Value: anchors.BucketName()})
	exportsBucket := awss3.NewBucket(st, s("Exports"), &awss3.BucketProps{
		Encryption:             awss3.BucketEncryption_S3_MANAGED,
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:             jsii.Bool(true),
		RemovalPolicy:          awscdk.RemovalPolicy_RETAIN,
		ServerAccessLogsBucket: accessLogs,
		ServerAccessLogsPrefix: s("exports/"),
		// An export's link works 15 minutes; the object is gone after a day.
		LifecycleRules: &[]*awss3.LifecycleRule{{Expiration: awscdk.Duration_Days(jsii.Number(1))}},
	})
	awscdk.NewCfnOutput(st, s("ExportBucket"), &awscdk.CfnOutputProps{Value: exportsBucket.BucketName()})
	return &Stateful{Stack: st, Table: table, Documents: docs, Anchors: anchors, Exports: exportsBucket, Backups: addBackups(st, table, docs)}
}

// Function is a Lambda function folder under functions/.
type Function struct {
	Name string
	// Actions are the DynamoDB actions it may take on the table.
	Actions []string
	// Writes is false for read-only functions.
	Writes bool
	// Anchors are the S3 actions it may take on the anchor bucket's objects.
	Anchors []string
	// MemoryMB is its memory (and so its share of a CPU); default 512.
	MemoryMB float64
	// TimeoutSec is its time limit; default 10.
	TimeoutSec float64
	// Partitions, if set, are the only partition keys (patterns of
	// dynamodb:LeadingKeys) its actions may touch.
	Partitions []string
}

var (
	readActions  = []string{"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"}
	writeActions = []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"}
	// Expanding notification fan-outs needs batch writes and the deletion of
	// the fan-out record.
	fanoutActions = []string{"dynamodb:BatchWriteItem", "dynamodb:DeleteItem"}
)

// Functions lists every function with its least-privilege DynamoDB actions.
// No function may Scan; the audit function only reads.
var Functions = []Function{
	{Name: httpapi.FnQualification, Actions: slices.Concat(readActions, writeActions), Writes: true},
	{Name: httpapi.FnCompetitions, Actions: slices.Concat(readActions, writeActions, fanoutActions), Writes: true},
	// The audit function gets a whole vCPU (1769 MB): verifying a chain
	// hashes every event, about 0.2 s of CPU per 10,000 events.
	{Name: httpapi.FnAudit, Actions: readActions, Anchors: []string{"s3:GetObject"}, MemoryMB: 1769},
	// Only the scheduled job writes anchors (PutObject; the bucket refuses
	// any write that is not If-None-Match, and Object Lock any deletion).
	{Name: "scheduler", Actions: slices.Concat(readActions, writeActions, fanoutActions), Writes: true, Anchors: []string{"s3:GetObject", "s3:PutObject"}, TimeoutSec: 120},
	// The mailer reads the mail queue, directories and address states,
	// writes sent markers (Put in transactions), records bounces and
	// complaints (UpdateItem) and takes and ends its lease (Put, Delete).
	{Name: MailerFunction, Actions: slices.Concat(readActions, []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}), Writes: true, TimeoutSec: 300},
	// The pages call the qualification, competitions and audit routes
	// in-process, so the web function needs what those functions need
	// together (the audit routes run on a read-only store, and chain
	// verification reads the anchors).
	{Name: WebFunction, Actions: slices.Concat(readActions, writeActions, fanoutActions), Writes: true, Anchors: []string{"s3:GetObject"}, MemoryMB: 1769},
	// Settles uploads and records malware scan results (documents.go).
	{Name: DocumentsFunction, Actions: slices.Concat(readActions, writeActions), Writes: true},
	// Cognito's trigger records each signing-in user in their
	// organisation's mail directory (cognito.go): one UpdateItem, on the
	// ORG#<org> partitions only, which hold nothing but the directories.
	{Name: CognitoFunction, Actions: []string{"dynamodb:UpdateItem"}, Writes: true, Partitions: []string{"ORG#*"}},
}

// WebFunction serves the pages (functions/web).
const WebFunction = "web"

// appendOnlyDenied are the DynamoDB actions denied to every writing
// function on the audit chains and anchors.
var appendOnlyDenied = []string{"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}

// AppProps are the inputs of the application stack.
type AppProps struct {
	awscdk.StackProps
	Stateful *Stateful
	// AssetsDir holds build/<function>/bootstrap, built by scripts/build-lambdas.sh.
	AssetsDir string
}

// App is the application stack.
type App struct {
	awscdk.Stack
	API awsapigatewayv2.HttpApi
	// Routes are the API's routes besides $default.
	Routes []awsapigatewayv2.HttpRoute
	// PublicURL is where users reach the pages and the API (the custom
	// domain, if any): links in mail and the sign-in callback use it.
	PublicURL *string
	Alerts    *Alerts
	Mail      *Mail
	Edge      *Edge
	UserPool  awscognito.UserPool
	Pages     *Pages
	Functions map[string]awslambda.Function
}

// NewAppStack defines the HTTP API, Cognito, the functions, the schedule
// and the alarms.
func NewAppStack(scope constructs.Construct, id string, props *AppProps) *App {
	st := awscdk.NewStack(scope, s(id), &props.StackProps)
	app := &App{Stack: st, Functions: map[string]awslambda.Function{}}
	table := props.Stateful.Table
	app.Mail = newMailIdentity(st)

	app.UserPool = awscognito.NewUserPool(st, s("Users"), &awscognito.UserPoolProps{
		SelfSignUpEnabled: jsii.Bool(false), // the ring's officers create users
		SignInAliases:     &awscognito.SignInAliases{Email: jsii.Bool(true)},
		AutoVerify:        &awscognito.AutoVerifiedAttrs{Email: jsii.Bool(true)},
		PasswordPolicy: &awscognito.PasswordPolicy{
			MinLength: jsii.Number(12), RequireDigits: jsii.Bool(true), RequireLowercase: jsii.Bool(true),
			RequireUppercase: jsii.Bool(true), RequireSymbols: jsii.Bool(true), TempPasswordValidity: awscdk.Duration_Days(jsii.Number(3)),
		},
		// Everyone who can see sealed procedures or award contracts uses a second factor.
		Mfa:                          awscognito.Mfa_REQUIRED,
		MfaSecondFactor:              &awscognito.MfaSecondFactor{Otp: jsii.Bool(true), Sms: jsii.Bool(false)},
		AccountRecovery:              awscognito.AccountRecovery_EMAIL_ONLY,
		FeaturePlan:                  awscognito.FeaturePlan_PLUS,
		StandardThreatProtectionMode: awscognito.StandardThreatProtectionMode_FULL_FUNCTION,
		DeletionProtection:           jsii.Bool(true),
		RemovalPolicy:                awscdk.RemovalPolicy_RETAIN,
		// Cognito's own mail (temporary passwords, codes) goes through SES (mail.go).
		Email: cognitoEmail(st, app.Mail),
		CustomAttributes: &map[string]awscognito.ICustomAttribute{
			// The organisation a user acts for; set by an administrator, never by the user.
			strings.TrimPrefix(auth.ClaimOrg, "custom:"): awscognito.NewStringAttribute(&awscognito.StringAttributeProps{Mutable: jsii.Bool(true), MaxLen: jsii.Number(60)}),
		},
	})
	for group := range auth.Groups {
		awscognito.NewCfnUserPoolGroup(st, s("Group-"+group), &awscognito.CfnUserPoolGroupProps{
			UserPoolId: app.UserPool.UserPoolId(), GroupName: s(group),
		})
	}
	client := app.UserPool.AddClient(s("WebClient"), &awscognito.UserPoolClientOptions{
		AuthFlows: &awscognito.AuthFlow{UserSrp: jsii.Bool(true)},
		// API callers sign in with SRP; the OAuth flows (and CDK's default
		// of allowing the implicit flow) are the pages' client's alone.
		DisableOAuth:               jsii.Bool(true),
		GenerateSecret:             jsii.Bool(false),
		PreventUserExistenceErrors: jsii.Bool(true),
		IdTokenValidity:            awscdk.Duration_Hours(jsii.Number(1)),
		// Users may read their organisation but never write it.
		ReadAttributes: awscognito.NewClientAttributes().WithStandardAttributes(&awscognito.StandardAttributesMask{Email: jsii.Bool(true), Fullname: jsii.Bool(true)}).
			WithCustomAttributes(s(strings.TrimPrefix(auth.ClaimOrg, "custom:"))),
		WriteAttributes: awscognito.NewClientAttributes().WithStandardAttributes(&awscognito.StandardAttributesMask{Fullname: jsii.Bool(true)}),
	})
	authorizer := awsapigatewayv2authorizers.NewHttpUserPoolAuthorizer(s("CognitoJwt"), app.UserPool, &awsapigatewayv2authorizers.HttpUserPoolAuthorizerProps{
		UserPoolClients: &[]awscognito.IUserPoolClient{client},
	})

	for _, fn := range Functions {
		app.Functions[fn.Name] = newFunction(st, fn, table, props.Stateful.Anchors, props.AssetsDir)
	}
	// Keys generated at the first deployment and kept in Secrets Manager;
	// CloudFormation resolves them into the functions' (encrypted)
	// environment, never into the template. CURSOR_KEY signs list cursors,
	// WEB_COOKIE_KEY the pages' sign-in cookies.
	secret := func(id, what string) awssecretsmanager.Secret {
		sec := awssecretsmanager.NewSecret(st, s(id), &awssecretsmanager.SecretProps{
			Description:          s(what),
			GenerateSecretString: &awssecretsmanager.SecretStringGenerator{PasswordLength: jsii.Number(64), ExcludePunctuation: jsii.Bool(true)},
			RemovalPolicy:        awscdk.RemovalPolicy_RETAIN,
		})
		cdknag.NagSuppressions_AddResourceSuppressions(sec, &[]*cdknag.NagPackSuppression{{
			Id: s("AwsSolutions-SMG4"), Reason: s("An HMAC key read at deployment; rotating it means a new deployment, and only invalidates outstanding cursors or sign-in cookies."),
		}}, nil)
		return sec
	}
	cursorKey := secret("CursorKey", "Rengas: the HMAC key that signs list cursors")
	cookieKey := secret("WebCookieKey", "Rengas: the HMAC key that signs the pages' sign-in cookies")
	for _, fn := range Functions {
		f := app.Functions[fn.Name]
		f.AddEnvironment(s("CURSOR_KEY"), cursorKey.SecretValue().UnsafeUnwrap(), nil)
		if fn.Name == WebFunction {
			f.AddEnvironment(s("WEB_COOKIE_KEY"), cookieKey.SecretValue().UnsafeUnwrap(), nil)
		}
		if fn.Name != "scheduler" && fn.Name != WebFunction && fn.Name != DocumentsFunction && fn.Name != MailerFunction && fn.Name != CognitoFunction {
			// Answers too large for a response are stored and linked. (The
			// pages render what they read; they take answers inline.)
			f.Role().AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions:   jsii.Strings("s3:PutObject", "s3:GetObject"),
				Resources: &[]*string{props.Stateful.Exports.ArnForObjects(s("exports/*"))},
			}))
			f.AddEnvironment(s("EXPORT_BUCKET"), props.Stateful.Exports.BucketName(), nil)
		}
	}

	wireDocuments(st, app, props.Stateful.Documents)
	wireCognitoTriggers(st, app)

	// The pages take every request that no API route matches ($default):
	// /, /fi/..., /sv/..., /en/..., /assets/... and /auth/callback. The web
	// function verifies the user's session itself (Cognito ID token in an
	// HttpOnly cookie) and answers the API's 404 for anything else.
	webIntegration := awsapigatewayv2integrations.NewHttpLambdaIntegration(s("Integration-"+WebFunction), app.Functions[WebFunction], nil)
	app.API = awsapigatewayv2.NewHttpApi(st, s("Api"), &awsapigatewayv2.HttpApiProps{
		ApiName: s("rengas"), CreateDefaultStage: jsii.Bool(false), DefaultIntegration: webIntegration,
		// CORS only for the origins the context corsOrigins names (edge.go).
		CorsPreflight: corsPreflight(st),
	})
	app.PublicURL = publicURL(st, app.API)
	cdknag.NagSuppressions_AddResourceSuppressions(app.API, &[]*cdknag.NagPackSuppression{{
		Id: s("AwsSolutions-APIG4"), Reason: s("The $default route serves the web pages, which verify the Cognito session cookie against the user pool's JWKS on every request; the sign-in page and assets must be reachable without a token."),
	}}, jsii.Bool(true))
	app.Pages = newPages(st, app, props)
	accessLog := awslogs.NewLogGroup(st, s("ApiAccessLogs"), &awslogs.LogGroupProps{Retention: awslogs.RetentionDays_SIX_MONTHS})
	stage := awsapigatewayv2.NewHttpStage(st, s("DefaultStage"), &awsapigatewayv2.HttpStageProps{
		HttpApi: app.API, StageName: s("$default"), AutoDeploy: jsii.Bool(true),
		Throttle: &awsapigatewayv2.ThrottleSettings{RateLimit: jsii.Number(200), BurstLimit: jsii.Number(400)},
	})
	stage.Node().DefaultChild().(awsapigatewayv2.CfnStage).SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: accessLog.LogGroupArn(),
		Format: s(`{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","time":"$context.requestTime",` +
			`"method":"$context.httpMethod","route":"$context.routeKey","status":"$context.status","latencyMs":"$context.responseLatency",` +
			`"user":"$context.authorizer.claims.sub","error":"$context.integrationErrorMessage"}`),
	})
	integrations := map[string]awsapigatewayv2integrations.HttpLambdaIntegration{}
	for _, rt := range httpapi.Routes {
		in, ok := integrations[rt.Function]
		if !ok {
			in = awsapigatewayv2integrations.NewHttpLambdaIntegration(s("Integration-"+rt.Function), app.Functions[rt.Function], nil)
			integrations[rt.Function] = in
		}
		opts := &awsapigatewayv2.AddRoutesOptions{Path: s(rt.Path), Methods: &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod(rt.Method)}, Integration: in}
		if rt.Roles != nil {
			opts.Authorizer = authorizer
		}
		routes := app.API.AddRoutes(opts)
		app.Routes = append(app.Routes, *routes...)
		if rt.Roles == nil {
			for _, r := range *routes {
				cdknag.NagSuppressions_AddResourceSuppressions(r, &[]*cdknag.NagPackSuppression{{
					Id: s("AwsSolutions-APIG4"), Reason: s("Public by design: " + rt.Summary + "."),
				}}, jsii.Bool(true))
			}
		}
	}

	app.Alerts = newAlerts(st, app)
	app.Edge = addEdge(st, app, stage)

	schedule := awsevents.NewRule(st, s("Schedule"), &awsevents.RuleProps{
		Description: s("Opens competitions past their deadline, finishes notification fan-outs, flags overdue decisions, anchors the audit chains hourly; e-mails the notification outbox."),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(1))),
	})
	schedule.AddTarget(awseventstargets.NewLambdaFunction(app.Functions["scheduler"], nil))
	addMail(st, app, app.Mail, app.Alerts, schedule)

	awscdk.NewCfnOutput(st, s("ApiUrl"), &awscdk.CfnOutputProps{Value: app.API.ApiEndpoint()})
	awscdk.NewCfnOutput(st, s("UserPoolId"), &awscdk.CfnOutputProps{Value: app.UserPool.UserPoolId()})
	awscdk.NewCfnOutput(st, s("UserPoolClientId"), &awscdk.CfnOutputProps{Value: client.UserPoolClientId()})
	awscdk.NewCfnOutput(st, s("WebUrl"), &awscdk.CfnOutputProps{Value: awscdk.Fn_Join(s(""), &[]*string{app.PublicURL, s("/fi/")})})
	awscdk.NewCfnOutput(st, s("SignInDomain"), &awscdk.CfnOutputProps{Value: app.Pages.Domain.BaseUrl(nil)})
	return app
}

// newFunction defines one arm64 function with its own role: logs to its own
// log group and exactly its DynamoDB actions, nothing more.
func newFunction(st awscdk.Stack, fn Function, table awsdynamodb.Table, anchors awss3.Bucket, assets string) awslambda.Function {
	logs := awslogs.NewLogGroup(st, s("Logs-"+fn.Name), &awslogs.LogGroupProps{
		Retention: awslogs.RetentionDays_THREE_MONTHS, RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	role := awsiam.NewRole(st, s("Role-"+fn.Name), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(s("lambda.amazonaws.com"), nil),
		Description: s("Least privilege for the " + fn.Name + " function"),
	})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
		Resources: &[]*string{logs.LogGroupArn()},
	}))
	tableGrant := &awsiam.PolicyStatementProps{
		Actions:   jsii.Strings(fn.Actions...),
		Resources: &[]*string{table.TableArn(), jsii.String(*table.TableArn() + "/index/*")},
	}
	if len(fn.Partitions) > 0 {
		tableGrant.Resources = &[]*string{table.TableArn()}
		tableGrant.Conditions = &map[string]any{"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": fn.Partitions}}
	}
	role.AddToPolicy(awsiam.NewPolicyStatement(tableGrant))
	if fn.Writes {
		// The audit trail is append-only: events, chain heads, anchored
		// heads and anchors are only ever Put, never updated or deleted.
		// IAM cannot force the condition of a Put (attribute_not_exists),
		// so a function's role could still overwrite an event with a Put;
		// the code never does, and the anchors outside the table give any
		// such overwrite away when the chain is verified.
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Effect:    awsiam.Effect_DENY,
			Actions:   jsii.Strings(appendOnlyDenied...),
			Resources: &[]*string{table.TableArn()},
			Conditions: &map[string]any{
				"ForAnyValue:StringLike": map[string]any{"dynamodb:LeadingKeys": dynamo.AppendOnlyPartitions},
			},
		}))
	}
	env := map[string]*string{"TABLE_NAME": table.TableName()}
	if len(fn.Anchors) > 0 {
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings(fn.Anchors...),
			Resources: &[]*string{anchors.ArnForObjects(s(strings.TrimSuffix(dynamo.AnchorObjectPrefix, "/") + "/*"))},
		}))
		env["ANCHOR_BUCKET"] = anchors.BucketName()
	} else {
		// Defence in depth: no other function may write or delete anchors,
		// even if a grant were added by mistake.
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Effect:    awsiam.Effect_DENY,
			Actions:   jsii.Strings("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"),
			Resources: &[]*string{anchors.ArnForObjects(s("*"))},
		}))
	}
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id:     s("AwsSolutions-IAM5"),
		Reason: s("Queries on the table's GSIs need the index ARNs (table/index/*); the log group ARN ends in :* for its streams; the anchor objects are anchors/* of the anchor bucket. No action is wildcarded."),
	}}, jsii.Bool(true))
	timeout := fn.TimeoutSec
	if timeout == 0 {
		timeout = 10
	}
	memory := fn.MemoryMB
	if memory == 0 {
		memory = 512
	}
	f := awslambda.NewFunction(st, s("Fn-"+fn.Name), &awslambda.FunctionProps{
		Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:  awslambda.Architecture_ARM_64(),
		Handler:       s("bootstrap"),
		Code:          awslambda.Code_FromAsset(s(fmt.Sprintf("%s/%s", assets, fn.Name)), nil),
		MemorySize:    jsii.Number(memory),
		Timeout:       awscdk.Duration_Seconds(jsii.Number(timeout)),
		Role:          role,
		LogGroup:      logs,
		LoggingFormat: awslambda.LoggingFormat_JSON,
		Environment:   &env,
		Description:   s("Rengas " + fn.Name),
	})
	return f
}

// Pages are the Cognito pieces of the web pages: the user-pool domain of
// the managed login and the pages' own app client (authorization code with
// PKCE; no implicit flow, no secret), whose callback and sign-out URLs come
// from the deployment's API URL.
type Pages struct {
	Domain awscognito.UserPoolDomain
	Client awscognito.UserPoolClient
}

func newPages(st awscdk.Stack, app *App, props *AppProps) *Pages {
	base := app.PublicURL
	url := func(p string) *string { return awscdk.Fn_Join(s(""), &[]*string{base, s(p)}) }
	client := app.UserPool.AddClient(s("PagesClient"), &awscognito.UserPoolClientOptions{
		GenerateSecret:             jsii.Bool(false),
		PreventUserExistenceErrors: jsii.Bool(true),
		AuthFlows:                  &awscognito.AuthFlow{UserSrp: jsii.Bool(true)},
		OAuth: &awscognito.OAuthSettings{
			Flows:        &awscognito.OAuthFlows{AuthorizationCodeGrant: jsii.Bool(true), ImplicitCodeGrant: jsii.Bool(false)},
			Scopes:       &[]awscognito.OAuthScope{awscognito.OAuthScope_OPENID(), awscognito.OAuthScope_EMAIL(), awscognito.OAuthScope_PROFILE()},
			CallbackUrls: &[]*string{url("/auth/callback")},
			LogoutUrls:   &[]*string{url("/fi/"), url("/sv/"), url("/en/")},
		},
		SupportedIdentityProviders: &[]awscognito.UserPoolClientIdentityProvider{awscognito.UserPoolClientIdentityProvider_COGNITO()},
		IdTokenValidity:            awscdk.Duration_Hours(jsii.Number(1)),
		RefreshTokenValidity:       awscdk.Duration_Days(jsii.Number(30)),
		EnableTokenRevocation:      jsii.Bool(true),
		ReadAttributes: awscognito.NewClientAttributes().WithStandardAttributes(&awscognito.StandardAttributesMask{Email: jsii.Bool(true), Fullname: jsii.Bool(true)}).
			WithCustomAttributes(s(strings.TrimPrefix(auth.ClaimOrg, "custom:"))),
		WriteAttributes: awscognito.NewClientAttributes().WithStandardAttributes(&awscognito.StandardAttributesMask{Fullname: jsii.Bool(true)}),
	})
	domain := app.UserPool.AddDomain(s("SignIn"), &awscognito.UserPoolDomainOptions{
		// The prefix must be unique in the region: the account id makes it so.
		CognitoDomain:       &awscognito.CognitoDomainOptions{DomainPrefix: awscdk.Fn_Join(s(""), &[]*string{s("rengas-"), st.Account()})},
		ManagedLoginVersion: awscognito.ManagedLoginVersion_NEWER_MANAGED_LOGIN,
	})
	awscognito.NewCfnManagedLoginBranding(st, s("SignInBranding"), &awscognito.CfnManagedLoginBrandingProps{
		UserPoolId: app.UserPool.UserPoolId(), ClientId: client.UserPoolClientId(), UseCognitoProvidedValues: jsii.Bool(true),
	})
	fn := app.Functions[WebFunction]
	fn.AddEnvironment(s("USER_POOL_ID"), app.UserPool.UserPoolId(), nil)
	fn.AddEnvironment(s("WEB_CLIENT_ID"), client.UserPoolClientId(), nil)
	fn.AddEnvironment(s("COGNITO_DOMAIN"), domain.BaseUrl(nil), nil)
	fn.AddEnvironment(s("PUBLIC_URL"), base, nil)
	// The accessibility statement's feedback address, required:
	// npx cdk deploy -c feedbackEmail=saavutettavuus@example.fi
	if v, ok := st.Node().TryGetContext(s("feedbackEmail")).(string); ok && strings.Contains(v, "@") {
		fn.AddEnvironment(s("FEEDBACK_EMAIL"), s(v), nil)
	} else {
		awscdk.Annotations_Of(fn).AddError(s("set the accessibility statement's feedback address: npx cdk deploy -c feedbackEmail=<address>"))
	}
	return &Pages{Domain: domain, Client: client}
}
