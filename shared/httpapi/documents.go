package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/rengas/rengas/shared/access"
	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/files"
	"github.com/rengas/rengas/shared/procurement"
)

// Documents as files. A provider declares a file (name, media type, size,
// SHA-256) and gets a presigned PUT; S3 takes the bytes; on arrival (the
// S3 event in AWS, or the uploader's confirmation in both environments)
// the object is checked against the declaration and the file is marked
// arrived or refused. Records (applications, information responses, bids)
// then name the file by id and carry its verified digest; whoever may see
// the record and the file (access.Attachment) gets a presigned GET.

// fileRequest declares a file. For a PUT (the default) size and sha256
// are required, and S3 enforces them. For a browser's form upload
// (upload "form": a presigned POST, which a page without JavaScript can
// send) size and sha256 cannot be known and must be left out; redirect is
// where S3 sends the browser back, and the arrival check measures the size
// and computes the digest.
type fileRequest struct {
	Name      string `json:"name" validate:"required,max=200"`
	MediaType string `json:"mediaType" validate:"required,max=120"`
	Size      int64  `json:"size,omitempty" validate:"gte=0"`
	SHA256    string `json:"sha256,omitempty" validate:"omitempty,len=64,hexadecimal"`
	Upload    string `json:"upload,omitempty" validate:"omitempty,oneof=put form"`
	Redirect  string `json:"redirect,omitempty" validate:"max=6000"`
}

// fileUpload answers a signed upload: the file's record and how to send
// its bytes.
type fileUpload struct {
	File   procurement.File `json:"file"`
	Upload files.Upload     `json:"upload"`
}

// fileLink answers a download: the file and a short-lived link to it.
type fileLink struct {
	File procurement.File `json:"file"`
	files.Link
}

// fileSystem is the actor of arrivals and scan results reported by AWS
// events rather than by a user.
var fileSystem = procurement.Actor{UserID: "system:documents", Role: "system", Org: "system"}

func (c *call) bucket() (*files.Bucket, error) {
	if c.s.Files == nil {
		return nil, &procurement.Error{Code: procurement.EUNAVAILABLE, Message: "documents cannot be uploaded or downloaded here: no documents bucket is configured (DOCUMENTS_BUCKET)"}
	}
	return c.s.Files, nil
}

