package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/httpapi"
)

// The stacks are synthesized once; every test reads the templates.
var (
	stacks    Stacks
	templates = map[string]map[string]any{}
	synthTime time.Duration
)

func TestMain(m *testing.M) {
	// The functions are built as for a deployment: the stack packages
	// build/<function>/bootstrap as assets.
	build := exec.Command("../scripts/build-lambdas.sh")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build the functions:", err)
		os.Exit(1)
	}
	start := time.Now()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(os.TempDir() + "/rengas-cdk-test"),
		Context: &map[string]any{"feedbackEmail": "saavutettavuus@example.fi", "alarmEmail": "it@lahti.example.fi",
			"mailFrom": "Rengas <rengas@lahti.example.fi>", "sesVerified": "true"}})
	stacks = Build(app, "../build")
	for name, st := range map[string]awscdk.Stack{"stateful": stacks.Stateful.Stack, "app": stacks.App.Stack} {
		templates[name] = *assertions.Template_FromStack(st, nil).ToJSON()
	}
	synthTime = time.Since(start)
	// No jsii.Close(): it races with the runtime's own wait on the node
	// process (seen with -race); the process ends with the test binary.
	os.Exit(m.Run())
}

func resources(stack, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range templates[stack]["Resources"].(map[string]any) {
		if m := r.(map[string]any); m["Type"] == typ {
			out[id] = m
		}
	}
	return out
}

func props(r map[string]any) map[string]any { return r["Properties"].(map[string]any) }

func TestTableMatchesTheCodesDefinition(t *testing.T) {
	tables := resources("stateful", "AWS::DynamoDB::Table")
	if len(tables) != 1 {
		t.Fatalf("got %d tables, want 1", len(tables))
	}
	for _, tb := range tables {
		p := props(tb)
		want := dynamo.CreateTableInput("x")
		ks := p["KeySchema"].([]any)
		if ks[0].(map[string]any)["AttributeName"] != *want.KeySchema[0].AttributeName || ks[1].(map[string]any)["AttributeName"] != *want.KeySchema[1].AttributeName {
			t.Errorf("key schema %v, want %s/%s", ks, dynamo.AttrPK, dynamo.AttrSK)
		}
		var got []string
		for _, g := range p["GlobalSecondaryIndexes"].([]any) {
			g := g.(map[string]any)
			k := g["KeySchema"].([]any)
			got = append(got, fmt.Sprint(g["IndexName"], k[0].(map[string]any)["AttributeName"], k[1].(map[string]any)["AttributeName"], g["Projection"].(map[string]any)["ProjectionType"]))
		}
		var wantIx []string
		for _, ix := range want.GlobalSecondaryIndexes {
			wantIx = append(wantIx, fmt.Sprint(*ix.IndexName, *ix.KeySchema[0].AttributeName, *ix.KeySchema[1].AttributeName, ix.Projection.ProjectionType))
		}
		sort.Strings(got)
		sort.Strings(wantIx)
		if !slices.Equal(got, wantIx) {
			t.Errorf("indexes %v, want %v", got, wantIx)
		}
		if p["BillingMode"] != "PAY_PER_REQUEST" || p["DeletionProtectionEnabled"] != true || tb["DeletionPolicy"] != "Retain" ||
			p["PointInTimeRecoverySpecification"].(map[string]any)["PointInTimeRecoveryEnabled"] != true {
			t.Errorf("table must be on-demand, deletion-protected, retained, with PITR: %v %v", p, tb["DeletionPolicy"])
		}
	}
}

func TestDocumentsBucketIsPrivate(t *testing.T) {
	for id, b := range resources("stateful", "AWS::S3::Bucket") {
		p := props(b)
		pab := p["PublicAccessBlockConfiguration"].(map[string]any)
		for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
			if pab[k] != true {
				t.Errorf("%s: %s is not set", id, k)
			}
		}
		if p["BucketEncryption"] == nil || b["DeletionPolicy"] != "Retain" {
			t.Errorf("%s: must be encrypted and retained", id)
		}
		if strings.HasPrefix(id, "Documents") && !strings.Contains(id, "AccessLogs") &&
			(p["VersioningConfiguration"].(map[string]any)["Status"] != "Enabled" || p["LoggingConfiguration"] == nil) {
			t.Errorf("%s: documents must be versioned and access-logged", id)
		}
	}
	policies, _ := json.Marshal(resources("stateful", "AWS::S3::BucketPolicy"))
	if n := len(resources("stateful", "AWS::S3::Bucket")); strings.Count(string(policies), `"aws:SecureTransport":"false"`) != n {
		t.Errorf("the %d buckets must deny requests without TLS: %s", n, policies)
	}
}

