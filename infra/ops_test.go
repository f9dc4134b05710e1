package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/rengas/rengas/shared/httpapi"
)

func raw(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return strings.TrimSpace(b.String())
}

func only(t *testing.T, stack, typ string) (string, map[string]any) {
	t.Helper()
	rs := resources(stack, typ)
	if len(rs) != 1 {
		t.Fatalf("%s: %d of %s, want 1", stack, len(rs), typ)
	}
	for id, r := range rs {
		return id, r
	}
	return "", nil
}

// The alert topic is encrypted with a customer-managed key (rotated) that
// CloudWatch may use, has the e-mail subscription of the context
// alarmEmail, and no alarm fires on a single answer or on 4xx.
func TestAlarmsReachSomeone(t *testing.T) {
	keyID, key := only(t, "app", "AWS::KMS::Key")
	p := props(key)
	if p["EnableKeyRotation"] != true {
		t.Error("the alert key must rotate")
	}
	policy := raw(p["KeyPolicy"])
	granted := map[string]bool{}
	for _, st := range p["KeyPolicy"].(map[string]any)["Statement"].([]any) {
		st := st.(map[string]any)
		svc, _ := st["Principal"].(map[string]any)["Service"].(string)
		if a := raw(st["Action"]); st["Effect"] == "Allow" && strings.Contains(a, `"kms:Decrypt"`) && strings.Contains(a, `"kms:GenerateDataKey*"`) {
			granted[svc] = true
		}
	}
	if !granted["cloudwatch.amazonaws.com"] || !granted["ses.amazonaws.com"] {
		t.Errorf("the key must let CloudWatch and SES encrypt messages for its topics: %s", policy)
	}
	var alerts map[string]any
	for id, tp := range resources("app", "AWS::SNS::Topic") {
		if strings.HasPrefix(id, "Alerts") {
			alerts = props(tp)
		}
		if !strings.Contains(raw(props(tp)["KmsMasterKeyId"]), keyID) {
			t.Errorf("topic %s is not encrypted with the customer-managed key: %v", id, props(tp)["KmsMasterKeyId"])
		}
	}
	if alerts == nil {
		t.Fatal("no alert topic")
	}
	subs := raw(resources("app", "AWS::SNS::Subscription"))
	if !strings.Contains(subs, `"Endpoint":"it@lahti.example.fi"`) || !strings.Contains(subs, `"Protocol":"email"`) {
		t.Errorf("no e-mail subscription to alarmEmail: %s", subs)
	}
	for id, a := range resources("app", "AWS::CloudWatch::Alarm") {
		p := props(a)
		all := raw(p)
		if strings.Contains(all, "4xx") || strings.Contains(all, "4XX") {
			t.Errorf("%s watches 4xx answers, which anyone can cause", id)
		}
		if !strings.Contains(all, "AlertsKey") && !strings.Contains(raw(p["AlarmActions"]), "Alerts") {
			t.Errorf("%s has no action on the alert topic: %v", id, p["AlarmActions"])
		}
		dp, _ := p["DatapointsToAlarm"].(float64)
		th, _ := p["Threshold"].(float64)
		switch {
		case strings.HasPrefix(id, "MailGivenUp"):
		case strings.HasPrefix(id, "Api5xxRate"):
			if !strings.Contains(all, "IF(requests >= 100") || dp != 3 {
				t.Errorf("%s: the 5xx alarm must be a rate over at least 100 requests in 3 periods: %s", id, all)
			}
		case dp < 2 || th < 3:
			t.Errorf("%s fires on %v datapoints of threshold %v; want sustained failures", id, dp, th)
		}
	}
}