func documentRoutes() []Route {
	return []Route{
		{Method: "POST", Path: "/files", Function: FnQualification, Idempotent: true, Roles: providers, Created: true,
			Summary: "Declare a document file (name, media type, size, SHA-256) and get a presigned PUT to upload its bytes (or, with upload \"form\", a presigned POST form for a browser: no size or digest; they are measured on arrival); then confirm its arrival",
			Request: fileRequest{}, Response: fileUpload{}, handle: func(c *call) (any, error) {
				var in fileRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				b, err := c.bucket()
				if err != nil {
					return nil, err
				}
				sha := strings.ToLower(in.SHA256)
				form := in.Upload == "form"
				switch {
				case form && (in.Size != 0 || sha != ""):
					return nil, procurement.Invalid("upload", "a form upload declares no size and no sha256 (the arrival check measures them); leave them out, or upload with PUT")
				case form:
					if err := procurement.NewFormFile(in.Name, in.MediaType, in.Redirect); err != nil {
						return nil, err
					}
				case in.Redirect != "":
					return nil, procurement.Invalid("redirect", "only a form upload (upload: form) is redirected; leave it out")
				default:
					if err := procurement.NewFile(in.Name, in.MediaType, in.Size, sha, b.MaxBytes); err != nil {
						return nil, err
					}
				}
				now := c.s.Store.Now()
				f := &procurement.File{ID: c.s.Store.NewID(), Owner: c.actor.Org, UploadedBy: c.actor.UserID, Name: in.Name,
					MediaType: in.MediaType, Size: in.Size, SHA256: sha, SignedAt: now, Form: form, Redirect: in.Redirect}
				if err := c.s.Store.SignFile(c.r.Context(), c.actor, f); err != nil {
					return nil, err
				}
				up, err := b.Sign(c.r.Context(), f)
				if err != nil {
					return nil, procurement.Internal(err)
				}
				return fileUpload{File: *f, Upload: up}, nil
			}},
		{Method: "GET", Path: "/files", Function: FnQualification, Roles: providers, Query: pageParams,
			Summary: "List your organisation's uploaded files, newest first", Response: dynamo.Page[procurement.File]{},
			handle: func(c *call) (any, error) {
				cur, lim, err := c.page()
				if err != nil {
					return nil, err
				}
				return c.s.Store.ListFiles(c.r.Context(), c.actor.Org, cur, lim)
			}},
		{Method: "GET", Path: "/files/{fileId}", Function: FnQualification, Roles: providers,
			Summary: "Read one of your uploaded files: whether it arrived, was refused, and its malware scan status", Response: procurement.File{},
			handle: func(c *call) (any, error) { return c.ownFile(access.See) }},
		{Method: "POST", Path: "/files/{fileId}/arrival", Function: FnQualification, Idempotent: true, Roles: providers,
			Summary:  "Confirm that a file's bytes were uploaded: the object is checked against the declaration (size, type, SHA-256) and the file is marked arrived, or refused and deleted",
			Response: procurement.File{}, Statuses: []int{400, 409}, handle: func(c *call) (any, error) {
				if _, err := c.bucket(); err != nil {
					return nil, err
				}
				f, settled, err := c.s.arriveFile(c.r.Context(), c.actor, c.path("fileId"), c.actor.Org)
				if err != nil || settled || c.idem == nil || c.idem.claim == nil {
					return f, err
				}
				// Settled before this keyed request: if by a request with
				// the same key (concurrent with this one), answer its result.
				return c.replayedFile(f)
			}},
		{Method: "GET", Path: "/files/{fileId}/content", Function: FnQualification, Roles: providers,
			Summary: "Get a short-lived link to download one of your uploaded files", Response: fileLink{}, Statuses: []int{409},
			handle: func(c *call) (any, error) {
				f, err := c.ownFile(access.See)
				if err != nil {
					return nil, err
				}
				return c.link(f)
			}},
		{Method: "GET", Path: "/dps/{dpsId}/applications/{applicationId}/documents/{documentId}/content", Function: FnQualification, Roles: everyone,
			Summary:  "Get a short-lived link to download an application's uploaded document (whoever may see the application; once the scan found no threats)",
			Response: fileLink{}, Statuses: []int{409}, handle: func(c *call) (any, error) {
				a, d, err := c.s.Store.GetApplication(c.r.Context(), c.path("dpsId"), c.path("applicationId"))
				if err != nil {
					return nil, err
				}
				if err := c.applicationMay(access.See)(a, d); err != nil {
					return nil, err
				}
				docs := a.AllDocuments()
				i := slices.IndexFunc(docs, func(doc procurement.Document) bool { return doc.ID == c.path("documentId") })
				if i < 0 {
					return nil, access.NotFound(access.Attachment, c.path("documentId"))
				}
				if docs[i].FileID == "" {
					return nil, procurement.Errorf(procurement.ECONFLICT, "document %s was recorded by its metadata only (SHA-256 %s); no file was uploaded for it", docs[i].ID, docs[i].SHA256)
				}
				return c.attachment(docs[i].FileID, access.DPSScope(d, a.ProviderID))
			}},
		{Method: "GET", Path: "/dps/{dpsId}/applications/{applicationId}/documents", Function: FnQualification, Roles: everyone,
			Summary:  "The state of an application's uploaded documents (arrived or refused, malware scan) for whoever may see the application, so that pages can show it beside each document: one read of the application and one BatchGetItem",
			Response: documentFiles{}, handle: func(c *call) (any, error) {
				a, d, err := c.s.Store.GetApplication(c.r.Context(), c.path("dpsId"), c.path("applicationId"))
				if err != nil {
					return nil, err
				}
				if err := c.applicationMay(access.See)(a, d); err != nil {
					return nil, err
				}
				return c.documentFiles(a.AllDocuments(), access.DPSScope(d, a.ProviderID))
			}},
		{Method: "GET", Path: "/declaration-requests/{requestId}/documents/{documentId}/content", Function: FnQualification, Roles: everyone,
			Summary:  "Get a short-lived link to download a document that came with a declaration answer (whoever may see the request; once the scan found no threats)",
			Response: fileLink{}, Statuses: []int{409}, handle: func(c *call) (any, error) {
				id := c.path("requestId")
				r, err := c.s.Store.GetDeclarationRequest(c.r.Context(), id)
				if err != nil {
					return nil, err
				}
				scope := access.Scope{Providers: []string{r.ProviderID}}
				if access.NeedsScope(c.who()) {
					d, err := c.s.Store.GetDPS(c.r.Context(), r.DPSID)
					if err != nil {
						return nil, err
					}
					scope = access.DPSScope(d, r.ProviderID)
				}
				if err := access.Ask(c.who(), access.DeclarationRequest, access.Any, scope).Require(access.See, access.NotFound(access.DeclarationRequest, id)); err != nil {
					return nil, err
				}
				i := slices.IndexFunc(r.Documents, func(doc procurement.Document) bool { return doc.ID == c.path("documentId") })
				if i < 0 {
					return nil, access.NotFound(access.Attachment, c.path("documentId"))
				}
				if r.Documents[i].FileID == "" {
					return nil, procurement.Errorf(procurement.ECONFLICT, "document %s was recorded by its metadata only (SHA-256 %s); no file was uploaded for it", r.Documents[i].ID, r.Documents[i].SHA256)
				}
				return c.attachment(r.Documents[i].FileID, scope)
			}},
		{Method: "GET", Path: "/competitions/{competitionId}/bids/{providerId}/attachments", Function: FnCompetitions, Roles: everyone,
			Summary:  "The state of a bid's attachments (arrived or refused, malware scan) for whoever may see the bid (the bidder; after the opening, the running buyer's evaluators and the auditors), by file id",
			Response: documentFiles{}, Statuses: []int{409}, handle: func(c *call) (any, error) {
				comp, b, err := c.visibleBid()
				if err != nil {
					return nil, err
				}
				var docs []procurement.Document
				for _, crit := range slices.Sorted(maps.Keys(b.Attachments)) {
					for _, r := range b.Attachments[crit] {
						docs = append(docs, procurement.Document{ID: r.FileID, FileID: r.FileID})
					}
				}
				return c.documentFiles(docs, access.BidScope(comp, b.ProviderID))
			}},
		{Method: "GET", Path: "/competitions/{competitionId}/bids/{providerId}/attachments/{fileId}/content", Function: FnCompetitions, Roles: everyone,
			Summary:  "Get a short-lived link to download a bid's attachment (the bidder; the running buyer's evaluators and the auditors once the bids are opened)",
			Response: fileLink{}, Statuses: []int{409}, handle: func(c *call) (any, error) {
				comp, b, err := c.visibleBid()
				if err != nil {
					return nil, err
				}
				for _, refs := range b.Attachments {
					for _, r := range refs {
						if r.FileID == c.path("fileId") {
							return c.attachment(r.FileID, access.BidScope(comp, b.ProviderID))
						}
					}
				}
				return nil, access.NotFound(access.Attachment, c.path("fileId"))
			}},
	}
}

