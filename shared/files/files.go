// Package files keeps the bytes of uploaded documents in the documents
// bucket. Bytes never pass through a function: uploads go to S3 by a
// short-lived presigned PUT (or, from a page without JavaScript, a
// presigned POST form), downloads by a presigned GET. A function only
// signs, and on arrival inspects the object's headers (HeadObject with
// ChecksumMode) and its first bytes (the file's signature) to check it
// against what the uploader declared.
//
// In AWS, S3 itself enforces the declared SHA-256 (x-amz-checksum-sha256 is
// a signed header of the upload) and the exact size (Content-Length is
// signed), and GuardDuty Malware Protection scans every object.
//
// Locally the bucket is on the embedded S3-compatible server (package
// locals3, gofakes3), which enforces neither signatures nor checksums and
// stores no checksum. So locally (Bucket.VerifyDigest) the arrival check
// reads the whole object and computes its SHA-256 itself; and no scanner
// runs, which every local file's status says.
package files

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/rengas/rengas/shared/exports"
	"github.com/rengas/rengas/shared/procurement"
)

// UploadTTL is how long an upload URL works; LinkTTL a download link.
const (
	UploadTTL = 15 * time.Minute
	LinkTTL   = 5 * time.Minute
)

// Prefix is where the files are in the bucket: files/<id>.
const Prefix = "files/"

// Object returns the object key of a file.
func Object(id string) string { return Prefix + id }

// IDOf returns the file id of an object key, or "" if it is not a file's.
func IDOf(key string) string {
	id, ok := strings.CutPrefix(key, Prefix)
	if !ok || id == "" || strings.Contains(id, "/") {
		return ""
	}
	return id
}

// Bucket is the documents bucket.
type Bucket struct {
	S3      *s3.Client
	presign *s3.PresignClient
	signer  *v4.Signer
	Name    string
	// MaxBytes is the size limit of one file (DefaultMaxFileBytes unless set).
	MaxBytes int64
	// VerifyDigest makes the arrival check read the object and compute its
	// digest: for an S3 that does not enforce x-amz-checksum-sha256 (the
	// local one).
	VerifyDigest bool
	// Scanning says that a malware scanner reports on every object (AWS:
	// GuardDuty). Without it, arrived files are "not scanned".
	Scanning bool
}

// Connect returns the documents bucket. With an endpoint (the local
// S3-compatible server) the arrival check verifies digests itself and no
// scanner is assumed.
func Connect(ctx context.Context, endpoint, bucket string, scanning bool) (*Bucket, error) {
	if bucket == "" {
		return nil, errors.New("no documents bucket named (DOCUMENTS_BUCKET)")
	}
	c, err := exports.Client(ctx, endpoint)
	if err != nil {
		return nil, err
	}
	// S3 signs paths as they are (no second escaping), as the SDK's own
	// presigner does.
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	return &Bucket{S3: c, presign: s3.NewPresignClient(c), signer: signer, Name: bucket, MaxBytes: procurement.DefaultMaxFileBytes,
		VerifyDigest: endpoint != "", Scanning: scanning}, nil
}

// Upload is how to send a file's bytes: a PUT of exactly the body to URL
// with exactly Headers; or, for a form upload (File.Form), an HTML form
// POSTed to URL (enctype multipart/form-data) with every one of Fields
// and then the file as the field "file", last.
type Upload struct {
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers,omitempty"`
	Fields    map[string]string `json:"fields,omitempty"`
	ExpiresAt time.Time         `json:"expiresAt"`
}

// Metadata keys stored with the object: the declaration, so that the
// arrival check knows what was declared without reading the table.
const (
	metaOwner  = "rengas-owner"
	metaBy     = "rengas-by"
	metaName   = "rengas-name"
	metaSHA    = "rengas-sha256"
	metaSigned = "rengas-signed"
	metaForm   = "rengas-form"
)

func metadata(f *procurement.File) map[string]string {
	return map[string]string{
		metaOwner: f.Owner, metaBy: f.UploadedBy, metaName: url.PathEscape(f.Name), metaSHA: f.SHA256,
		metaSigned: f.SignedAt.UTC().Format(time.RFC3339Nano),
	}
}

