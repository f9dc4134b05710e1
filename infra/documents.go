package main

import (
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsguardduty"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/rengas/rengas/shared/files"
	"github.com/rengas/rengas/shared/httpapi"
)

// DocumentsFunction settles uploads on S3's Object Created events and
// records GuardDuty's scan results (functions/documents).
const DocumentsFunction = "documents"

// ScanTag is the object tag GuardDuty Malware Protection for S3 sets.
const ScanTag = "GuardDutyMalwareScanStatus"

// documentGrants are the S3 actions each function may take on the
// uploaded files (files/* of the documents bucket). Uploads and downloads
// are presigned: the qualification function signs PUTs (s3:PutObject) and
// GETs, reads an arrived object's headers and first bytes (s3:GetObject,
// which HeadObject needs too) and deletes what it refuses; the bytes never
// pass through a function. A refused upload's version is deleted
// (s3:DeleteObjectVersion), so that no noncurrent version keeps its bytes.
var documentGrants = map[string][]string{
	httpapi.FnQualification: {"s3:PutObject", "s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObject", "s3:DeleteObjectVersion"},
	httpapi.FnCompetitions:  {"s3:GetObject"},
	DocumentsFunction:       {"s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObject", "s3:DeleteObjectVersion"},
	// The pages run the qualification routes in-process: they sign form
	// uploads (presigned POST) and downloads through them, and confirm
	// arrivals (shared/web/files.go); the bytes go from the browser to S3.
	WebFunction: {"s3:PutObject", "s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObject", "s3:DeleteObjectVersion"},
}

// newMalwareProtection puts the documents bucket's uploads under
// GuardDuty Malware Protection for S3: every new object under files/ is
// scanned and tagged GuardDutyMalwareScanStatus, and the result is sent to
// EventBridge (the documents function records it). Objects tagged
// THREATS_FOUND cannot be read by anyone.
func newMalwareProtection(st awscdk.Stack, docs awss3.Bucket) awsguardduty.CfnMalwareProtectionPlan {
	role := awsiam.NewRole(st, s("MalwareProtectionRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(s("malware-protection-plan.guardduty.amazonaws.com"), nil),
		Description: s("GuardDuty Malware Protection for S3: scan and tag the documents bucket's uploads"),
	})
	rules := awscdk.Fn_Join(s(""), &[]*string{s("arn:"), st.Partition(), s(":events:"), st.Region(), s(":"), st.Account(), s(":rule/DO-NOT-DELETE-AmazonGuardDutyMalwareProtectionS3*")})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        s("ManagedRuleForS3Events"),
		Actions:    jsii.Strings("events:PutRule", "events:DeleteRule", "events:PutTargets", "events:RemoveTargets"),
		Resources:  &[]*string{rules},
		Conditions: &map[string]any{"StringLike": map[string]any{"events:ManagedBy": "malware-protection-plan.guardduty.amazonaws.com"}},
	}))
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: s("MonitorManagedRule"), Actions: jsii.Strings("events:DescribeRule", "events:ListTargetsByRule"), Resources: &[]*string{rules},
	}))
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: s("TagAfterScan"), Actions: jsii.Strings("s3:PutObjectTagging", "s3:GetObjectTagging", "s3:PutObjectVersionTagging", "s3:GetObjectVersionTagging"),
		Resources: &[]*string{docs.ArnForObjects(s("*"))},
	}))
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: s("EnableEventBridgeNotifications"), Actions: jsii.Strings("s3:PutBucketNotification", "s3:GetBucketNotification", "s3:ListBucket"),
		Resources: &[]*string{docs.BucketArn()},
	}))
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: s("ValidationObject"), Actions: jsii.Strings("s3:PutObject"),
		Resources: &[]*string{docs.ArnForObjects(s("malware-protection-resource-validation-object"))},
	}))
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: s("Scan"), Actions: jsii.Strings("s3:GetObject", "s3:GetObjectVersion"), Resources: &[]*string{docs.ArnForObjects(s("*"))},
	}))
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id: s("AwsSolutions-IAM5"), Reason: s("The role GuardDuty Malware Protection for S3 requires: it scans and tags any object of the documents bucket (bucket/*) and manages its own EventBridge rules, whose names it chooses (DO-NOT-DELETE-AmazonGuardDutyMalwareProtectionS3*)."),
	}}, jsii.Bool(true))
	plan := awsguardduty.NewCfnMalwareProtectionPlan(st, s("MalwareProtection"), &awsguardduty.CfnMalwareProtectionPlanProps{
		Role: role.RoleArn(),
		ProtectedResource: &awsguardduty.CfnMalwareProtectionPlan_CFNProtectedResourceProperty{
			S3Bucket: &awsguardduty.CfnMalwareProtectionPlan_S3BucketProperty{BucketName: docs.BucketName(), ObjectPrefixes: jsii.Strings(files.Prefix)},
		},
		Actions: &awsguardduty.CfnMalwareProtectionPlan_CFNActionsProperty{
			Tagging: &awsguardduty.CfnMalwareProtectionPlan_CFNTaggingProperty{Status: s("ENABLED")},
		},
		Tags: &[]*awsguardduty.CfnMalwareProtectionPlan_TagItemProperty{{Key: s("app"), Value: s("rengas")}},
	})
	plan.Node().AddDependency(role)
	// EventBridgeEnabled is set by CDK's own bucket-notifications handler.
	cdknag.NagSuppressions_AddResourceSuppressionsByPath(st, s("/"+*st.StackName()+"/BucketNotificationsHandler050a0587b7544547bf325f094a3db834/Role/Resource"), &[]*cdknag.NagPackSuppression{
		{Id: s("AwsSolutions-IAM4"), Reason: s("CDK's bucket-notifications handler (a custom resource run at deployment only) uses the basic Lambda execution policy for its logs.")},
		{Id: s("AwsSolutions-IAM5"), Reason: s("CDK's bucket-notifications handler may set the notification configuration of the buckets it is given (s3:PutBucketNotification on *), at deployment only.")},
	}, jsii.Bool(true))
	// Defence in depth: an object the scan found malware in cannot be
	// read, even through a link signed before the result came.
	docs.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        s("NoReadingThreats"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("s3:GetObject", "s3:GetObjectVersion"),
		Resources:  &[]*string{docs.ArnForObjects(s("*"))},
		Conditions: &map[string]any{"StringEquals": map[string]any{"s3:ExistingObjectTag/" + ScanTag: "THREATS_FOUND"}},
	}))
	return plan
}