// visibleBid reads the bid of the path's provider in the path's
// competition, if the caller may see it (an officer only as an evaluator
// who declared no conflict of interest).
func (c *call) visibleBid() (*procurement.Competition, *procurement.Bid, error) {
	comp, err := c.s.Store.ReadCompetition(c.r.Context(), c.path("competitionId"))
	if err != nil {
		return nil, nil, err
	}
	prov := c.path("providerId")
	if err := c.bidMay(prov, access.See)(comp); err != nil {
		return nil, nil, err
	}
	if c.actor.Is(procurement.RoleOfficer) {
		if err := comp.CheckEvaluator(c.actor); err != nil {
			return nil, nil, err
		}
	}
	b, err := c.s.Store.GetBid(c.r.Context(), comp.ID, prov)
	if err != nil {
		return nil, nil, err
	}
	return comp, b, nil
}

// documentFile is the state of a document's uploaded file, as whoever may
// see the document may know it.
type documentFile struct {
	DocumentID string                 `json:"documentId"`
	FileID     string                 `json:"fileId"`
	Status     procurement.FileStatus `json:"status"`
	Scan       procurement.ScanStatus `json:"scan,omitempty"`
	ScanNote   string                 `json:"scanNote,omitempty"`
	// Readable says whether the caller may download it now.
	Readable bool `json:"readable"`
}

type documentFiles struct {
	Items []documentFile `json:"items"`
}

// documentFiles reads the files of documents (one BatchGetItem) and
// answers the state of each the caller may know of.
func (c *call) documentFiles(docs []procurement.Document, scope access.Scope) (any, error) {
	var ids []string
	for _, d := range docs {
		if d.FileID != "" {
			ids = append(ids, d.FileID)
		}
	}
	fs, err := c.s.Store.Files(c.r.Context(), ids...)
	if err != nil {
		return nil, err
	}
	out := documentFiles{Items: []documentFile{}}
	for _, d := range docs {
		f := fs[d.FileID]
		if f == nil {
			continue
		}
		v := access.AskAttachment(c.who(), f, scope)
		if !v.Can(access.Know) {
			continue
		}
		out.Items = append(out.Items, documentFile{DocumentID: d.ID, FileID: f.ID, Status: f.Status, Scan: f.Scan, ScanNote: f.ScanNote,
			Readable: f.Status == procurement.FileArrived && v.Can(access.See)})
	}
	return out, nil
}