// The anchors are write-once: Object Lock in compliance mode with a
// default retention, versioning, access logs, every write conditional on
// the object being new; only the scheduled job may write them, and no
// function may update or delete audit chains or anchors in the table.
func TestAnchorBucketIsWriteOnce(t *testing.T) {
	found := false
	for id, b := range resources("stateful", "AWS::S3::Bucket") {
		if !strings.HasPrefix(id, "Anchors") {
			continue
		}
		found = true
		p := props(b)
		rule, _ := json.Marshal(p["ObjectLockConfiguration"])
		if p["ObjectLockEnabled"] != true || !strings.Contains(string(rule), `"Mode":"COMPLIANCE"`) ||
			!strings.Contains(string(rule), fmt.Sprintf(`"Days":%d`, 365*DefaultAnchorRetentionYears)) {
			t.Errorf("%s: object lock %v %s", id, p["ObjectLockEnabled"], rule)
		}
		if p["VersioningConfiguration"].(map[string]any)["Status"] != "Enabled" || p["LoggingConfiguration"] == nil || b["DeletionPolicy"] != "Retain" {
			t.Errorf("%s: must be versioned, access-logged and retained", id)
		}
	}
	if !found {
		t.Fatal("no anchor bucket")
	}
	policies, _ := json.Marshal(resources("stateful", "AWS::S3::BucketPolicy"))
	if !strings.Contains(string(policies), `"Null":{"s3:if-none-match":"true"}`) {
		t.Errorf("the anchor bucket must refuse writes without If-None-Match: %s", policies)
	}
	for _, fn := range Functions {
		var putters, leading []string
		for _, st := range statementsOf("app", roleOf(fn.Name)) {
			raw, _ := json.Marshal(st)
			// Writes to the anchor bucket (the export bucket takes writes too).
			if st["Effect"] == "Allow" && strings.Contains(string(raw), `"s3:PutObject"`) && strings.Contains(string(raw), "Anchors") {
				putters = append(putters, fn.Name)
			}
			if st["Effect"] == "Deny" && strings.Contains(string(raw), "dynamodb:LeadingKeys") {
				leading = append(leading, string(raw))
			}
		}
		if (len(putters) > 0) != (fn.Name == "scheduler") {
			t.Errorf("%s may write anchors: %v", fn.Name, putters)
		}
		if fn.Writes && (len(leading) != 1 || !strings.Contains(leading[0], `"CHAIN#*"`) || !strings.Contains(leading[0], `"ANCHOR"`)) {
			t.Errorf("%s: chains and anchors must be append-only: %v", fn.Name, leading)
		}
	}
}

func TestEveryRouteHasTheJWTAuthorizer(t *testing.T) {
	routes := map[string]map[string]any{}
	for _, r := range resources("app", "AWS::ApiGatewayV2::Route") {
		routes[props(r)["RouteKey"].(string)] = props(r)
	}
	if _, ok := routes["$default"]; !ok {
		t.Error("no $default route for the pages")
	}
	delete(routes, "$default")
	if len(routes) != len(httpapi.Routes) {
		t.Errorf("template has %d routes besides the pages' $default, the route table %d", len(routes), len(httpapi.Routes))
	}
	for _, rt := range httpapi.Routes {
		p, ok := routes[rt.Method+" "+rt.Path]
		switch {
		case !ok:
			t.Errorf("route %s %s is missing from the API", rt.Method, rt.Path)
		case rt.Roles != nil && p["AuthorizationType"] != "JWT":
			t.Errorf("route %s %s has authorization %v, want JWT", rt.Method, rt.Path, p["AuthorizationType"])
		case rt.Roles == nil && p["AuthorizationType"] != "NONE":
			t.Errorf("public route %s %s has authorization %v", rt.Method, rt.Path, p["AuthorizationType"])
		}
	}
	auths := resources("app", "AWS::ApiGatewayV2::Authorizer")
	for _, a := range auths {
		if props(a)["AuthorizerType"] != "JWT" {
			t.Errorf("authorizer %v, want JWT", props(a))
		}
	}
	stages := resources("app", "AWS::ApiGatewayV2::Stage")
	for _, st := range stages {
		p := props(st)
		if p["AccessLogSettings"] == nil || p["DefaultRouteSettings"].(map[string]any)["ThrottlingRateLimit"] == nil {
			t.Errorf("stage needs access logs and throttling: %v", p)
		}
	}
}