// The table and the documents bucket are backed up daily into a locked
// vault for 10 years.
func TestBackupsAreKeptTenYears(t *testing.T) {
	_, vault := only(t, "stateful", "AWS::Backup::BackupVault")
	lock := props(vault)["LockConfiguration"].(map[string]any)
	if lock["MinRetentionDays"] != float64(DefaultBackupRetentionDays) || lock["ChangeableForDays"] != float64(BackupLockGraceDays) || vault["DeletionPolicy"] != "Retain" {
		t.Errorf("vault lock %v, deletion %v", lock, vault["DeletionPolicy"])
	}
	_, plan := only(t, "stateful", "AWS::Backup::BackupPlan")
	rules := raw(props(plan))
	if !strings.Contains(rules, fmt.Sprintf(`"DeleteAfterDays":%d`, DefaultBackupRetentionDays)) || !strings.Contains(rules, "cron(30 1") {
		t.Errorf("plan %s", rules)
	}
	_, sel := only(t, "stateful", "AWS::Backup::BackupSelection")
	res := raw(props(sel))
	for _, want := range []string{"Table", "Documents"} {
		if !strings.Contains(res, want) {
			t.Errorf("the backup selection lacks the %s: %s", want, res)
		}
	}
	for id, b := range resources("stateful", "AWS::S3::Bucket") {
		if strings.HasPrefix(id, "Documents") && !strings.Contains(id, "AccessLogs") && props(b)["VersioningConfiguration"].(map[string]any)["Status"] != "Enabled" {
			t.Errorf("%s must be versioned for AWS Backup", id)
		}
	}
}

// Mail: SES identity and configuration set (suppressing bounces and
// complaints, publishing them to an encrypted topic the mailer reads),
// the mailer's send right on the identity only, its configuration, its
// schedule, and Cognito's mail through SES.
func TestMailGoesThroughSES(t *testing.T) {
	_, id := only(t, "app", "AWS::SES::EmailIdentity")
	if props(id)["EmailIdentity"] != "lahti.example.fi" {
		t.Errorf("identity %v", props(id))
	}
	_, cs := only(t, "app", "AWS::SES::ConfigurationSet")
	if s := raw(props(cs)["SuppressionOptions"]); !strings.Contains(s, "BOUNCE") || !strings.Contains(s, "COMPLAINT") {
		t.Errorf("suppression %s", s)
	}
	_, dest := only(t, "app", "AWS::SES::ConfigurationSetEventDestination")
	d := raw(props(dest))
	if !strings.Contains(d, `"bounce"`) || !strings.Contains(d, `"complaint"`) || !strings.Contains(d, "MailEvents") {
		t.Errorf("event destination %s", d)
	}
	subs := raw(resources("app", "AWS::SNS::Subscription"))
	if !strings.Contains(subs, `"Protocol":"lambda"`) || !strings.Contains(subs, "Fnmailer") {
		t.Errorf("the mailer is not subscribed to the SES events: %s", subs)
	}
	var sends []string
	for _, pol := range resources("app", "AWS::IAM::Policy") {
		if strings.Contains(raw(pol), "ses:SendEmail") {
			sends = append(sends, raw(props(pol)["Roles"]))
			if !strings.Contains(raw(pol), ":identity/lahti.example.fi") || !strings.Contains(raw(pol), ":configuration-set/") {
				t.Errorf("SES rights must name the identity and the configuration set: %s", raw(pol))
			}
		}
	}
	if len(sends) != 1 || !strings.Contains(sends[0], roleOf(MailerFunction)) {
		t.Errorf("only the mailer may send: %v", sends)
	}
	for fid, f := range resources("app", "AWS::Lambda::Function") {
		if !strings.HasPrefix(fid, "Fnmailer") {
			continue
		}
		env := props(f)["Environment"].(map[string]any)["Variables"].(map[string]any)
		if env["MAIL_FROM"] != "Rengas <rengas@lahti.example.fi>" || env["PUBLIC_BASE_URL"] == nil || env["SES_CONFIGURATION_SET"] == nil || env["SMTP_ADDR"] != nil {
			t.Errorf("mailer environment %v", env)
		}
		if props(f)["Timeout"] != float64(300) {
			t.Errorf("mailer timeout %v", props(f)["Timeout"])
		}
	}
	if rules := raw(resources("app", "AWS::Events::Rule")); !strings.Contains(rules, "Fnmailer") {
		t.Errorf("the schedule does not run the mailer: %s", rules)
	}
	_, pool := only(t, "app", "AWS::Cognito::UserPool")
	ec := raw(props(pool)["EmailConfiguration"])
	if !strings.Contains(ec, `"EmailSendingAccount":"DEVELOPER"`) || !strings.Contains(ec, "identity/lahti.example.fi") || !strings.Contains(ec, "rengas@lahti.example.fi") {
		t.Errorf("Cognito must send through SES: %s", ec)
	}
}