// ownFile reads a file reached by its own id: the uploader's alone.
func (c *call) ownFile(need access.Ability) (*procurement.File, error) {
	id := c.path("fileId")
	f, err := c.s.Store.GetFile(c.r.Context(), id)
	if err != nil {
		return nil, access.NotFound(access.File, id)
	}
	if err := fileVerdict(access.AskFile(c.who(), f), f, need); err != nil {
		return nil, err
	}
	return f, nil
}

// attachment answers a link to a file attached to a record the caller may
// see, if the file's scan state lets the caller read it.
func (c *call) attachment(id string, scope access.Scope) (any, error) {
	f, err := c.s.Store.GetFile(c.r.Context(), id)
	if err != nil {
		return nil, access.NotFound(access.Attachment, id)
	}
	if err := fileVerdict(access.AskAttachment(c.who(), f, scope), f, access.See); err != nil {
		return nil, err
	}
	return c.link(f)
}

// fileVerdict tells a caller who may know of the file why it cannot be
// read now: its upload or scan status.
func fileVerdict(v access.Verdict, f *procurement.File, need access.Ability) error {
	if v.Can(need) {
		return nil
	}
	if !v.Can(access.Know) {
		return access.NotFound(v.Entity, f.ID)
	}
	switch {
	case f.Status == procurement.FileAwaiting:
		return procurement.Errorf(procurement.ECONFLICT, "file %s has not arrived: PUT its bytes to the upload URL, then confirm (POST /files/%s/arrival)", f.ID, f.ID)
	case f.Status == procurement.FileRefused:
		return procurement.Errorf(procurement.ECONFLICT, "file %s was refused on arrival: %s", f.ID, f.Refusal)
	case f.Scan == procurement.ScanThreat:
		return procurement.Errorf(procurement.ECONFLICT, "file %s carries malware: the scan found threats (%s); it cannot be downloaded", f.ID, f.ScanNote)
	case f.Scan == procurement.ScanFailed:
		return procurement.Errorf(procurement.ECONFLICT, "file %s could not be scanned for malware (%s); only its uploader can read it; ask for it in another format", f.ID, f.ScanNote)
	case f.Scan == procurement.ScanPending:
		return procurement.Errorf(procurement.ECONFLICT, "file %s is being scanned for malware; it can be read once the scan found no threats (usually within minutes)", f.ID)
	}
	return v.Require(need, access.NotFound(v.Entity, f.ID))
}

func (c *call) link(f *procurement.File) (any, error) {
	if f.Status != procurement.FileArrived {
		return nil, fileVerdict(access.Verdict{Entity: access.File, Allowed: access.Know}, f, access.See)
	}
	b, err := c.bucket()
	if err != nil {
		return nil, err
	}
	l, err := b.SignGet(c.r.Context(), f, c.s.Store.Now())
	if err != nil {
		return nil, procurement.Internal(err)
	}
	return fileLink{File: *f, Link: l}, nil
}

// ArriveFile checks what the bucket holds for a file against its
// declaration and settles the file: arrived, or refused (and its object
// deleted). owner, when set, is the caller's organisation: a file of
// another is not found. It costs one HeadObject and one ranged GetObject
// (locally the whole object, to compute its digest), and one DynamoDB
// round trip (see Store.SettleFile); a file already settled is returned
// as it is.
func (s *Server) ArriveFile(ctx context.Context, actor procurement.Actor, id, owner string) (*procurement.File, error) {
	f, _, err := s.arriveFile(ctx, actor, id, owner)
	return f, err
}

// replayedFile answers a keyed confirmation of a file already settled: the
// result stored with the key, if a request with it settled the file; the
// file as it is otherwise.
func (c *call) replayedFile(f *procurement.File) (any, error) {
	rec, err := c.s.Store.ReadIdempotency(c.r.Context(), c.actor.Org, c.idem.key)
	if err != nil || rec == nil {
		return f, err
	}
	if rec.Request != c.idem.digest {
		return nil, dynamo.KeyReused()
	}
	var stored procurement.File
	if len(rec.Items) != 1 || json.Unmarshal(rec.Items[0], &stored) != nil {
		return nil, procurement.Internal(fmt.Errorf("the idempotency record of a file holds %d items", len(rec.Items)))
	}
	c.w.Header().Set("Idempotent-Replayed", "true")
	return &stored, nil
}

