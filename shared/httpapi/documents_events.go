package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rengas/rengas/shared/files"
	"github.com/rengas/rengas/shared/procurement"
)

// ScanResultDetailType is the EventBridge detail type of GuardDuty Malware
// Protection for S3's result on one object.
const ScanResultDetailType = "GuardDuty Malware Protection Object Scan Result"

// scanResult is the part of GuardDuty's scan result event that matters.
type scanResult struct {
	DetailType string `json:"detail-type"`
	Source     string `json:"source"`
	Detail     struct {
		ScanStatus      string `json:"scanStatus"`
		S3ObjectDetails struct {
			BucketName string `json:"bucketName"`
			ObjectKey  string `json:"objectKey"`
		} `json:"s3ObjectDetails"`
		ScanResultDetails struct {
			ScanResultStatus string `json:"scanResultStatus"`
			Threats          []struct {
				Name string `json:"name"`
			} `json:"threats"`
		} `json:"scanResultDetails"`
	} `json:"detail"`
}

// FileEvent is the entry point of the documents function in AWS. It takes
// the documents bucket's S3 notifications (ObjectCreated: the bytes of an
// upload arrived; the file is settled as POST /files/{id}/arrival does)
// and GuardDuty's scan results (EventBridge: the file becomes readable to
// others, or is marked as carrying a threat). An error makes Lambda retry
// the event.
func (s *Server) FileEvent(ctx context.Context, raw json.RawMessage) error {
	if s.Files == nil {
		return errors.New("no documents bucket configured (DOCUMENTS_BUCKET)")
	}
	var probe struct {
		Records    []json.RawMessage `json:"Records"`
		DetailType string            `json:"detail-type"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return fmt.Errorf("not an event: %w", err)
	}
	switch {
	case len(probe.Records) > 0:
		var ev events.S3Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			return fmt.Errorf("not an S3 event: %w", err)
		}
		var errs []error
		for _, r := range ev.Records {
			if !strings.HasPrefix(r.EventName, "ObjectCreated:") || r.S3.Bucket.Name != s.Files.Name {
				continue
			}
			key, err := url.QueryUnescape(r.S3.Object.Key)
			id := files.IDOf(key)
			if err != nil || id == "" {
				s.Log.Warn("an object outside files/ in the documents bucket", "key", r.S3.Object.Key)
				continue
			}
			f, err := s.ArriveFile(ctx, fileSystem, id, "")
			switch {
			case procurement.ErrorCode(err) == procurement.ENOTFOUND:
				// No record (never signed, or the reservation expired):
				// nothing keeps an object nobody declared.
				s.Log.Warn("an object with no file record; deleting it", "key", key)
				errs = append(errs, s.Files.Delete(ctx, id, ""))
			case err != nil:
				errs = append(errs, fmt.Errorf("file %s: %w", id, err))
			default:
				s.Log.Info("file settled", "file", id, "status", f.Status, "refusal", f.Refusal)
			}
		}
		return errors.Join(errs...)
	case probe.DetailType == "Object Created":
		// The same, through EventBridge (how the CDK stack routes it).
		var ev struct {
			Detail struct {
				Bucket struct {
					Name string `json:"name"`
				} `json:"bucket"`
				Object struct {
					Key string `json:"key"`
				} `json:"object"`
			} `json:"detail"`
		}
		if err := json.Unmarshal(raw, &ev); err != nil {
			return fmt.Errorf("not an Object Created event: %w", err)
		}
		return s.FileEvent(ctx, mustJSON(events.S3Event{Records: []events.S3EventRecord{{EventName: "ObjectCreated:Put",
			S3: events.S3Entity{Bucket: events.S3Bucket{Name: ev.Detail.Bucket.Name}, Object: events.S3Object{Key: ev.Detail.Object.Key}}}}}))
	case probe.DetailType == ScanResultDetailType:
		var ev scanResult
		if err := json.Unmarshal(raw, &ev); err != nil {
			return fmt.Errorf("not a scan result: %w", err)
		}
		d := ev.Detail
		id := files.IDOf(d.S3ObjectDetails.ObjectKey)
		if d.S3ObjectDetails.BucketName != s.Files.Name || id == "" {
			return nil
		}
		status, note := scanStatus(d.ScanResultDetails.ScanResultStatus)
		if status == procurement.ScanThreat {
			var names []string
			for _, t := range d.ScanResultDetails.Threats {
				names = append(names, t.Name)
			}
			note = strings.Join(names, ", ")
			if note == "" {
				note = "GuardDuty named no threat"
			}
		}
		f, err := s.Store.RecordScan(ctx, fileSystem, id, status, note)
		if err != nil {
			return fmt.Errorf("record the scan of file %s: %w", id, err)
		}
		s.Log.Info("file scanned", "file", id, "scan", f.Scan, "note", f.ScanNote)
		return nil
	}
	return fmt.Errorf("an event the documents function does not take: %.200s", raw)
}

// scanStatus maps GuardDuty's scanResultStatus.
func scanStatus(s string) (procurement.ScanStatus, string) {
	switch s {
	case "NO_THREATS_FOUND":
		return procurement.ScanClean, ""
	case "THREATS_FOUND":
		return procurement.ScanThreat, ""
	}
	// UNSUPPORTED (e.g. a password-protected archive), ACCESS_DENIED, FAILED.
	return procurement.ScanFailed, "GuardDuty: " + s
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