// roleOf returns the logical id of a function's role.
func roleOf(fn string) string {
	for id, r := range resources("app", "AWS::Lambda::Function") {
		if strings.HasPrefix(id, "Fn"+strings.ReplaceAll(fn, "-", "")) {
			return props(r)["Role"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
		}
	}
	return ""
}

func TestEachFunctionGetsExactlyItsActions(t *testing.T) {
	for _, fn := range Functions {
		role := roleOf(fn.Name)
		if role == "" {
			t.Fatalf("no function %s", fn.Name)
		}
		var allowed, denied []string
		for _, st := range statementsOf("app", role) {
			for _, a := range actionsOf(st) {
				if strings.Contains(a, "*") {
					t.Errorf("%s: wildcard action %s", fn.Name, a)
				}
				if !strings.HasPrefix(a, "dynamodb:") {
					continue
				}
				if st["Effect"] == "Deny" {
					denied = append(denied, a)
				} else {
					allowed = append(allowed, a)
				}
			}
		}
		want := slices.Clone(fn.Actions)
		sort.Strings(want)
		sort.Strings(allowed)
		if !slices.Equal(allowed, want) {
			t.Errorf("%s may %v, want exactly %v", fn.Name, allowed, want)
		}
		if slices.Contains(allowed, "dynamodb:Scan") {
			t.Errorf("%s may Scan", fn.Name)
		}
		if fn.Name == httpapi.FnAudit && len(allowed) != 3 {
			t.Errorf("the audit function must only read, it may %v", allowed)
		}
		if fn.Writes && len(denied) != 3 {
			t.Errorf("%s: audit events must be protected from update and delete, denied %v", fn.Name, denied)
		}
	}
}

func TestFunctionsAreArmAL2023WithJSONLogs(t *testing.T) {
	fns := resources("app", "AWS::Lambda::Function")
	if len(fns) != len(Functions) {
		t.Errorf("got %d functions, want %d", len(fns), len(Functions))
	}
	for id, f := range fns {
		p := props(f)
		if p["Runtime"] != "provided.al2023" || p["Architectures"].([]any)[0] != "arm64" || p["Handler"] != "bootstrap" ||
			p["LoggingConfig"].(map[string]any)["LogFormat"] != "JSON" {
			t.Errorf("%s: %v %v %v %v", id, p["Runtime"], p["Architectures"], p["Handler"], p["LoggingConfig"])
		}
	}
	for id, lg := range resources("app", "AWS::Logs::LogGroup") {
		if props(lg)["RetentionInDays"] == nil {
			t.Errorf("log group %s has no retention", id)
		}
	}
	alarms := resources("app", "AWS::CloudWatch::Alarm")
	if len(alarms) != 2*len(Functions)+2 {
		t.Errorf("got %d alarms, want errors and throttles per function, the API's 5xx rate and mail given up", len(alarms))
	}
	rules := resources("app", "AWS::Events::Rule")
	for id, r := range rules {
		if props(r)["ScheduleExpression"] == nil {
			delete(rules, id) // rules on events, e.g. the documents bucket's
		}
	}
	if len(rules) != 1 || !strings.Contains(fmt.Sprint(rules), "rate(1 minute)") || !strings.Contains(fmt.Sprint(rules), roleOf("scheduler")[:0]+"Fnscheduler") {
		t.Errorf("the scheduled job's rule: %v", rules)
	}
}

func TestUserPoolHasGroupsAndStrongPolicy(t *testing.T) {
	var groups []string
	for _, g := range resources("app", "AWS::Cognito::UserPoolGroup") {
		groups = append(groups, props(g)["GroupName"].(string))
	}
	sort.Strings(groups)
	if !slices.Equal(groups, []string{"auditors", "officers", "providers"}) {
		t.Errorf("groups %v", groups)
	}
	for _, p := range resources("app", "AWS::Cognito::UserPool") {
		pp := props(p)
		if pp["MfaConfiguration"] != "ON" || pp["Policies"].(map[string]any)["PasswordPolicy"].(map[string]any)["MinimumLength"].(float64) < 12 {
			t.Errorf("user pool: MFA %v, password policy %v", pp["MfaConfiguration"], pp["Policies"])
		}
	}
	for _, c := range resources("app", "AWS::Cognito::UserPoolClient") {
		if w := fmt.Sprint(props(c)["WriteAttributes"]); strings.Contains(w, "custom:org") {
			t.Errorf("users must not be able to write their organisation: %s", w)
		}
	}
}

// TestAwsSolutionsChecks runs cdk-nag's AwsSolutions pack: no unsuppressed
// errors, and every suppression states a reason.
func TestAwsSolutionsChecks(t *testing.T) {
	for name, st := range map[string]awscdk.Stack{"stateful": stacks.Stateful.Stack, "app": stacks.App.Stack} {
		ann := assertions.Annotations_FromStack(st)
		for _, e := range *ann.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))) {
			t.Errorf("%s: %s: %v", name, *e.Id, e.Entry.Data)
		}
		for _, w := range *ann.FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))) {
			t.Logf("%s warning: %s: %v", name, *w.Id, w.Entry.Data)
		}
	}
	raw, _ := json.Marshal(templates)
	suppressions := strings.Split(string(raw), `"reason":"`)[1:]
	if len(suppressions) < 3 {
		t.Errorf("found %d cdk-nag suppressions in the templates; expected the documented ones (IAM5 per role, S1, APIG4)", len(suppressions))
	}
	for _, chunk := range suppressions {
		if end := strings.Index(chunk, `"`); end < 20 {
			t.Errorf("a cdk-nag suppression has no real reason: %q", chunk[:max(end, 0)])
		}
	}
	t.Logf("synthesis of both stacks took %v", synthTime)
}