func (s *Server) arriveFile(ctx context.Context, actor procurement.Actor, id, owner string) (*procurement.File, bool, error) {
	o, err := s.Files.Inspect(ctx, id)
	if err != nil {
		return nil, false, &procurement.Error{Code: procurement.EUNAVAILABLE, Message: "the documents bucket did not answer; confirm again in a moment", Err: err}
	}
	hidden := access.NotFound(access.File, id)
	if !o.Found {
		f, err := s.Store.GetFile(ctx, id)
		if err != nil || (owner != "" && f.Owner != owner) {
			return nil, false, hidden
		}
		if f.Status == procurement.FileAwaiting {
			return nil, false, procurement.Errorf(procurement.ECONFLICT, "the bytes of file %s have not arrived: PUT them to the upload URL first (with exactly the headers it came with), then confirm", id)
		}
		return f, false, nil
	}
	if owner != "" && o.Declared != nil && o.Declared.Owner != owner {
		return nil, false, hidden
	}
	now := s.Store.Now()
	f, settled, err := s.Store.SettleFile(ctx, actor, id, o.Declared, func(f *procurement.File) error {
		if owner != "" && f.Owner != owner {
			return hidden
		}
		if why := files.Check(f, o, s.Files.MaxBytes); why != "" {
			f.Status, f.Refusal = procurement.FileRefused, why
			return nil
		}
		files.Measure(f, o)
		f.Status, f.ArrivedAt = procurement.FileArrived, &now
		switch {
		case f.ScannedAt != nil:
			// GuardDuty's result came before the arrival was settled.
		case s.Files.Scanning:
			f.Scan = procurement.ScanPending
		default:
			f.Scan, f.ScanNote = procurement.ScanNone, procurement.ScanNoneNote
		}
		return nil
	})
	if procurement.ErrorCode(err) == procurement.ENOTFOUND {
		return nil, false, hidden
	}
	if err != nil {
		return nil, false, err
	}
	if f.Status == procurement.FileRefused {
		// Nothing refused is kept (also when the same URL is used again).
		if err := s.Files.Delete(ctx, id, o.VersionID); err != nil {
			s.Log.Error("delete a refused file", "file", id, "err", err)
		}
	}
	return f, settled, nil
}

// attachDocuments binds documents that name uploaded files to those files:
// each must be the caller's, arrived and free of threats; the document
// then carries the digest, type and size verified on arrival. One
// BatchGetItem when any document names a file, none otherwise.
func (c *call) attachDocuments(field string, groups ...[]procurement.Document) error {
	var ids []string
	for _, docs := range groups {
		for _, d := range docs {
			if d.FileID != "" {
				ids = append(ids, d.FileID)
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	fs, err := c.s.Store.Files(c.r.Context(), ids...)
	if err != nil {
		return err
	}
	for g, docs := range groups {
		for i := range docs {
			if docs[i].FileID == "" {
				continue
			}
			f := fmt.Sprintf("%s[%d]", field, i)
			if g > 0 {
				f = fmt.Sprintf("members[%d].documents[%d]", g-1, i)
			}
			file := fs[docs[i].FileID]
			if err := file.CheckAttachable(f+".fileId", c.actor.Org); err != nil {
				return err
			}
			if err := docs[i].AttachFile(f, file); err != nil {
				return err
			}
		}
	}
	return nil
}

// attachRefs binds a bid's attachments to the uploaded files, as
// attachDocuments does.
func (c *call) attachRefs(field string, refs map[string][]procurement.FileRef) error {
	var ids []string
	for _, rs := range refs {
		for _, r := range rs {
			ids = append(ids, r.FileID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	fs, err := c.s.Store.Files(c.r.Context(), ids...)
	if err != nil {
		return err
	}
	for crit, rs := range refs {
		for i := range rs {
			f := fs[rs[i].FileID]
			if err := f.CheckAttachable(fmt.Sprintf("%s.%s[%d].fileId", field, crit, i), c.actor.Org); err != nil {
				return err
			}
			rs[i].Fill(f)
		}
	}
	return nil
}

// completeEntity fills in, for a replay, what the stored entities do not
// hold: a signed upload's URL is signed again (for the same declaration).
func (s *Server) completeEntity(ctx context.Context, v any) error {
	if u, ok := v.(*fileUpload); ok {
		if s.Files == nil {
			return fmt.Errorf("no documents bucket")
		}
		up, err := s.Files.Sign(ctx, &u.File)
		u.Upload = up
		return err
	}
	return s.Store.CompleteEntity(ctx, v)
}
