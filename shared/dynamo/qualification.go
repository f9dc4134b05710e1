package dynamo

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rengas/rengas/shared/audit"
	"github.com/rengas/rengas/shared/ocds"
	"github.com/rengas/rengas/shared/procurement"
)

// decodeAs decodes an item into a new T; a missing item is ENOTFOUND.
func decodeAs[T any](m map[string]types.AttributeValue, what string) (*T, error) {
	if m == nil {
		return nil, procurement.Errorf(procurement.ENOTFOUND, "%s not found", what)
	}
	v := new(T)
	if err := decode(m, v); err != nil {
		return nil, procurement.Internal(err)
	}
	return v, nil
}

// membershipShards is the number of membership versions of a category;
// publication checks them all in its transaction (with room to spare
// under DynamoDB's 100 actions).
const membershipShards = 64

// bump increments the membership version of a category, on the shard of
// the provider: admissions and suspensions of different providers rarely
// touch the same item. Publishing a mini-competition checks every shard,
// so the invitee list it froze cannot miss an admission or suspension
// committed at the same moment.
func (s *Store) bump(dps, cat, prov string) write {
	return write{tw: types.TransactWriteItem{Update: &types.Update{
		TableName: &s.table, Key: membershipKey(dps, cat, shardOf(prov, membershipShards)).av(),
		UpdateExpression:          aws.String("ADD version :one"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1)},
	}}}
}

// CreateDPS stores a new DPS and starts its audit chain.
func (s *Store) CreateDPS(ctx context.Context, actor procurement.Actor, d *procurement.DPS) error {
	d.CreatedAt = s.Now()
	if d.ID == "" {
		d.ID = s.NewID()
	}
	d.Version = 1
	it := entity(dpsKey(d.ID), "dps", 0, d)
	it.GSI[0] = key{ringPartition, "DPS#" + d.ID}
	writes := []write{s.putVersion(it, 0, fmt.Sprintf("a DPS with id %q already exists", d.ID))}
	for _, c := range d.Categories {
		cat := item{key: categoryKey(d.ID, c.ID), Type: "category", Data: []byte("{}")}
		writes = append(writes, s.putNew(cat, "category already exists"))
	}
	writes = append(writes, s.ReleaseWrite(ocds.DPSTender(d, fmt.Sprintf("%04d", d.Version), d.CreatedAt), d.CreatedAt)) // the DPS's call, as OCDS
	_, err := s.commit(ctx, nil, Change{Actor: actor, Chain: DPSChain(d.ID), Action: "dps.created",
		EntityType: "dps", EntityID: d.ID, State: d, Summary: d.Title}, writes...)
	return err
}

// GetDPS returns a DPS. Errors: ENOTFOUND.
func (s *Store) GetDPS(ctx context.Context, id string) (*procurement.DPS, error) {
	m, err := s.get(ctx, dpsKey(id))
	if err != nil {
		return nil, err
	}
	return decodeAs[procurement.DPS](m, "DPS "+id)
}

// ListDPS pages through the DPSs of the ring.
func (s *Store) ListDPS(ctx context.Context, cursor string, limit int) (Page[procurement.DPS], error) {
	return queryPage[procurement.DPS](ctx, s, query{index: &GSI1, pk: ringPartition, cursor: cursor, limit: limit})
}

// RegisterProvider stores a provider. A business ID can be registered only
// once. Errors: ECONFLICT if the organisation or business ID exists.
func (s *Store) RegisterProvider(ctx context.Context, actor procurement.Actor, p *procurement.Provider) error {
	p.CreatedAt, p.Version = s.Now(), 1
	claim := item{key: businessIDKey(p.BusinessID), Type: "businessid", Data: []byte(`{"provider":"` + p.ID + `"}`)}
	// A new chain: no head to read, and no other registration touches it.
	_, err := s.commit(ctx, &audit.Head{}, Change{Actor: actor, Chain: ProviderChain(p.ID), Action: "provider.registered",
		EntityType: "provider", EntityID: p.ID, State: p, Summary: p.Name + " " + p.BusinessID},
		s.putVersion(entity(providerKey(p.ID), "provider", 0, p), 0, "your organisation is already registered; update it instead"),
		s.putNew(claim, "business ID "+p.BusinessID+" is already registered to another provider"))
	return err
}

