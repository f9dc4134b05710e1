package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rengas/rengas/shared/audit"
	"github.com/rengas/rengas/shared/procurement"
)

// Uploaded files (their bytes are in the documents bucket, package files):
//
//	file    FILE#<file>    META    GSI2: PROV#<owner> / FILE#<signed>#<file>
//
// A file's record is written when its upload is signed (awaiting the
// bytes; audit chain upload.<id>), and settled once on arrival: arrived or
// refused (audit chain file.<id>, which starts there, with the verified
// digest; the scan result follows on it). A reservation never used expires
// (TTL) after FileReservation; its chain stays.

func fileKey(id string) key { return key{"FILE#" + id, meta} }

// FileChain is the audit chain of one uploaded file: its arrival (or
// refusal) and its scan result.
func FileChain(id string) string { return "file." + id }

// UploadChain is the audit chain of one upload's declaration. It is not
// the file's chain so that the arrival can start the file's chain without
// reading its head: arrival costs one round trip.
func UploadChain(id string) string { return "upload." + id }

// FileReservation is how long the record of a signed upload whose bytes
// never arrived is kept.
const FileReservation = 24 * time.Hour

// declaredDigest fingerprints a declaration, so that the arrival can
// write the settled record in one round trip on condition that the record
// still holds exactly that declaration.
func declaredDigest(f *procurement.File) string {
	b, _ := json.Marshal([]any{f.ID, f.Owner, f.UploadedBy, f.Name, f.MediaType, f.Size, f.SHA256, f.SignedAt.UTC().Format(time.RFC3339Nano)})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func (s *Store) fileItem(f *procurement.File) item {
	it := entity(fileKey(f.ID), "file", f.Version, f)
	it.GSI[1] = key{providerPartition(f.Owner), "FILE#" + f.SignedAt.UTC().Format("2006-01-02T15:04:05.000000") + "#" + f.ID}
	it.Extras = map[string]types.AttributeValue{"status": str(string(f.Status)), "owner": str(f.Owner)}
	return it
}

// SignFile records a signed upload, awaiting its bytes, with its audit
// event on the upload's own new chain: one TransactWriteItems (with the
// request's Idempotency-Key record, if any).
func (s *Store) SignFile(ctx context.Context, actor procurement.Actor, f *procurement.File) error {
	f.Status, f.Version = procurement.FileAwaiting, 1
	it := s.fileItem(f)
	it.Extras["declared"] = str(declaredDigest(f))
	it.Extras["expires"] = num(f.SignedAt.Add(FileReservation).Unix())
	_, err := s.commit(ctx, &audit.Head{}, Change{Actor: actor, Chain: UploadChain(f.ID), Action: "file.declared", EntityType: "file", EntityID: f.ID,
		State: f, Subject: f.ID, Summary: fmt.Sprintf("%s (%s, %d bytes, sha256 %s) declared for upload", f.Name, f.MediaType, f.Size, f.SHA256)},
		s.putNew(it, "a file with this id exists; sign the upload again"))
	return err
}

// GetFile returns an uploaded file's record. Errors: ENOTFOUND.
func (s *Store) GetFile(ctx context.Context, id string) (*procurement.File, error) {
	m, err := s.get(ctx, fileKey(id))
	if err != nil {
		return nil, err
	}
	return decodeAs[procurement.File](m, "file "+id)
}

// Files reads files by id in one BatchGetItem, for attaching them to a
// record: the map holds each file found. Whoever attaches checks each with
// File.CheckAttachable (arrived, the caller's, no threat); the record then
// carries the digest verified on arrival (Document.AttachFile,
// FileRef.Fill). A reusable way for any record that takes documents.
func (s *Store) Files(ctx context.Context, ids ...string) (map[string]*procurement.File, error) {
	out := map[string]*procurement.File{}
	if len(ids) == 0 {
		return out, nil
	}
	keys := make([]key, len(ids))
	for i, id := range ids {
		keys[i] = fileKey(id)
	}
	got, err := s.getMany(ctx, keys...)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if m := got[fileKey(id)]; m != nil {
			f, err := decodeAs[procurement.File](m, "file "+id)
			if err != nil {
				return nil, err
			}
			out[id] = f
		}
	}
	return out, nil
}

// AttachableFile returns the caller's arrived file, for attaching it as
// evidence: ready for any record (claims included) that takes a document.
// Errors: EINVALID naming field when the file is missing, not org's, not
// arrived, refused or carries a threat.
func (s *Store) AttachableFile(ctx context.Context, org, field, id string) (*procurement.File, error) {
	fs, err := s.Files(ctx, id)
	if err != nil {
		return nil, err
	}
	f := fs[id]
	if err := f.CheckAttachable(field, org); err != nil {
		return nil, err
	}
	return f, nil
}