// The stage throttles the public routes and the bidders' routes apart;
// CORS is off unless configured; open data is cached by CloudFront as the
// origin's Cache-Control says, and everything else passes uncached.
func TestEdge(t *testing.T) {
	_, stage := only(t, "app", "AWS::ApiGatewayV2::Stage")
	rs := props(stage)["RouteSettings"].(map[string]any)
	public, bidder := 0, 0
	for _, rt := range httpapi.Routes {
		got, _ := rs[rt.Method+" "+rt.Path].(map[string]any)
		switch {
		case rt.Roles == nil:
			public++
			if got["ThrottlingRateLimit"] != PublicThrottle.Rate || got["ThrottlingBurstLimit"] != PublicThrottle.Burst {
				t.Errorf("public route %s %s throttle %v", rt.Method, rt.Path, got)
			}
		case strings.Contains(rt.Path, "/bids/mine"):
			bidder++
			if got["ThrottlingRateLimit"] != BidderThrottle.Rate || got["ThrottlingBurstLimit"] != BidderThrottle.Burst {
				t.Errorf("bidder route %s %s throttle %v", rt.Method, rt.Path, got)
			}
		case got != nil:
			t.Errorf("route %s %s has its own throttle %v", rt.Method, rt.Path, got)
		}
	}
	if public < 3 || bidder < 2 {
		t.Errorf("%d public and %d bidder routes throttled", public, bidder)
	}
	if !strings.Contains(raw(stage["DependsOn"]), "Api") {
		t.Errorf("the stage must depend on the routes its settings name: %v", stage["DependsOn"])
	}
	_, api := only(t, "app", "AWS::ApiGatewayV2::Api")
	if props(api)["CorsConfiguration"] != nil {
		t.Errorf("CORS must be off by default: %v", props(api)["CorsConfiguration"])
	}
	_, dist := only(t, "app", "AWS::CloudFront::Distribution")
	dc := props(dist)["DistributionConfig"].(map[string]any)
	if dc["Logging"] == nil {
		t.Error("the distribution must log")
	}
	cbs := dc["CacheBehaviors"].([]any)
	if len(cbs) != 1 || cbs[0].(map[string]any)["PathPattern"] != "/open-data/*" {
		t.Fatalf("cache behaviors %v", cbs)
	}
	policyID, policy := only(t, "app", "AWS::CloudFront::CachePolicy")
	pc := props(policy)["CachePolicyConfig"].(map[string]any)
	if !strings.Contains(raw(cbs[0]), policyID) || pc["DefaultTTL"] != float64(0) || pc["MinTTL"] != float64(0) || pc["MaxTTL"] != float64(86400) {
		t.Errorf("open data must be cached as long as the origin says (default 0): %v %v", cbs[0], pc)
	}
	if def := raw(dc["DefaultCacheBehavior"]); !strings.Contains(def, "4135ea2d-6df8-44a3-9df3-4b5a84be39ad") {
		t.Errorf("everything but open data must pass uncached (CachingDisabled): %s", def)
	}
	if o := raw(dc["Origins"]); !strings.Contains(o, "ApiEndpoint") && !strings.Contains(o, "execute-api") {
		t.Errorf("the origin must be the HTTP API: %s", o)
	}
	for fid, f := range resources("app", "AWS::Lambda::Function") {
		if strings.HasPrefix(fid, "Fn"+CognitoFunction) {
			continue // Cognito's trigger writes no links (addEdge)
		}
		if v := raw(props(f)["Environment"].(map[string]any)["Variables"].(map[string]any)["PUBLIC_BASE_URL"]); !strings.Contains(v, "ApiEndpoint") {
			t.Errorf("%s: PUBLIC_BASE_URL %s, want the API's endpoint", fid, v)
		}
	}
	if len(resources("app", "AWS::ApiGatewayV2::DomainName")) != 0 {
		t.Error("no custom domain unless configured")
	}
}