func formMetadata(f *procurement.File) map[string]string {
	m := metadata(f)
	delete(m, metaSHA)
	m[metaForm] = "true"
	return m
}

// SignPost signs a form upload (presigned POST, for a page without
// JavaScript): the policy fixes the object's key, its Content-Type (the
// declared type), its metadata (the declaration), the size range (1 byte
// to MaxBytes) and the address S3 redirects the browser to
// (success_action_redirect). The digest cannot be declared (a form cannot
// compute it), so no checksum is asked of S3: the arrival check reads the
// object and computes its SHA-256. Signed as of the declaration's time,
// as SignPut is, so that a replay gives the same form.
func (b *Bucket) SignPost(ctx context.Context, f *procurement.File) (Upload, error) {
	key := Object(f.ID)
	fields := map[string]string{"Content-Type": f.MediaType, "success_action_redirect": f.Redirect}
	for k, v := range formMetadata(f) {
		fields["x-amz-meta-"+k] = v
	}
	conds := []any{[]any{"content-length-range", 1, b.MaxBytes}}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		conds = append(conds, map[string]string{k: fields[k]})
	}
	req, err := b.presign.PresignPostObject(ctx, &s3.PutObjectInput{Bucket: &b.Name, Key: &key}, func(o *s3.PresignPostOptions) {
		o.Expires = UploadTTL
		o.Conditions = conds
		o.PostPresigner = postAt{next: o.PostPresigner, at: f.SignedAt}
	})
	if err != nil {
		return Upload{}, fmt.Errorf("sign the form upload: %w", err)
	}
	maps.Copy(fields, req.Values)
	return Upload{Method: http.MethodPost, URL: req.URL, Fields: fields, ExpiresAt: f.SignedAt.Add(UploadTTL).UTC()}, nil
}

// postAt signs a form upload's policy as of a fixed time.
type postAt struct {
	next s3.PresignPost
	at   time.Time
}

func (p postAt) PresignPost(creds aws.Credentials, bucket, key, region, service string, _ time.Time, conds []any, _ time.Time, optFns ...func(*v4.SignerOptions)) (map[string]string, error) {
	return p.next.PresignPost(creds, bucket, key, region, service, p.at, conds, p.at.Add(UploadTTL).UTC(), optFns...)
}

// Checksum returns the base64 of a hex SHA-256 digest, as S3 wants it.
func Checksum(hexDigest string) string {
	b, _ := hex.DecodeString(hexDigest)
	return base64.StdEncoding.EncodeToString(b)
}

// Sign signs the upload of a declared file: a form (SignPost) for a form
// upload, a PUT (SignPut) otherwise.
func (b *Bucket) Sign(ctx context.Context, f *procurement.File) (Upload, error) {
	if f.Form {
		return b.SignPost(ctx, f)
	}
	return b.SignPut(ctx, f)
}

// SignPut signs the upload of a declared file: S3 accepts the PUT only with
// the declared length, type and SHA-256, and stores the declaration as the
// object's metadata. The URL is signed as of the declaration's time, so
// that it works UploadTTL from then, and signing the same declaration
// again (a replay of POST /files) gives the same URL.
func (b *Bucket) SignPut(ctx context.Context, f *procurement.File) (Upload, error) {
	req, err := b.presign.PresignPutObject(ctx, &s3.PutObjectInput{
		Bucket: &b.Name, Key: aws.String(Object(f.ID)), ContentType: &f.MediaType, ContentLength: &f.Size,
		ChecksumSHA256: aws.String(Checksum(f.SHA256)), Metadata: metadata(f),
	}, func(o *s3.PresignOptions) {
		o.Expires = UploadTTL
		o.Presigner = signedAt{signer: b.signer, at: f.SignedAt}
	})
	if err != nil {
		return Upload{}, fmt.Errorf("sign the upload: %w", err)
	}
	h := map[string]string{}
	for k, v := range req.SignedHeader {
		if strings.EqualFold(k, "host") {
			continue
		}
		h[strings.ToLower(k)] = strings.Join(v, ",")
	}
	return Upload{Method: req.Method, URL: req.URL, Headers: h, ExpiresAt: f.SignedAt.Add(UploadTTL).UTC()}, nil
}

