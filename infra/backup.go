package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsbackup"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// DefaultBackupRetentionDays is how long each daily backup of the table and
// the documents bucket is kept, unless the CDK context backupRetentionDays
// says otherwise (npx cdk deploy -c backupRetentionDays=4018).
const DefaultBackupRetentionDays = 3650

// BackupLockGraceDays is how long after the first deployment the vault
// lock may still be changed or removed; after it, not even the account's
// root user can shorten the retention or delete a recovery point.
const BackupLockGraceDays = 3

func backupRetentionDays(st awscdk.Stack) float64 {
	switch v := st.Node().TryGetContext(s("backupRetentionDays")).(type) {
	case float64:
		if v >= 1 {
			return v
		}
	case string:
		var d float64
		if _, err := fmt.Sscan(v, &d); err == nil && d >= 1 {
			return d
		}
	}
	return DefaultBackupRetentionDays
}

// Backups are the AWS Backup pieces of the stateful stack.
type Backups struct {
	Vault awsbackup.BackupVault
	Plan  awsbackup.BackupPlan
}

// addBackups backs the table and the documents bucket (versioned, as AWS
// Backup for S3 requires) up daily into a vault with a Vault Lock in
// compliance mode: every recovery point is kept backupRetentionDays.
func addBackups(st awscdk.Stack, table awsdynamodb.Table, docs awss3.Bucket) *Backups {
	days := backupRetentionDays(st)
	vault := awsbackup.NewBackupVault(st, s("BackupVault"), &awsbackup.BackupVaultProps{
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		LockConfiguration: &awsbackup.LockConfiguration{
			MinRetention:  awscdk.Duration_Days(jsii.Number(days)),
			ChangeableFor: awscdk.Duration_Days(jsii.Number(BackupLockGraceDays)),
		},
	})
	plan := awsbackup.NewBackupPlan(st, s("BackupPlan"), &awsbackup.BackupPlanProps{BackupVault: vault})
	plan.AddRule(awsbackup.NewBackupPlanRule(&awsbackup.BackupPlanRuleProps{
		RuleName:           s("Daily"),
		ScheduleExpression: awsevents.Schedule_Cron(&awsevents.CronOptions{Hour: s("1"), Minute: s("30")}),
		StartWindow:        awscdk.Duration_Hours(jsii.Number(1)),
		CompletionWindow:   awscdk.Duration_Hours(jsii.Number(8)),
		DeleteAfter:        awscdk.Duration_Days(jsii.Number(days)),
	}))
	role := awsiam.NewRole(st, s("BackupRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(s("backup.amazonaws.com"), nil),
		Description: s("AWS Backup: back up and restore the Rengas table and documents bucket"),
		ManagedPolicies: &[]awsiam.IManagedPolicy{
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(s("service-role/AWSBackupServiceRolePolicyForBackup")),
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(s("service-role/AWSBackupServiceRolePolicyForRestores")),
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(s("AWSBackupServiceRolePolicyForS3Backup")),
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(s("AWSBackupServiceRolePolicyForS3Restore")),
		},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id: s("AwsSolutions-IAM4"), Reason: s("AWS Backup's own service-role policies for DynamoDB and S3 backup and restore, which AWS keeps current as the services change."),
	}}, jsii.Bool(true))
	plan.AddSelection(s("TableAndDocuments"), &awsbackup.BackupSelectionOptions{
		Resources:     &[]awsbackup.BackupResource{awsbackup.BackupResource_FromDynamoDbTable(table), awsbackup.BackupResource_FromArn(docs.BucketArn())},
		Role:          role,
		AllowRestores: jsii.Bool(true),
	})
	awscdk.NewCfnOutput(st, s("BackupVaultName"), &awscdk.CfnOutputProps{Value: vault.BackupVaultName()})
	return &Backups{Vault: vault, Plan: plan}
}