// wireDocuments gives the functions their grants on the uploaded files,
// tells them where the files are, and sends the bucket's Object Created
// events and GuardDuty's scan results to the documents function (through
// EventBridge: a bucket notification would tie the stateful stack to a
// function of this one).
func wireDocuments(st awscdk.Stack, app *App, docs awss3.Bucket) {
	for fn, actions := range documentGrants {
		f := app.Functions[fn]
		f.Role().AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: jsii.Strings(actions...), Resources: &[]*string{docs.ArnForObjects(s(files.Prefix + "*"))},
		}))
		if slices.Contains(actions, "s3:DeleteObject") {
			// Whoever checks arrivals must tell a missing object (404:
			// not uploaded yet) from a forbidden one; S3 answers 403 for
			// both without ListBucket.
			f.Role().AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions: jsii.Strings("s3:ListBucket"), Resources: &[]*string{docs.BucketArn()},
			}))
		}
		f.AddEnvironment(s("DOCUMENTS_BUCKET"), docs.BucketName(), nil)
		f.AddEnvironment(s("DOCUMENT_SCANNING"), s("guardduty"), nil)
	}
	target := awseventstargets.NewLambdaFunction(app.Functions[DocumentsFunction], &awseventstargets.LambdaFunctionProps{
		RetryAttempts: jsii.Number(8), MaxEventAge: awscdk.Duration_Hours(jsii.Number(2)),
	})
	arrivals := awsevents.NewRule(st, s("DocumentArrivals"), &awsevents.RuleProps{
		Description: s("An upload's bytes arrived in the documents bucket: check them against the declaration."),
		EventPattern: &awsevents.EventPattern{
			Source: jsii.Strings("aws.s3"), DetailType: jsii.Strings("Object Created"),
			Detail: &map[string]any{"bucket": map[string]any{"name": []any{docs.BucketName()}}, "object": map[string]any{"key": []any{map[string]any{"prefix": files.Prefix}}}},
		},
	})
	arrivals.AddTarget(target)
	scans := awsevents.NewRule(st, s("DocumentScans"), &awsevents.RuleProps{
		Description: s("GuardDuty Malware Protection scanned an upload: record the result."),
		EventPattern: &awsevents.EventPattern{
			Source: jsii.Strings("aws.guardduty"), DetailType: jsii.Strings(httpapi.ScanResultDetailType),
			Detail: &map[string]any{"s3ObjectDetails": map[string]any{"bucketName": []any{docs.BucketName()}}},
		},
	})
	scans.AddTarget(target)
}