// signedAt presigns as of a fixed time.
type signedAt struct {
	signer *v4.Signer
	at     time.Time
}

func (p signedAt) PresignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, _ time.Time, optFns ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return p.signer.PresignHTTP(ctx, creds, r, payloadHash, service, region, p.at, optFns...)
}

// Link is a download link.
type Link struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// SignGet signs a download of the file, offered under its name.
func (b *Bucket) SignGet(ctx context.Context, f *procurement.File, now time.Time) (Link, error) {
	req, err := b.presign.PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket: &b.Name, Key: aws.String(Object(f.ID)),
		ResponseContentDisposition: aws.String(`attachment; filename*=UTF-8''` + url.PathEscape(f.Name)),
		ResponseContentType:        &f.MediaType,
	}, s3.WithPresignExpires(LinkTTL))
	if err != nil {
		return Link{}, fmt.Errorf("sign the download: %w", err)
	}
	return Link{URL: req.URL, ExpiresAt: now.Add(LinkTTL).UTC()}, nil
}

// Observed is what the bucket holds for a file id.
type Observed struct {
	// Found is false when there is no object (not uploaded yet).
	Found bool
	// Declared is the declaration stored with the object at signing (nil
	// when the metadata is missing or unreadable).
	Declared *procurement.File
	Size     int64
	// MediaType is the object's Content-Type.
	MediaType string
	// SHA256 is the object's digest (hex): S3's checksum in AWS, computed
	// from the bytes with VerifyDigest; "" if neither is available.
	SHA256 string
	// Magic is the type the file's first bytes show (see sniff).
	Magic string
	// VersionID is the object's version (the documents bucket is
	// versioned in AWS); deleting a refused upload deletes that version.
	VersionID string
}

// Inspect reads what the bucket holds for the file id: its headers with
// the checksum (HeadObject, ChecksumMode ENABLED) and its first bytes; with
// VerifyDigest, all of its bytes.
func (b *Bucket) Inspect(ctx context.Context, id string) (Observed, error) {
	head, err := b.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b.Name, Key: aws.String(Object(id)), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		if notFound(err) {
			return Observed{}, nil
		}
		return Observed{}, fmt.Errorf("inspect the uploaded object: %w", err)
	}
	o := Observed{Found: true, Size: aws.ToInt64(head.ContentLength), MediaType: aws.ToString(head.ContentType), Declared: declared(id, head),
		VersionID: aws.ToString(head.VersionId)}
	if c := aws.ToString(head.ChecksumSHA256); c != "" {
		if raw, err := base64.StdEncoding.DecodeString(c); err == nil {
			o.SHA256 = hex.EncodeToString(raw)
		}
	}
	// A form upload declared no digest and S3 kept none: its SHA-256 is
	// computed from all of its bytes, as locally.
	whole := b.VerifyDigest || (o.Declared != nil && o.Declared.Form && o.SHA256 == "")
	get := &s3.GetObjectInput{Bucket: &b.Name, Key: aws.String(Object(id)), VersionId: head.VersionId}
	if !whole {
		get.Range = aws.String("bytes=0-15")
	}
	if o.Size == 0 {
		return o, nil
	}
	obj, err := b.S3.GetObject(ctx, get)
	if err != nil {
		return Observed{}, fmt.Errorf("read the uploaded object: %w", err)
	}
	defer obj.Body.Close()
	h := sha256.New()
	var first bytes.Buffer
	if _, err := io.Copy(io.MultiWriter(h, &limitWriter{w: &first, n: 16}), obj.Body); err != nil {
		return Observed{}, fmt.Errorf("read the uploaded object: %w", err)
	}
	o.Magic = sniff(first.Bytes())
	if whole {
		o.SHA256 = hex.EncodeToString(h.Sum(nil))
	}
	return o, nil
}

type limitWriter struct {
	w io.Writer
	n int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(l.n, len(p))
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

func notFound(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NotFound", "NoSuchKey", "404":
			return true
		}
	}
	var nf *types.NotFound
	var nk *types.NoSuchKey
	return errors.As(err, &nf) || errors.As(err, &nk)
}

