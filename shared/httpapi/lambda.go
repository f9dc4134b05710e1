package httpapi

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/rengas/rengas/shared/dynamo"
)

// LambdaEntry returns the Lambda entry point of a function: its routes as
// an http.Handler behind the API Gateway v2 adapter.
func (s *Server) LambdaEntry(function string) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return httpadapter.NewV2(s.Handler(function)).ProxyWithContext
}

// ServerFromEnv builds a server for a Lambda function from its environment:
// TABLE_NAME, and DYNAMODB_ENDPOINT to point at another engine.
func ServerFromEnv(ctx context.Context) (*Server, error) {
	db, err := dynamo.Connect(ctx, os.Getenv("DYNAMODB_ENDPOINT"))
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	return NewServer(dynamo.New(db, dynamo.TableName()), log), nil
}