// GetProvider returns a provider. Errors: ENOTFOUND.
func (s *Store) GetProvider(ctx context.Context, id string) (*procurement.Provider, error) {
	m, err := s.get(ctx, providerKey(id))
	if err != nil {
		return nil, err
	}
	return decodeAs[procurement.Provider](m, "provider "+id)
}

func (s *Store) applicationItem(a *procurement.Application) item {
	it := entity(applicationKey(a.ID), "application", 0, a)
	sortDay := a.DueOn
	if a.Status == procurement.StatusInfoRequested {
		// Paused clocks sort after running ones, oldest request first.
		sortDay = "~" + a.InfoRequests[len(a.InfoRequests)-1].RequestedAt.UTC().Format("2006-01-02T15:04:05")
	}
	it.GSI[0] = key{applicationsByStatus(a.DPSID, string(a.Status)), sortDay + "#" + a.ID}
	it.GSI[1] = key{providerPartition(a.ProviderID), "APP#" + a.ReceivedAt.UTC().Format("2006-01-02T15:04:05.000000") + "#" + a.ID}
	return it
}

func (s *Store) documentWrites(a *procurement.Application, docs []procurement.Document) []write {
	var ws []write
	for _, d := range docs {
		it := entity(documentKey(a.ID, d.ID), "document", 1, documentRecord{Document: d, ApplicationID: a.ID, ProviderID: a.ProviderID, DPSID: a.DPSID})
		if d.ExpiresOn != "" {
			it.GSI[2] = key{expiringDocuments(a.DPSID), d.ExpiresOn + "#" + a.ID + "#" + d.ID}
		}
		ws = append(ws, s.putNew(it, "document "+d.ID+" is already attached to the application; give new documents new ids"))
	}
	return ws
}

type documentRecord struct {
	procurement.Document
	ApplicationID string `json:"applicationId"`
	ProviderID    string `json:"providerId"`
	DPSID         string `json:"dpsId"`
}

// ExpiringDocument is a document with its expiry and owner.
type ExpiringDocument = documentRecord

// maxTransactItems is DynamoDB's limit on items in one transaction; two
// are taken by the audit event and the chain head, one by the record of
// an Idempotency-Key.
const maxTransactItems = 100

// SubmitApplication checks an application against the DPS and stores it,
// with its documents, in one transaction. Errors: EINVALID, ENOTFOUND,
// ECONFLICT.
func (s *Store) SubmitApplication(ctx context.Context, actor procurement.Actor, dpsID string, a *procurement.Application) error {
	got, err := s.getMany(ctx, dpsKey(dpsID), providerKey(actor.Org))
	if err != nil {
		return err
	}
	d, err := decodeAs[procurement.DPS](got[dpsKey(dpsID)], "DPS "+dpsID)
	if err != nil {
		return err
	}
	p, err := decodeAs[procurement.Provider](got[providerKey(actor.Org)], "provider")
	if err != nil {
		return procurement.Errorf(procurement.ECONFLICT, "register your organisation (POST /providers) before applying")
	}
	a.ID = s.NewID()
	if err := procurement.NewApplication(d, p, a, s.Now()); err != nil {
		return err
	}
	docs := a.AllDocuments()
	if len(docs)+4 > maxTransactItems {
		return procurement.Invalid("documents", "attach at most %d documents in one application", maxTransactItems-4)
	}
	a.Version = 1
	writes := append([]write{s.putVersion(s.applicationItem(a), 0, "application exists")}, s.documentWrites(a, docs)...)
	// The application's own chain starts here: it has no head yet.
	_, err = s.commit(ctx, &audit.Head{}, Change{Actor: actor, Chain: ApplicationChain(a.ID), Action: "application.received",
		EntityType: "application", EntityID: a.ID, State: a, Subject: a.ID,
		Summary: fmt.Sprintf("%s applied to %s", p.Name, strings.Join(a.Categories, ", "))}, writes...)
	return err
}

// GetApplication returns an application of the DPS, and the DPS, in one
// round trip. Errors: ENOTFOUND.
func (s *Store) GetApplication(ctx context.Context, dpsID, id string) (*procurement.Application, *procurement.DPS, error) {
	got, err := s.getMany(ctx, applicationKey(id), dpsKey(dpsID))
	if err != nil {
		return nil, nil, err
	}
	a, err := decodeAs[procurement.Application](got[applicationKey(id)], "application "+id)
	if err != nil || a.DPSID != dpsID {
		return nil, nil, procurement.Errorf(procurement.ENOTFOUND, "application %s not found in DPS %s", id, dpsID)
	}
	d, err := decodeAs[procurement.DPS](got[dpsKey(dpsID)], "DPS "+dpsID)
	return a, d, err
}