// TestAwsSolutionsChecksAreLive guards the test above against passing
// vacuously: the same pack, applied the same way, must flag a bucket that
// allows plain HTTP and has no access logs.
func TestAwsSolutionsChecksAreLive(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(os.TempDir() + "/rengas-cdk-control")})
	st := awscdk.NewStack(app, jsii.String("Control"), nil)
	awss3.NewBucket(st, jsii.String("Insecure"), &awss3.BucketProps{})
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	errs := assertions.Annotations_FromStack(st).FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-S(1|10):.*")))
	if len(*errs) < 2 {
		t.Errorf("cdk-nag flagged %d of S1 and S10 on an insecure bucket; the checks are not running", len(*errs))
	}
}

// The pages sign in with Cognito's managed login: their own client uses
// the authorization-code flow only (with PKCE, so no secret), its callback
// and sign-out URLs are the deployment's API URL, and the web function is
// told where the pool, the client and the domain are.
func TestPagesSignInWithCognito(t *testing.T) {
	var pages map[string]any
	for _, c := range resources("app", "AWS::Cognito::UserPoolClient") {
		if p := props(c); fmt.Sprint(p["AllowedOAuthFlows"]) != "<nil>" {
			pages = p
		}
	}
	if pages == nil {
		t.Fatal("no app client with OAuth flows for the pages")
	}
	if got := fmt.Sprint(pages["AllowedOAuthFlows"]); got != "[code]" {
		t.Errorf("OAuth flows %s, want [code] only (no implicit flow)", got)
	}
	if pages["GenerateSecret"] != false || pages["AllowedOAuthFlowsUserPoolClient"] != true {
		t.Errorf("the pages' client must be a public client with OAuth enabled: %v", pages)
	}
	cb, _ := json.Marshal(pages["CallbackURLs"])
	if !strings.Contains(string(cb), "/auth/callback") || !strings.Contains(string(cb), "ApiEndpoint") {
		t.Errorf("callback URL %s must be the API's endpoint + /auth/callback", cb)
	}
	out, _ := json.Marshal(pages["LogoutURLs"])
	for _, l := range []string{"/fi/", "/sv/", "/en/"} {
		if !strings.Contains(string(out), l) {
			t.Errorf("sign-out URLs %s lack %s", out, l)
		}
	}
	domains := resources("app", "AWS::Cognito::UserPoolDomain")
	if len(domains) != 1 {
		t.Fatalf("got %d user-pool domains, want 1", len(domains))
	}
	for _, d := range domains {
		if props(d)["ManagedLoginVersion"] == nil {
			t.Errorf("the domain must use managed login: %v", props(d))
		}
	}
	if len(resources("app", "AWS::Cognito::ManagedLoginBranding")) != 1 {
		t.Error("managed login needs a branding for the pages' client")
	}
	for id, r := range resources("app", "AWS::Lambda::Function") {
		if !strings.HasPrefix(id, "Fn"+WebFunction) {
			continue
		}
		env := props(r)["Environment"].(map[string]any)["Variables"].(map[string]any)
		if env["FEEDBACK_EMAIL"] != "saavutettavuus@example.fi" {
			t.Errorf("the web function's FEEDBACK_EMAIL is %v, want the context's feedbackEmail", env["FEEDBACK_EMAIL"])
		}
		for _, k := range []string{"TABLE_NAME", "USER_POOL_ID", "WEB_CLIENT_ID", "COGNITO_DOMAIN", "PUBLIC_URL"} {
			if env[k] == nil {
				t.Errorf("the web function lacks %s", k)
			}
		}
		return
	}
	t.Error("no web function")
}

