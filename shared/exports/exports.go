// Package exports keeps answers too large for a function's response
// (Lambda returns at most 6 MB) in an S3 bucket and hands them out by a
// short-lived presigned link: a dossier of a thousand bids, the CSV of a
// long award history, a busy quarter's OCDS package. Locally the bucket is
// on the embedded S3-compatible server (package locals3).
package exports

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// LinkTTL is how long a link to an export works.
const LinkTTL = 15 * time.Minute

// Bucket is the export bucket.
type Bucket struct {
	s3      *s3.Client
	presign *s3.PresignClient
	name    string
}

// Client returns an S3 client: with an endpoint (the local S3-compatible
// server) static local credentials and path-style addresses; without one,
// the default AWS configuration of the Lambda environment.
func Client(ctx context.Context, endpoint string) (*s3.Client, error) {
	if endpoint == "" {
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("load AWS configuration: %w", err)
		}
		return s3.NewFromConfig(cfg), nil
	}
	cfg := aws.Config{Region: "eu-north-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
	}), nil
}

// Connect returns the export bucket (EXPORT_BUCKET, with S3_ENDPOINT for
// another S3).
func Connect(ctx context.Context, endpoint, bucket string) (*Bucket, error) {
	if bucket == "" {
		return nil, errors.New("no export bucket named (EXPORT_BUCKET)")
	}
	c, err := Client(ctx, endpoint)
	if err != nil {
		return nil, err
	}
	return &Bucket{s3: c, presign: s3.NewPresignClient(c), name: bucket}, nil
}

// Put stores an answer under an unguessable name and returns a link that
// fetches it for LinkTTL.
func (b *Bucket) Put(ctx context.Context, name, contentType string, body []byte) (string, error) {
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	key := "exports/" + hex.EncodeToString(nonce) + "/" + name
	if _, err := b.s3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &b.name, Key: &key, Body: bytes.NewReader(body), ContentType: &contentType,
		ContentLength: aws.Int64(int64(len(body))),
	}); err != nil {
		return "", fmt.Errorf("store the export: %w", err)
	}
	req, err := b.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &b.name, Key: &key}, s3.WithPresignExpires(LinkTTL))
	if err != nil {
		return "", fmt.Errorf("sign the export's link: %w", err)
	}
	return req.URL, nil
}
