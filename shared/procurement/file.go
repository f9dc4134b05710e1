package procurement

import (
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// FileStatus is where an uploaded file stands.
type FileStatus string

// File statuses.
const (
	// FileAwaiting: the upload was signed; the bytes have not arrived.
	FileAwaiting FileStatus = "awaiting_upload"
	// FileArrived: the object is in the bucket and matched what was
	// declared (size, type, SHA-256).
	FileArrived FileStatus = "arrived"
	// FileRefused: the object did not match what was declared; it was
	// deleted.
	FileRefused FileStatus = "refused"
)

// ScanStatus is the malware scan's verdict on an arrived file.
type ScanStatus string

// Scan statuses. In AWS, GuardDuty Malware Protection for S3 scans every
// object of the documents bucket; locally there is no scanner.
const (
	ScanPending  ScanStatus = "scan_pending"     // in AWS, until GuardDuty reports
	ScanClean    ScanStatus = "no_threats_found" // GuardDuty found nothing
	ScanThreat   ScanStatus = "threats_found"    // GuardDuty found malware
	ScanFailed   ScanStatus = "scan_failed"      // GuardDuty could not scan it (unsupported, access denied, failed)
	ScanNone     ScanStatus = "not_scanned"      // locally: no scanner runs
	ScanNoneNote            = "not scanned (no scanner locally)"
)

// FileTypes are the media types a document may have, with the extension
// a file of the type usually has.
var FileTypes = map[string]string{
	"application/pdf": ".pdf",
	"image/png":       ".png",
	"image/jpeg":      ".jpg",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   ".docx",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         ".xlsx",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
	"application/vnd.oasis.opendocument.text":                                   ".odt",
	"application/vnd.oasis.opendocument.spreadsheet":                            ".ods",
	"application/vnd.oasis.opendocument.presentation":                           ".odp",
}

// FileTypeList lists FileTypes sorted, for messages and the OpenAPI document.
func FileTypeList() []string {
	out := make([]string, 0, len(FileTypes))
	for t := range FileTypes {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// DefaultMaxFileBytes is the default size limit of one file: 20 MiB.
const DefaultMaxFileBytes = 20 << 20

// File is an uploaded document file: what the uploader declared, and what
// the arrival check and the malware scan found.
type File struct {
	ID string `json:"id"`
	// Owner is the organisation that uploaded it; UploadedBy the user.
	Owner      string `json:"owner"`
	UploadedBy string `json:"uploadedBy"`
	Name       string `json:"name"`
	MediaType  string `json:"mediaType"`
	Size       int64  `json:"size"`
	// SHA256 is the hex digest declared at signing; on arrival it is the
	// digest of the bytes stored (S3 enforces it in AWS; see Arrive).
	SHA256 string `json:"sha256"`
	// Form says that a browser uploads the file with an HTML form (a
	// presigned POST, which works without JavaScript): its size and digest
	// cannot be declared up front (size and sha256 are empty until it
	// arrives). The arrival check then measures them from the object, so
	// that an arrived file always carries the verified digest.
	Form bool `json:"form,omitempty"`
	// Redirect is where S3 sends the browser after a form upload.
	Redirect string     `json:"redirect,omitempty"`
	Status   FileStatus `json:"status"`
	Scan     ScanStatus `json:"scan,omitempty"`
	ScanNote string     `json:"scanNote,omitempty"`
	// Refusal says why an upload was refused.
	Refusal   string     `json:"refusal,omitempty"`
	SignedAt  time.Time  `json:"signedAt"`
	ArrivedAt *time.Time `json:"arrivedAt,omitempty"`
	ScannedAt *time.Time `json:"scannedAt,omitempty"`
	Version   int        `json:"version"`
}

// NewFile checks what an uploader declares of a file before its upload is
// signed: a name, an allowed media type, a size within max and a SHA-256
// digest (hex).
func NewFile(name, mediaType string, size int64, sha string, max int64) error {
	var p Problems
	if strings.TrimSpace(name) == "" || len(name) > 200 || strings.ContainsAny(name, "\x00\r\n/\\") {
		p.Add("name", "give the file's name (1-200 characters, no slashes or line breaks)")
	}
	if _, ok := FileTypes[mediaType]; !ok {
		p.Add("mediaType", "%q is not accepted; send a PDF, PNG or JPEG image, or an office document: one of %s", mediaType, strings.Join(FileTypeList(), ", "))
	}
	switch {
	case size <= 0:
		p.Add("size", "give the file's size in bytes (more than 0)")
	case size > max:
		p.Add("size", "the file is %d bytes; a document may be at most %d bytes (%s): split or compress it", size, max, humanBytes(max))
	}
	if b, err := hex.DecodeString(sha); err != nil || len(b) != 32 {
		p.Add("sha256", "give the SHA-256 digest of the file's bytes as 64 hexadecimal digits")
	}
	return p.Err()
}

// NewFormFile checks what a page declares of a file a browser will upload
// with a form (presigned POST): a name, an allowed media type and the
// http(s) address S3 sends the browser back to. Size and digest are not
// known before the upload; the arrival check measures them.
func NewFormFile(name, mediaType, redirect string) error {
	var p Problems
	if strings.TrimSpace(name) == "" || len(name) > 200 || strings.ContainsAny(name, "\x00\r\n/\\") {
		p.Add("name", "give the file's name (1-200 characters, no slashes or line breaks)")
	}
	if _, ok := FileTypes[mediaType]; !ok {
		p.Add("mediaType", "%q is not accepted; send a PDF, PNG or JPEG image, or an office document: one of %s", mediaType, strings.Join(FileTypeList(), ", "))
	}
	if u, err := url.Parse(redirect); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(redirect) > 6000 {
		p.Add("redirect", "give the absolute http(s) address (at most 6000 characters) the browser returns to after the upload")
	}
	return p.Err()
}

func humanBytes(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Readable reports whether the scan allows others than the uploader to
// read the file: GuardDuty found no threats, or (locally) no scanner ran.
func (f *File) Readable() bool {
	return f.Status == FileArrived && (f.Scan == ScanClean || f.Scan == ScanNone)
}

// CheckAttachable refuses to attach a file that is not the organisation's,
// has not arrived, or carries a threat. field names the input.
func (f *File) CheckAttachable(field, org string) error {
	switch {
	case f == nil || f.Owner != org:
		return Invalid(field, "no uploaded file of yours has this id; upload it first (POST /files)")
	case f.Status == FileAwaiting:
		return Invalid(field, "file %s has not arrived yet: PUT its bytes to the upload URL, then confirm (POST /files/%s/arrival)", f.ID, f.ID)
	case f.Status == FileRefused:
		return Invalid(field, "file %s was refused on arrival (%s); upload it again", f.ID, f.Refusal)
	case f.Scan == ScanThreat:
		return Invalid(field, "file %s carries malware (%s); it cannot be attached", f.ID, f.ScanNote)
	}
	return nil
}

// FileRef is a file attached to a record. The uploader sends the file's id;
// the server fills in the rest from the file as it arrived, so that the
// record (and its audit event) carries the verified digest.
type FileRef struct {
	FileID    string `json:"fileId" validate:"required,max=40,id"`
	Name      string `json:"name,omitempty" validate:"max=200"`
	MediaType string `json:"mediaType,omitempty" validate:"max=120"`
	Size      int64  `json:"size,omitempty" validate:"gte=0"`
	SHA256    string `json:"sha256,omitempty" validate:"omitempty,len=64,hexadecimal"`
}

// Fill sets the reference from the arrived file.
func (r *FileRef) Fill(f *File) {
	r.Name, r.MediaType, r.Size, r.SHA256 = f.Name, f.MediaType, f.Size, f.SHA256
}

// AttachFile binds a document's metadata to its uploaded file: the
// document's digest must be the one verified on arrival; its media type
// and size become the file's.
func (d *Document) AttachFile(field string, f *File) error {
	if !strings.EqualFold(d.SHA256, f.SHA256) {
		return Invalid(field+".sha256", "is not the digest of file %s as it arrived (%s); send the file's digest", f.ID, f.SHA256)
	}
	d.SHA256, d.MediaType, d.Size = f.SHA256, f.MediaType, f.Size
	return nil
}