// The keys that sign list cursors and sign-in cookies come from Secrets
// Manager at deployment, never from the template; every function that
// answers requests can hand out an export.
func TestKeysAreSecretsAndExportsAreWired(t *testing.T) {
	for id, f := range resources("app", "AWS::Lambda::Function") {
		vars, _ := props(f)["Environment"].(map[string]any)["Variables"].(map[string]any)
		raw, _ := json.Marshal(vars["CURSOR_KEY"])
		if !strings.Contains(string(raw), "{{resolve:secretsmanager:") {
			t.Errorf("%s: CURSOR_KEY must be resolved from Secrets Manager, not %s", id, raw)
		}
		scheduler := strings.Contains(id, "scheduler") || strings.Contains(id, "Fnweb") || strings.Contains(id, "Fn"+DocumentsFunction) || strings.Contains(id, "Fnmailer") || strings.Contains(id, "Fn"+CognitoFunction)
		if _, ok := vars["EXPORT_BUCKET"]; ok == scheduler {
			t.Errorf("%s: EXPORT_BUCKET set %t, want it on every function that answers requests", id, ok)
		}
		if strings.Contains(id, "Fnweb") {
			raw, _ := json.Marshal(vars["WEB_COOKIE_KEY"])
			if !strings.Contains(string(raw), "{{resolve:secretsmanager:") {
				t.Errorf("%s: WEB_COOKIE_KEY must be resolved from Secrets Manager, not %s", id, raw)
			}
		}
	}
	if n := len(resources("app", "AWS::SecretsManager::Secret")); n != 2 {
		t.Errorf("%d secrets, want the cursor key and the cookie key", n)
	}
}

// statementsOf returns the policy statements of a role (its logical id) in
// a stack's template.
func statementsOf(stack, role string) []map[string]any {
	var out []map[string]any
	for _, pol := range resources(stack, "AWS::IAM::Policy") {
		p := props(pol)
		if p["Roles"].([]any)[0].(map[string]any)["Ref"] != role {
			continue
		}
		for _, st := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			out = append(out, st.(map[string]any))
		}
	}
	return out
}

// actionsOf returns a statement's actions, one or a list.
func actionsOf(st map[string]any) []string {
	switch a := st["Action"].(type) {
	case string:
		return []string{a}
	case []any:
		out := make([]string, len(a))
		for i, x := range a {
			out[i] = x.(string)
		}
		return out
	}
	return nil
}