// SettleFile settles a signed upload once its bytes arrived (or failed
// to): settle sets the record's status from what the bucket holds. The
// audit chain of the file starts with the settled record (digest included).
//
// declared is the declaration read from the object's metadata (nil if
// unknown). With it the settled record is written in ONE round trip, on
// condition that the stored record is still exactly that declaration,
// untouched. Otherwise (no metadata, or the condition fails) the record is
// read first. A record already settled is returned as it is: arrival is
// idempotent (the S3 event and the uploader's confirmation may both come).
func (s *Store) SettleFile(ctx context.Context, actor procurement.Actor, id string, declared *procurement.File, settle func(f *procurement.File) error) (f *procurement.File, settled bool, err error) {
	if declared != nil && declared.ID == id {
		f := *declared
		if err := settle(&f); err != nil {
			return nil, false, err
		}
		f.Version = 2
		it := s.fileItem(&f)
		w := write{tw: types.TransactWriteItem{Put: &types.Put{
			TableName: &s.table, Item: it.av(),
			ConditionExpression:       aws.String("version = :one AND #st = :awaiting AND declared = :d"),
			ExpressionAttributeNames:  map[string]string{"#st": "status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1), ":awaiting": str(string(procurement.FileAwaiting)), ":d": str(declaredDigest(declared))},
		}}, conflict: "the file's record changed"}
		_, err := s.commit(ctx, &audit.Head{}, s.fileChange(actor, &f), w)
		if err == nil {
			return &f, true, nil
		}
		if procurement.ErrorCode(err) != procurement.ECONFLICT {
			return nil, false, err
		}
	}
	cur, err := s.GetFile(ctx, id)
	if err != nil {
		return nil, false, err
	}
	if cur.Status != procurement.FileAwaiting {
		return cur, false, nil
	}
	prev := cur.Version
	if err := settle(cur); err != nil {
		return nil, false, err
	}
	cur.Version = prev + 1
	if _, err := s.commit(ctx, nil, s.fileChange(actor, cur), s.putVersion(s.fileItem(cur), prev, "the file's record changed; confirm again")); err != nil {
		return nil, false, err
	}
	return cur, true, nil
}

func (s *Store) fileChange(actor procurement.Actor, f *procurement.File) Change {
	action, summary := "file.arrived", fmt.Sprintf("%s (%s, %d bytes, sha256 %s)", f.Name, f.MediaType, f.Size, f.SHA256)
	switch {
	case f.Status == procurement.FileRefused:
		action, summary = "file.refused", summary+": "+f.Refusal
	case f.ScannedAt != nil:
		action, summary = "file.scanned", f.Name+": "+string(f.Scan)
	}
	return Change{Actor: actor, Chain: FileChain(f.ID), Action: action, EntityType: "file", EntityID: f.ID, State: f, Summary: summary, Subject: f.ID}
}

// RecordScan records the malware scan's result on a file: read the record
// and its chain's head (one BatchGetItem), write the result with its event
// (one transaction). A result for a file with no record (never signed) is
// an error the caller logs.
func (s *Store) RecordScan(ctx context.Context, actor procurement.Actor, id string, status procurement.ScanStatus, note string) (*procurement.File, error) {
	got, err := s.getMany(ctx, fileKey(id), chainHeadKey(FileChain(id)))
	if err != nil {
		return nil, err
	}
	f, err := decodeAs[procurement.File](got[fileKey(id)], "file "+id)
	if err != nil {
		return nil, err
	}
	if f.Scan == status && f.ScannedAt != nil {
		return f, nil // the same result again
	}
	now := s.Now()
	prev := f.Version
	f.Scan, f.ScanNote, f.ScannedAt, f.Version = status, note, &now, prev+1
	head := headFrom(got[chainHeadKey(FileChain(id))])
	writes := []write{s.putVersion(s.fileItem(f), prev, "the file's record changed")}
	if status == procurement.ScanThreat {
		// The uploader hears of it; the officers see it on the file.
		writes = append(writes, s.notify(f.Owner, "file.threat", f.ID,
			fmt.Sprintf("The malware scan found threats in your file %s (%s); it cannot be read by anyone. Upload a clean copy.", f.Name, note)))
	}
	if _, err := s.commit(ctx, &head, s.fileChange(actor, f), writes...); err != nil {
		return nil, err
	}
	return f, nil
}

// ListFiles pages through an organisation's uploads, newest first.
func (s *Store) ListFiles(ctx context.Context, org, cursor string, limit int) (Page[procurement.File], error) {
	return queryPage[procurement.File](ctx, s, query{index: &GSI2, pk: providerPartition(org), skBegin: "FILE#", desc: true, cursor: cursor, limit: limit})
}