// With the optional contexts: CORS for the named origins exposing the
// headers scripts need, the custom domain mapped to the stage and used as
// the public address; without alarmEmail or mailFrom the synthesis fails.
func TestOptionalCORSAndDomainAndRequiredContexts(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(os.TempDir() + "/rengas-cdk-options"),
		Context: &map[string]any{"feedbackEmail": "saavutettavuus@example.fi",
			"corsOrigins": "https://hankinnat.lahti.fi, https://www.lahti.fi", "domainName": "rengas.lahti.fi",
			"certificateArn": "arn:aws:acm:eu-north-1:123456789012:certificate/abc", "backupRetentionDays": "4018"}})
	st := Build(app, "../build")
	tpl := *assertions.Template_FromStack(st.App.Stack, nil).ToJSON()
	stateful := *assertions.Template_FromStack(st.Stateful.Stack, nil).ToJSON()
	all := raw(tpl)
	var cors map[string]any
	for _, r := range tpl["Resources"].(map[string]any) {
		r := r.(map[string]any)
		switch r["Type"] {
		case "AWS::ApiGatewayV2::Api":
			cors, _ = props(r)["CorsConfiguration"].(map[string]any)
		case "AWS::Lambda::Function":
			env := raw(props(r)["Environment"])
			if strings.Contains(env, `"TABLE_NAME"`) && !strings.Contains(env, "PUBLIC_BASE_URL") && strings.Contains(raw(props(r)["Description"]), "Rengas "+CognitoFunction) {
				continue // Cognito's trigger writes no links (addEdge)
			}
			if !strings.Contains(env, `"PUBLIC_BASE_URL":"https://rengas.lahti.fi"`) || strings.Contains(env, "PUBLIC_URL") && !strings.Contains(env, `"PUBLIC_URL":"https://rengas.lahti.fi"`) {
				t.Errorf("the public address must be the custom domain: %s", env)
			}
		}
	}
	if cors == nil {
		t.Fatal("no CORS configuration")
	}
	origins, exposed := raw(cors["AllowOrigins"]), raw(cors["ExposeHeaders"])
	if origins != `["https://hankinnat.lahti.fi","https://www.lahti.fi"]` {
		t.Errorf("origins %s", origins)
	}
	for _, h := range []string{"Next-Cursor", "Idempotent-Replayed", "Retry-After"} {
		if !strings.Contains(exposed, h) {
			t.Errorf("CORS does not expose %s: %s", h, exposed)
		}
	}
	if !strings.Contains(all, `"AWS::ApiGatewayV2::DomainName"`) || !strings.Contains(all, `"AWS::ApiGatewayV2::ApiMapping"`) || !strings.Contains(all, `"DomainName":"rengas.lahti.fi"`) {
		t.Error("no custom domain mapped")
	}
	if !strings.Contains(raw(stateful), `"MinRetentionDays":4018`) || !strings.Contains(raw(stateful), `"DeleteAfterDays":4018`) {
		t.Error("backupRetentionDays is not applied")
	}
	// Until SES has verified the domain (sesVerified), Cognito keeps its own mail.
	for _, r := range tpl["Resources"].(map[string]any) {
		if r := r.(map[string]any); r["Type"] == "AWS::Cognito::UserPool" && strings.Contains(raw(props(r)["EmailConfiguration"]), "DEVELOPER") {
			t.Errorf("Cognito must not use SES before the domain is verified: %s", raw(props(r)["EmailConfiguration"]))
		}
	}
	var errs []string
	for _, e := range *assertions.Annotations_FromStack(st.App.Stack).FindError(jsii.String("*"), assertions.Match_AnyValue()) {
		errs = append(errs, fmt.Sprint(e.Entry.Data))
	}
	for _, want := range []string{"alarmEmail", "mailFrom"} {
		if !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, want) }) {
			t.Errorf("a deployment without %s must fail; errors: %v", want, errs)
		}
	}
}
