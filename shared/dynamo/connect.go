package dynamo

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Connect returns a DynamoDB client. With an endpoint (the embedded engine,
// or DYNAMODB_ENDPOINT) it uses static local credentials; without one it
// uses the default AWS configuration of the Lambda environment.
func Connect(ctx context.Context, endpoint string) (*dynamodb.Client, error) {
	if endpoint == "" {
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("load AWS configuration: %w", err)
		}
		return dynamodb.NewFromConfig(cfg), nil
	}
	cfg := aws.Config{
		Region:      "eu-north-1",
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	}
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	}), nil
}

// TableName returns TABLE_NAME, or the default.
func TableName() string {
	if t := os.Getenv("TABLE_NAME"); t != "" {
		return t
	}
	return DefaultTableName
}

// EnsureTable creates the table from CreateTableInput unless it exists.
func EnsureTable(ctx context.Context, db *dynamodb.Client, name string) error {
	_, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*types.ResourceNotFoundException](err); !ok {
		return fmt.Errorf("describe table %s: %w", name, err)
	}
	if _, err := db.CreateTable(ctx, CreateTableInput(name)); err != nil {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	return nil
}
