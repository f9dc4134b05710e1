package dynamo

import (
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// AnchorBucket is the S3 bucket (with Object Lock in compliance mode in
// AWS) that keeps the anchors outside the table.
type AnchorBucket struct {
	S3     *s3.Client
	Bucket string
}