// declared rebuilds the declaration from the object's metadata. Its size
// and type are the object's (signed into the upload URL, so in AWS they
// are the declared ones); the store writes it only on condition that the
// record holds exactly this declaration (Store.SettleFile), and otherwise
// checks the object against the record itself.
func declared(id string, head *s3.HeadObjectOutput) *procurement.File {
	m := map[string]string{}
	for k, v := range head.Metadata {
		m[strings.ToLower(k)] = v
	}
	name, err := url.PathUnescape(m[metaName])
	signed, err2 := time.Parse(time.RFC3339Nano, m[metaSigned])
	form := m[metaForm] == "true"
	if err != nil || err2 != nil || m[metaOwner] == "" || (m[metaSHA] == "" && !form) {
		return nil
	}
	f := &procurement.File{ID: id, Owner: m[metaOwner], UploadedBy: m[metaBy], Name: name, MediaType: aws.ToString(head.ContentType),
		Size: aws.ToInt64(head.ContentLength), SHA256: m[metaSHA], Status: procurement.FileAwaiting, SignedAt: signed, Version: 1}
	if form {
		// Declared without size and digest (and with the redirect, which
		// the record holds): the store's condition falls back to reading
		// the record when this is not exactly it.
		f.Form, f.Size, f.SHA256 = true, 0, ""
	}
	return f
}

// Delete removes a refused file's object: the version given (in a
// versioned bucket a delete without one would keep the bytes as a
// noncurrent version), or the object.
func (b *Bucket) Delete(ctx context.Context, id, versionID string) error {
	in := &s3.DeleteObjectInput{Bucket: &b.Name, Key: aws.String(Object(id))}
	if versionID != "" {
		in.VersionId = &versionID
	}
	_, err := b.S3.DeleteObject(ctx, in)
	if err != nil && !notFound(err) {
		return fmt.Errorf("delete the refused object: %w", err)
	}
	return nil
}

// The file signatures of the accepted types. Office documents (OOXML and
// OpenDocument) are ZIP archives.
const (
	magicPDF  = "pdf"
	magicPNG  = "png"
	magicJPEG = "jpeg"
	magicZIP  = "zip"
)

func sniff(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("%PDF-")):
		return magicPDF
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return magicPNG
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		return magicJPEG
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		return magicZIP
	}
	return ""
}

func magicOf(mediaType string) string {
	switch {
	case mediaType == "application/pdf":
		return magicPDF
	case mediaType == "image/png":
		return magicPNG
	case mediaType == "image/jpeg":
		return magicJPEG
	}
	return magicZIP
}

// Check compares what arrived with what was declared and returns why the
// object must be refused, or "" if it matches: the size, the media type and
// the file's signature, and the SHA-256.
//
// A form upload (f.Form) declared no size and no digest: its size must be
// within the limit and its digest known (computed on arrival); Measure then
// records both on the file.
func Check(f *procurement.File, o Observed, max int64) string {
	switch {
	case o.Size > max:
		return fmt.Sprintf("the object is %d bytes, over the limit of %d", o.Size, max)
	case f.Form && o.Size < 1:
		return "the object is empty"
	case f.Form && o.SHA256 == "":
		return "the object's SHA-256 could not be computed"
	case !f.Form && o.Size != f.Size:
		return fmt.Sprintf("the object is %d bytes; %d were declared", o.Size, f.Size)
	case o.MediaType != f.MediaType:
		return fmt.Sprintf("the object's type is %q; %q was declared", o.MediaType, f.MediaType)
	case o.Magic != magicOf(f.MediaType):
		return fmt.Sprintf("the object's content is not a %s file (its first bytes do not match the type)", procurement.FileTypes[f.MediaType])
	case o.SHA256 == "":
		return "the object carries no SHA-256 checksum; upload it with the x-amz-checksum-sha256 header signed into the URL"
	case !f.Form && !strings.EqualFold(o.SHA256, f.SHA256):
		return fmt.Sprintf("the object's SHA-256 is %s; %s was declared", o.SHA256, f.SHA256)
	}
	return ""
}

// Measure records on a form upload that passed Check its size and the
// SHA-256 of its bytes as they arrived.
func Measure(f *procurement.File, o Observed) {
	if f.Form {
		f.Size, f.SHA256 = o.Size, strings.ToLower(o.SHA256)
	}
}