// ApplicationUpdate applies a domain rule to an application. It returns the
// audit action and summary, and may add writes (e.g. an admission).
type ApplicationUpdate func(a *procurement.Application, d *procurement.DPS) (action, summary string, extra []Write, err error)

// UpdateApplication loads an application, its DPS and its chain's head in one
// round trip, asks may, applies fn and writes the result in a second, on
// condition that the application is still at version. may runs before any
// answer that depends on the application. Errors: ENOTFOUND, ECONFLICT
// (stale version), and whatever may and fn return.
func (s *Store) UpdateApplication(ctx context.Context, actor procurement.Actor, dpsID, id string, version int, may func(*procurement.Application, *procurement.DPS) error, fn ApplicationUpdate) (*procurement.Application, error) {
	got, err := s.getMany(ctx, applicationKey(id), dpsKey(dpsID), chainHeadKey(ApplicationChain(id)))
	if err != nil {
		return nil, err
	}
	a, err := decodeAs[procurement.Application](got[applicationKey(id)], "application "+id)
	if err != nil || a.DPSID != dpsID {
		return nil, procurement.Errorf(procurement.ENOTFOUND, "application %s not found in DPS %s", id, dpsID)
	}
	d, err := decodeAs[procurement.DPS](got[dpsKey(dpsID)], "DPS "+dpsID)
	if err != nil {
		return nil, err
	}
	if err := may(a, d); err != nil {
		return nil, err
	}
	if a.Version != version {
		return nil, procurement.Errorf(procurement.ECONFLICT, "%s", staleVersion(fmt.Sprintf("the application (you sent version %d, it is at %d)", version, a.Version)))
	}
	action, summary, extra, err := fn(a, d)
	if err != nil {
		return nil, err
	}
	a.Version = version + 1
	head := headFrom(got[chainHeadKey(ApplicationChain(id))])
	writes := append([]write{s.putVersion(s.applicationItem(a), version, staleVersion("the application"))}, extra...)
	_, err = s.commit(ctx, &head, Change{Actor: actor, Chain: ApplicationChain(id), Action: action,
		EntityType: "application", EntityID: a.ID, State: a, Summary: summary, Subject: a.ID}, writes...)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Decide records a decision on one category; an admission also creates the
// provider's admission in the category. Errors: as UpdateApplication.
func (s *Store) Decide(ctx context.Context, actor procurement.Actor, dpsID, id string, version int, category string, outcome procurement.Outcome, reason string, may func(*procurement.Application, *procurement.DPS) error) (*procurement.Application, error) {
	return s.UpdateApplication(ctx, actor, dpsID, id, version, may, func(a *procurement.Application, d *procurement.DPS) (string, string, []write, error) {
		now := s.Now()
		if err := a.Decide(actor, category, outcome, reason, now); err != nil {
			return "", "", nil, err
		}
		extra := []write{s.notifyAbout(a.ProviderID, "application.decided", a.ID, d.Title,
			fmt.Sprintf("Decision on your application to %s, category %s: %s", d.Title, category, outcome))}
		if outcome == procurement.OutcomeAdmitted {
			ad := procurement.Admit(a, category, actor, now)
			ad.Version = 1
			it := s.admissionItem(ad)
			it.Ver = 1
			extra = append(extra, write{tw: types.TransactWriteItem{Put: &types.Put{
				TableName: &s.table, Item: it.av(),
				// A provider excluded earlier may be admitted again on a new application.
				ConditionExpression:       aws.String("attribute_not_exists(PK) OR #st = :excluded"),
				ExpressionAttributeNames:  map[string]string{"#st": "status"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":excluded": str(string(procurement.AdmissionExcluded))},
			}}, conflict: "the provider is already admitted (or suspended) in category " + category + "; see its admission"},
				s.bump(dpsID, category, a.ProviderID), s.admissionRelease(d, ad))
		}
		return "application." + string(outcome), category + ": " + string(outcome), extra, nil
	})
}

func (s *Store) admissionItem(ad *procurement.Admission) item {
	it := entity(admissionKey(ad.DPSID, ad.Category, ad.ProviderID), "admission", 0, ad)
	it.GSI[1] = key{providerPartition(ad.ProviderID), "ADM#" + ad.DPSID + "#" + ad.Category}
	it.Extras = map[string]types.AttributeValue{"status": str(string(ad.Status))}
	return it
}

// ListApplications pages through the applications of a DPS with a status,
// earliest decision deadline first: overdue and due-soon ones lead.
func (s *Store) ListApplications(ctx context.Context, dpsID string, status procurement.ApplicationStatus, cursor string, limit int) (Page[procurement.Application], error) {
	return queryPage[procurement.Application](ctx, s, query{index: &GSI1, pk: applicationsByStatus(dpsID, string(status)), cursor: cursor, limit: limit})
}

// ListProviderApplications pages through a provider's applications, newest first.
func (s *Store) ListProviderApplications(ctx context.Context, providerID, cursor string, limit int) (Page[procurement.Application], error) {
	return queryPage[procurement.Application](ctx, s, query{index: &GSI2, pk: providerPartition(providerID), skBegin: "APP#", desc: true, cursor: cursor, limit: limit})
}

// ListExpiringDocuments pages through the documents of a DPS's applications
// that expire on or before the day, soonest first (expired ones included).
func (s *Store) ListExpiringDocuments(ctx context.Context, dpsID, until, cursor string, limit int) (Page[ExpiringDocument], error) {
	return queryPage[ExpiringDocument](ctx, s, query{index: &GSI3, pk: expiringDocuments(dpsID), skTo: until + "#~", cursor: cursor, limit: limit})
}

// GetAdmission returns a provider's admission in a category. Errors: ENOTFOUND.
func (s *Store) GetAdmission(ctx context.Context, dpsID, cat, prov string) (*procurement.Admission, error) {
	m, err := s.get(ctx, admissionKey(dpsID, cat, prov))
	if err != nil {
		return nil, err
	}
	return decodeAs[procurement.Admission](m, "admission of provider "+prov+" in category "+cat)
}

// ListAdmissions pages through the admissions of a category.
func (s *Store) ListAdmissions(ctx context.Context, dpsID, cat, cursor string, limit int) (Page[procurement.Admission], error) {
	return queryPage[procurement.Admission](ctx, s, query{pk: categoryKey(dpsID, cat).PK, skBegin: "ADM#", cursor: cursor, limit: limit})
}

// ListProviderAdmissions pages through a provider's admissions.
func (s *Store) ListProviderAdmissions(ctx context.Context, prov, cursor string, limit int) (Page[procurement.Admission], error) {
	return queryPage[procurement.Admission](ctx, s, query{index: &GSI2, pk: providerPartition(prov), skBegin: "ADM#", cursor: cursor, limit: limit})
}

// SetAdmissionStatus suspends, reinstates or excludes a provider in a
// category. may is asked with the DPS before the admission is looked up.
// Errors: ENOTFOUND, ECONFLICT, EINVALID.
func (s *Store) SetAdmissionStatus(ctx context.Context, actor procurement.Actor, dpsID, cat, prov string, version int, to procurement.AdmissionStatus, reason string, may func(*procurement.DPS) error) (*procurement.Admission, error) {
	chain := AdmissionChain(dpsID, cat, prov)
	got, err := s.getMany(ctx, admissionKey(dpsID, cat, prov), dpsKey(dpsID), chainHeadKey(chain))
	if err != nil {
		return nil, err
	}
	d, err := decodeAs[procurement.DPS](got[dpsKey(dpsID)], "DPS "+dpsID)
	if err != nil {
		return nil, err
	}
	if err := may(d); err != nil {
		return nil, err
	}
	ad, err := decodeAs[procurement.Admission](got[admissionKey(dpsID, cat, prov)], "admission of provider "+prov+" in category "+cat)
	if err != nil {
		return nil, err
	}
	if ad.Version != version {
		return nil, procurement.Errorf(procurement.ECONFLICT, "%s", staleVersion(fmt.Sprintf("the admission (you sent version %d, it is at %d)", version, ad.Version)))
	}
	if err := ad.SetStatus(actor, to, reason, s.Now()); err != nil {
		return nil, err
	}
	ad.Version = version + 1
	head := headFrom(got[chainHeadKey(chain)])
	// The admission was created by a decision on its application (in the
	// application's chain); its trail continues under that application.
	_, err = s.commit(ctx, &head, Change{Actor: actor, Chain: chain, Action: "admission." + string(to), Subject: ad.ApplicationID,
		EntityType: "admission", EntityID: dpsID + "/" + cat + "/" + prov, State: ad, Summary: ad.Provider.Name + " " + string(to) + " in " + cat},
		s.putVersion(s.admissionItem(ad), version, staleVersion("the admission")),
		s.bump(dpsID, cat, prov), s.admissionRelease(d, ad),
		s.notify(prov, "admission."+string(to), dpsID+"/"+cat, fmt.Sprintf("Your admission in category %s is now %s: %s", cat, to, reason)))
	if err != nil {
		return nil, err
	}
	return ad, nil
}

// MaxDeclarationRequests is how many providers one call may ask for a
// renewed self-declaration. Each request is written with its notification,
// the first event of its own chain and that chain's head: four actions,
// and DynamoDB takes at most 100 in one transaction.
const MaxDeclarationRequests = maxTransactItems / 4

// RequestDeclarations asks providers for renewed self-declarations, all in
// one transaction. Each request starts a chain of its own, so that the
// request and its answer are one trail and no two requests share a head.
// Errors: ENOTFOUND (a provider), EINVALID (too many providers).
func (s *Store) RequestDeclarations(ctx context.Context, actor procurement.Actor, dpsID string, providers []string, message, dueOn string, may func(*procurement.DPS) error) ([]procurement.DeclarationRequest, error) {
	if len(providers) > MaxDeclarationRequests {
		return nil, procurement.Invalid("providerIds", "name at most %d providers in one request (you named %d); send the others in further requests", MaxDeclarationRequests, len(providers))
	}
	keys := []key{dpsKey(dpsID)}
	for _, p := range providers {
		keys = append(keys, providerKey(p))
	}
	got, err := s.getMany(ctx, keys...)
	if err != nil {
		return nil, err
	}
	d, err := decodeAs[procurement.DPS](got[dpsKey(dpsID)], "DPS "+dpsID)
	if err != nil {
		return nil, err
	}
	if err := may(d); err != nil {
		return nil, err
	}
	now := s.Now()
	if err := procurement.CheckDue(d.Settings, dueOn, now); err != nil {
		return nil, err
	}
	var probs procurement.Problems
	var reqs []procurement.DeclarationRequest
	var writes []write
	for i, p := range providers {
		if got[providerKey(p)] == nil {
			probs.Add(fmt.Sprintf("providerIds[%d]", i), "no provider %q is registered", p)
			continue
		}
		r := procurement.DeclarationRequest{ID: s.NewID(), DPSID: dpsID, ProviderID: p, Message: message, DueOn: dueOn,
			RequestedBy: actor.UserID, RequestedAt: now, Version: 1}
		reqs = append(reqs, r)
		writes = append(writes, s.putNew(s.declItem(&r), "request exists"),
			s.notify(p, "declaration.requested", r.ID, "Renewed self-declaration requested by "+dueOn+": "+message))
	}
	if err := probs.Err(); err != nil {
		return nil, err
	}
	changes := make([]chained, len(reqs))
	for i := range reqs {
		changes[i] = chained{&audit.Head{}, Change{Actor: actor, Chain: DeclarationChain(reqs[i].ID), Action: "declaration.requested",
			EntityType: "declaration_request", EntityID: reqs[i].ID, State: reqs[i], Summary: fmt.Sprintf("%s, due %s", reqs[i].ProviderID, dueOn)}}
	}
	_, err = s.commitChains(ctx, changes, writes...)
	return reqs, err
}

func (s *Store) declItem(r *procurement.DeclarationRequest) item {
	it := entity(declRequestKey(r.ID), "declrequest", r.Version, r)
	it.GSI[0] = key{declRequests(r.DPSID), r.DueOn + "#" + r.ID}
	it.GSI[1] = key{providerPartition(r.ProviderID), "DECL#" + r.RequestedAt.UTC().Format("2006-01-02T15:04:05.000000") + "#" + r.ID}
	return it
}

// GetDeclarationRequest returns a request. Errors: ENOTFOUND.
func (s *Store) GetDeclarationRequest(ctx context.Context, id string) (*procurement.DeclarationRequest, error) {
	m, err := s.get(ctx, declRequestKey(id))
	if err != nil {
		return nil, err
	}
	return decodeAs[procurement.DeclarationRequest](m, "declaration request "+id)
}

// AnswerDeclaration records a provider's renewed self-declaration.
// Errors: ENOTFOUND, ECONFLICT, EINVALID.
func (s *Store) AnswerDeclaration(ctx context.Context, actor procurement.Actor, id string, version int, decl procurement.Declaration, docs []procurement.Document, may func(*procurement.DeclarationRequest) error) (*procurement.DeclarationRequest, error) {
	r, err := s.GetDeclarationRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := may(r); err != nil {
		return nil, err
	}
	if r.Version != version {
		return nil, procurement.Errorf(procurement.ECONFLICT, "%s", staleVersion("the declaration request"))
	}
	got, err := s.getMany(ctx, dpsKey(r.DPSID), chainHeadKey(DeclarationChain(r.ID)))
	if err != nil {
		return nil, err
	}
	d, err := decodeAs[procurement.DPS](got[dpsKey(r.DPSID)], "DPS")
	if err != nil {
		return nil, err
	}
	if err := r.AnswerWith(d, decl, docs, s.Now()); err != nil {
		return nil, err
	}
	r.Version = version + 1
	head := headFrom(got[chainHeadKey(DeclarationChain(r.ID))])
	applies := slices.ContainsFunc(decl.Exclusions, func(e procurement.ExclusionAnswer) bool { return *e.Applies })
	_, err = s.commit(ctx, &head, Change{Actor: actor, Chain: DeclarationChain(r.ID), Action: "declaration.answered",
		EntityType: "declaration_request", EntityID: r.ID, State: r, Summary: fmt.Sprintf("exclusion ground declared: %t", applies)},
		s.putVersion(s.declItem(r), version, staleVersion("the declaration request")))
	return r, err
}

// ListDeclarationRequests pages through a DPS's requests, earliest due first.
func (s *Store) ListDeclarationRequests(ctx context.Context, dpsID, cursor string, limit int) (Page[procurement.DeclarationRequest], error) {
	return queryPage[procurement.DeclarationRequest](ctx, s, query{index: &GSI1, pk: declRequests(dpsID), cursor: cursor, limit: limit})
}

// ListProviderDeclarationRequests pages through a provider's requests, newest first.
func (s *Store) ListProviderDeclarationRequests(ctx context.Context, prov, cursor string, limit int) (Page[procurement.DeclarationRequest], error) {
	return queryPage[procurement.DeclarationRequest](ctx, s, query{index: &GSI2, pk: providerPartition(prov), skBegin: "DECL#", desc: true, cursor: cursor, limit: limit})
}

// Notification is an outbox record for one organisation. GET
// /notifications lists them; the mail dispatcher (package mail) e-mails
// each to the organisation's users and contact address: the write that
// stores a notification also puts it on the mail queue (mail.go).
type Notification struct {
	ID   string `json:"id"`
	To   string `json:"to"`
	Kind string `json:"kind"`
	Ref  string `json:"ref"`
	// Subject names what the notification is about (a competition's or a
	// DPS's title), for mail subjects; empty when the kind says enough.
	Subject string `json:"subject,omitempty"`
	Message string `json:"message"`
	At      string `json:"at"`
}

func (s *Store) notify(org, kind, ref, message string) write {
	return s.notifyAbout(org, kind, ref, "", message)
}

func (s *Store) notifyAbout(org, kind, ref, subject, message string) write {
	now := s.Now().UTC()
	nt := Notification{ID: s.NewID(), To: org, Kind: kind, Ref: ref, Subject: subject, Message: message, At: now.Format("2006-01-02T15:04:05.000000Z")}
	return s.putNew(queueMail(entity(key{outboxPartition(org), nt.At + "#" + nt.ID}, "notification", 1, nt), nt), "notification exists")
}

// ListNotifications pages through an organisation's notifications, newest first.
func (s *Store) ListNotifications(ctx context.Context, org, cursor string, limit int) (Page[Notification], error) {
	return queryPage[Notification](ctx, s, query{pk: outboxPartition(org), desc: true, cursor: cursor, limit: limit})
}

// ListEvents pages through an audit chain from a sequence number.
func (s *Store) ListEvents(ctx context.Context, chain string, fromSeq int64, cursor string, limit int) (Page[audit.Event], error) {
	return queryPage[audit.Event](ctx, s, query{pk: chainHeadKey(chain).PK, skFrom: eventKey(chain, max(fromSeq, 1)).SK, skTo: "EV#~", cursor: cursor, limit: limit})
}

// ChainHead returns the head of an audit chain.
func (s *Store) ChainHead(ctx context.Context, chain string) (audit.Head, error) {
	return s.readHead(ctx, chain)
}
