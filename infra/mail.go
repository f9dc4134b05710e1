package main

import (
	"net/mail"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsses"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/jsii-runtime-go"
)

// MailerFunction e-mails the notification outbox (functions/mailer).
const MailerFunction = "mailer"

// Mail are the SES pieces: the sending domain's identity and the
// configuration set whose bounce and complaint events reach the mailer.
type Mail struct {
	// From is the context mailFrom, e.g. "Rengas <rengas@lahti.example.fi>";
	// Address its address and Domain the domain SES verifies (DKIM).
	From, Name, Address, Domain string
	Identity                    awsses.EmailIdentity
	ConfigurationSet            awsses.ConfigurationSet
	Events                      awssns.Topic
}

// newMailIdentity reads the context mailFrom (required):
// npx cdk deploy -c mailFrom="Rengas <rengas@lahti.example.fi>", and
// defines the domain's SES identity and the configuration set.
func newMailIdentity(st awscdk.Stack) *Mail {
	m := &Mail{}
	v, _ := st.Node().TryGetContext(s("mailFrom")).(string)
	a, err := mail.ParseAddress(v)
	if err != nil {
		awscdk.Annotations_Of(st).AddError(s(`set the sender of Rengas's mail, whose domain SES verifies: npx cdk deploy -c mailFrom="Rengas <rengas@your-domain>"`))
		a = &mail.Address{Name: "Rengas", Address: "rengas@example.invalid"}
	}
	m.From, m.Name, m.Address = strings.TrimSpace(v), a.Name, a.Address
	if err != nil {
		m.From = a.String()
	}
	_, m.Domain, _ = strings.Cut(a.Address, "@")
	m.ConfigurationSet = awsses.NewConfigurationSet(st, s("MailConfigurationSet"), &awsses.ConfigurationSetProps{
		SuppressionReasons: awsses.SuppressionReasons_BOUNCES_AND_COMPLAINTS,
		ReputationMetrics:  jsii.Bool(true),
		SendingEnabled:     jsii.Bool(true),
	})
	m.Identity = awsses.NewEmailIdentity(st, s("MailIdentity"), &awsses.EmailIdentityProps{
		Identity: awsses.Identity_Domain(s(m.Domain)), ConfigurationSet: m.ConfigurationSet,
	})
	for i, n := range []func() *string{m.Identity.DkimDnsTokenName1, m.Identity.DkimDnsTokenName2, m.Identity.DkimDnsTokenName3} {
		vals := []func() *string{m.Identity.DkimDnsTokenValue1, m.Identity.DkimDnsTokenValue2, m.Identity.DkimDnsTokenValue3}
		awscdk.NewCfnOutput(st, s("MailDkim"+itoa(i+1)), &awscdk.CfnOutputProps{
			Description: s("Publish as a CNAME record in the DNS of the mail domain, so that SES can send as it"),
			Value:       awscdk.Fn_Join(s(" CNAME "), &[]*string{n(), vals[i]()}),
		})
	}
	return m
}

// cognitoEmail makes Cognito send its mail (temporary passwords, codes)
// through SES as the same sender, not its default of 50 a day. Cognito
// accepts an SES sender only once SES has verified its domain, which
// needs the DKIM records of the first deployment in DNS: so this is
// switched on by the context sesVerified=true, on the deployment after
// the domain is verified; until then Cognito keeps its own mail, and the
// synthesis warns.
func cognitoEmail(st awscdk.Stack, m *Mail) awscognito.UserPoolEmail {
	if v := st.Node().TryGetContext(s("sesVerified")); v != true && v != "true" {
		awscdk.Annotations_Of(st).AddWarning(s("Cognito sends its own mail (at most 50 a day) until SES has verified " + m.Domain +
			": publish the MailDkim records, then deploy again with -c sesVerified=true"))
		return nil
	}
	region, _ := st.Node().TryGetContext(s("sesRegion")).(string)
	r := st.Region()
	if region != "" {
		r = s(region)
	}
	return awscognito.UserPoolEmail_WithSES(&awscognito.UserPoolSESOptions{
		FromEmail: s(m.Address), FromName: s(m.Name), SesVerifiedDomain: s(m.Domain), SesRegion: r,
		ConfigurationSetName: m.ConfigurationSet.ConfigurationSetName(),
	})
}

// addMail wires the mailer: every minute with the schedule, SES's bounce
// and complaint events through an encrypted SNS topic, sending rights on
// the identity and the configuration set only, and, when the context
// smtpAddr names a ring's relay, that relay instead of SES.
func addMail(st awscdk.Stack, app *App, m *Mail, alerts *Alerts, schedule awsevents.Rule) {
	fn := app.Functions[MailerFunction]
	m.Events = awssns.NewTopic(st, s("MailEvents"), &awssns.TopicProps{EnforceSSL: jsii.Bool(true), MasterKey: alerts.Key})
	m.ConfigurationSet.AddEventDestination(s("BouncesAndComplaints"), &awsses.ConfigurationSetEventDestinationOptions{
		Destination: awsses.EventDestination_SnsTopic(m.Events),
		Events:      &[]awsses.EmailSendingEvent{awsses.EmailSendingEvent_BOUNCE, awsses.EmailSendingEvent_COMPLAINT, awsses.EmailSendingEvent_REJECT},
	})
	m.Events.AddSubscription(awssnssubscriptions.NewLambdaSubscription(fn, nil))
	fn.Role().AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("ses:SendEmail", "ses:SendRawEmail"),
		Resources: &[]*string{
			st.FormatArn(&awscdk.ArnComponents{Service: s("ses"), Resource: s("identity"), ResourceName: s(m.Domain)}),
			st.FormatArn(&awscdk.ArnComponents{Service: s("ses"), Resource: s("configuration-set"), ResourceName: m.ConfigurationSet.ConfigurationSetName()}),
		},
	}))
	fn.AddEnvironment(s("MAIL_FROM"), s(m.From), nil)
	fn.AddEnvironment(s("PUBLIC_BASE_URL"), app.PublicURL, nil)
	fn.AddEnvironment(s("SES_CONFIGURATION_SET"), m.ConfigurationSet.ConfigurationSetName(), nil)
	ctx := func(k string) string { v, _ := st.Node().TryGetContext(s(k)).(string); return v }
	if relay := ctx("smtpAddr"); relay != "" {
		// A ring's own relay: npx cdk deploy -c smtpAddr=smtp.lahti.fi:587
		// [-c smtpUsername=rengas -c smtpPasswordSecretArn=arn:...]. The
		// password is resolved from Secrets Manager at deployment.
		fn.AddEnvironment(s("SMTP_ADDR"), s(relay), nil)
		if sec := ctx("smtpSecurity"); sec != "" {
			fn.AddEnvironment(s("SMTP_SECURITY"), s(sec), nil)
		}
		if u := ctx("smtpUsername"); u != "" {
			fn.AddEnvironment(s("SMTP_USERNAME"), s(u), nil)
		}
		if arn := ctx("smtpPasswordSecretArn"); arn != "" {
			pw := awssecretsmanager.Secret_FromSecretCompleteArn(st, s("SmtpPassword"), s(arn))
			fn.AddEnvironment(s("SMTP_PASSWORD"), pw.SecretValue().UnsafeUnwrap(), nil)
		}
	}
	schedule.AddTarget(awseventstargets.NewLambdaFunction(fn, nil))
	awscdk.NewCfnOutput(st, s("MailEventsTopic"), &awscdk.CfnOutputProps{Value: m.Events.TopicArn()})
}
