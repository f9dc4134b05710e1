package main

import (
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/jsii-runtime-go"
)

// Alerts are the alarms and where they go.
type Alerts struct {
	// Key encrypts the alert topic and the SES event topic; its policy lets
	// CloudWatch and SES use it (the AWS-managed SNS key does not, so an
	// alarm could never publish to a topic encrypted with it).
	Key   awskms.Key
	Topic awssns.Topic
}

// Alarm thresholds: sustained failures, never a single bad answer. An
// anonymous caller can make the API answer 4xx at will, which no alarm
// watches; function errors (crashes, timeouts) and throttles must repeat
// in two of three 5-minute periods, and 5xx answers must be 5 % of at
// least 100 requests for 15 minutes.
const (
	alarmErrors      = 3
	alarmThrottles   = 5
	alarm5xxPercent  = 5
	alarm5xxRequests = 100
)

// newAlerts defines the alert topic (customer-managed key, e-mail
// subscription from the context alarmEmail) and the alarms.
func newAlerts(st awscdk.Stack, app *App) *Alerts {
	key := awskms.NewKey(st, s("AlertsKey"), &awskms.KeyProps{
		Description:       s("Rengas: encrypts the alert and SES event topics; CloudWatch alarms and SES may use it"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
	// CloudWatch alarms publish as the service, with no source-account
	// context to check (the statement AWS documents for alarm topics);
	// SES publishes with one, so its grant is limited to this account.
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        s("AlarmsPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(s("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
	}), nil)
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        s("SesEventsPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(s("ses.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": st.Account()}},
	}), nil)
	topic := awssns.NewTopic(st, s("Alerts"), &awssns.TopicProps{EnforceSSL: jsii.Bool(true), MasterKey: key})
	// Where alarms go, required: npx cdk deploy -c alarmEmail=it@lahti.example.fi
	if v, ok := st.Node().TryGetContext(s("alarmEmail")).(string); ok && strings.Contains(v, "@") {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(s(v), nil))
	} else {
		awscdk.Annotations_Of(topic).AddError(s("set where alarms are e-mailed: npx cdk deploy -c alarmEmail=<address>"))
	}
	action := awscloudwatchactions.NewSnsAction(topic)
	alarm := func(id string, m awscloudwatch.IMetric, threshold, periods, breaching float64, what string) {
		a := awscloudwatch.NewAlarm(st, s(id), &awscloudwatch.AlarmProps{
			Metric: m, Threshold: jsii.Number(threshold), EvaluationPeriods: jsii.Number(periods), DatapointsToAlarm: jsii.Number(breaching),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING, AlarmDescription: s(what),
		})
		a.AddAlarmAction(action)
	}
	five := &awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: s("Sum")}
	for _, fn := range Functions {
		f := app.Functions[fn.Name]
		alarm("Errors-"+fn.Name, f.MetricErrors(five), alarmErrors, 3, 2, "The "+fn.Name+" function failed (crashed or timed out) repeatedly.")
		alarm("Throttles-"+fn.Name, f.MetricThrottles(five), alarmThrottles, 3, 2, "The "+fn.Name+" function was throttled repeatedly.")
	}
	rate := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: s("IF(requests >= " + itoa(alarm5xxRequests) + ", 100 * errors / requests, 0)"),
		UsingMetrics: &map[string]awscloudwatch.IMetric{
			"errors": app.API.MetricServerError(five), "requests": app.API.MetricCount(five),
		},
		Period: awscdk.Duration_Minutes(jsii.Number(5)), Label: s("5xx % of requests"),
	})
	alarm("Api5xxRate", rate, alarm5xxPercent, 3, 3, "The API answered 5xx to at least 5 % of at least 100 requests in each of 3 periods of 5 minutes.")
	// A notification whose mail failed for about 17 hours is given up: it
	// is still listed in GET /notifications, but someone should know.
	given := awslogs.NewMetricFilter(st, s("MailGivenUpFilter"), &awslogs.MetricFilterProps{
		LogGroup:        app.Functions["mailer"].LogGroup(),
		FilterPattern:   awslogs.FilterPattern_StringValue(s("$.msg"), s("="), s("mail given up")),
		MetricNamespace: s("Rengas"), MetricName: s("MailGivenUp"), MetricValue: s("1"),
	})
	alarm("MailGivenUp", given.Metric(five), 1, 1, 1, "A notification could not be e-mailed after every retry; see the mailer's log.")
	awscdk.NewCfnOutput(st, s("AlertsTopic"), &awscdk.CfnOutputProps{Value: topic.TopicArn()})
	return &Alerts{Key: key, Topic: topic}
}

func itoa(n int) string { return strconv.Itoa(n) }
