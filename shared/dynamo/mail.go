package dynamo

// The e-mail side of the notification outbox: the mail queue (a sparse
// index over the notifications still to be mailed), the mail directory of
// each organisation (its users' addresses and languages) and what is known
// about each address (bounces, complaints, suppression). Package mail
// sends; this file only stores.
//
//	mail queue        GSI3 MAILQ#<shard> / <due>#<org>#<notification>   (on the notification item itself)
//	mail directory    ORG#<org>          MAILDIR                        attributes user:<id> = {email, lang, seen}
//	address           ADDR#<address>     STATE                          bounces, complaints, suppressed, last
//	dispatcher lease  MAILLEASE          LEASE                          owner, until

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rengas/rengas/shared/procurement"
)

// MailShards is the number of index partitions the mail queue is spread
// over, so that a fan-out to a thousand organisations does not write one
// index partition only.
const MailShards = 4

// Languages a recipient may read mail in.
var MailLanguages = []string{"fi", "sv", "en"}

func mailQueuePartition(n int) string { return fmt.Sprintf("MAILQ#%02d", n) }

func mailShard(org, id string) int {
	sum := sha256.Sum256([]byte(org + "#" + id))
	return int(sum[0]) % MailShards
}

// queueMail puts a notification item on the mail queue: the queue is the
// index entry (GSI3) of the notification itself, so a notification is
// queued by the very write that stores it, in the same transaction or
// batch, and nothing else is written. The dispatcher removes the entry
// when the notification is mailed.
func queueMail(it item, nt Notification) item {
	it.GSI[2] = key{mailQueuePartition(mailShard(nt.To, nt.ID)), nt.At + "#" + nt.To + "#" + nt.ID}
	return it
}

func mailDirKey(org string) key     { return key{"ORG#" + org, "MAILDIR"} }
func addressKey(addr string) key    { return key{"ADDR#" + NormalAddress(addr), "STATE"} }
func mailLeaseKey() key             { return key{"MAILLEASE", "LEASE"} }
func mailUserAttr(id string) string { return "user:" + id }

// NormalAddress is the form of an e-mail address that keys its state:
// trimmed and lower-cased.
func NormalAddress(addr string) string { return strings.ToLower(strings.TrimSpace(addr)) }

// MailUser is one user of an organisation as the mail directory knows them.
type MailUser struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Lang  string `json:"lang"`
	// Seen is when the user last signed in (RFC 3339, UTC), as recorded;
	// empty for entries recorded before sign-ins were stamped.
	Seen string `json:"seen,omitempty"`
}

// MailDirectory is whom an organisation's notifications are mailed to:
// its users and, for a provider, its contact address.
type MailDirectory struct {
	Org     string
	Users   []MailUser
	Contact string // the provider's contact address, if the organisation is a provider
}

// RecordMailUser records (or updates) a user's address and language in
// the organisation's mail directory, stamped with the time of the sign-in
// (s.Now): one conditional UpdateItem. The Cognito trigger calls it on
// every sign-in and confirmation (CognitoTrigger in package mail), the
// web function when a user signs in to the pages, the demo seed for the
// demo users. The condition keeps the latest sign-in: a delayed or
// repeated trigger older than the stamp recorded changes nothing (and is
// no error).
func (s *Store) RecordMailUser(ctx context.Context, org string, u MailUser) error {
	if s.ReadOnly {
		return errReadOnly
	}
	a, err := mail.ParseAddress(u.Email)
	if err != nil || a.Address != strings.TrimSpace(u.Email) {
		return procurement.Invalid("email", "is not an e-mail address; give one such as name@example.fi")
	}
	if !slices.Contains(MailLanguages, u.Lang) {
		return procurement.Invalid("lang", "must be one of fi, sv, en")
	}
	if org == "" || u.ID == "" {
		return procurement.Invalid("org", "the user and the organisation are required")
	}
	seen := s.Now().UTC().Format(time.RFC3339)
	s.calls.Add(1)
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: mailDirKey(org).av(),
		UpdateExpression:         aws.String("SET #u = :u, #t = :t"),
		ConditionExpression:      aws.String("attribute_not_exists(#u) OR attribute_not_exists(#u.#seen) OR #u.#seen <= :seen"),
		ExpressionAttributeNames: map[string]string{"#u": mailUserAttr(u.ID), "#t": "type", "#seen": "seen"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":u":    &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"email": str(a.Address), "lang": str(u.Lang), "seen": str(seen)}},
			":t":    str("maildir"),
			":seen": str(seen),
		},
	})
	if _, later := errors.AsType[*types.ConditionalCheckFailedException](err); later {
		return nil // a later sign-in is recorded already
	}
	if err != nil {
		return dbError(err)
	}
	return nil
}

// MailDirectories reads the directories of the organisations: for each,
// its directory item and its provider record (for the contact address),
// in BatchGetItems of 100 keys: 2 keys an organisation.
func (s *Store) MailDirectories(ctx context.Context, orgs []string) (map[string]MailDirectory, error) {
	var keys []key
	for _, o := range orgs {
		keys = append(keys, mailDirKey(o), providerKey(o))
	}
	got, err := s.getChunked(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make(map[string]MailDirectory, len(orgs))
	for _, o := range orgs {
		d := MailDirectory{Org: o}
		for name, v := range got[mailDirKey(o)] {
			id, ok := strings.CutPrefix(name, "user:")
			m, isMap := v.(*types.AttributeValueMemberM)
			if !ok || !isMap {
				continue
			}
			d.Users = append(d.Users, MailUser{ID: id, Email: attrString(m.Value, "email"), Lang: attrString(m.Value, "lang"), Seen: attrString(m.Value, "seen")})
		}
		slices.SortFunc(d.Users, func(a, b MailUser) int { return strings.Compare(a.ID, b.ID) })
		if m := got[providerKey(o)]; m != nil {
			if p, err := decodeAs[procurement.Provider](m, "provider "+o); err == nil {
				d.Contact = p.Contact.Email
			}
		}
		out[o] = d
	}
	return out, nil
}

// getChunked is getMany for any number of keys, 100 a request.
func (s *Store) getChunked(ctx context.Context, keys []key) (map[key]map[string]types.AttributeValue, error) {
	out := map[key]map[string]types.AttributeValue{}
	keys = slices.Compact(slices.SortedFunc(slices.Values(keys), func(a, b key) int {
		return strings.Compare(a.PK+"\x00"+a.SK, b.PK+"\x00"+b.SK)
	}))
	for chunk := range slices.Chunk(keys, 100) {
		got, err := s.getMany(ctx, chunk...)
		if err != nil {
			return nil, err
		}
		for k, v := range got {
			out[k] = v
		}
	}
	return out, nil
}

// AddressState is what is known about one e-mail address from the mail
// service's bounce and complaint events.
type AddressState struct {
	Address    string `json:"address"`
	Bounces    int64  `json:"bounces"`
	Complaints int64  `json:"complaints"`
	// Suppressed addresses are never mailed again: a permanent bounce or a
	// complaint.
	Suppressed bool   `json:"suppressed"`
	Last       string `json:"last,omitempty"` // the last event, as the mail service described it
}

// AddressStates reads the states of the addresses (100 a BatchGetItem);
// addresses never reported are absent.
func (s *Store) AddressStates(ctx context.Context, addrs []string) (map[string]AddressState, error) {
	keys := make([]key, len(addrs))
	for i, a := range addrs {
		keys[i] = addressKey(a)
	}
	got, err := s.getChunked(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := map[string]AddressState{}
	for _, a := range addrs {
		m := got[addressKey(a)]
		if m == nil {
			continue
		}
		sup, _ := m["suppressed"].(*types.AttributeValueMemberBOOL)
		out[NormalAddress(a)] = AddressState{Address: NormalAddress(a), Bounces: attrInt(m, "bounces"), Complaints: attrInt(m, "complaints"),
			Suppressed: sup != nil && sup.Value, Last: attrString(m, "last")}
	}
	return out, nil
}

// AddressEvent is a bounce or complaint reported for an address.
type AddressEvent struct {
	Address   string
	Complaint bool // a complaint; otherwise a bounce
	// Permanent bounces and complaints suppress the address.
	Suppress bool
	Detail   string
}

// RecordAddressEvent counts a bounce or complaint against the address, in
// one UpdateItem; a permanent bounce or a complaint suppresses it for
// good (nothing here lifts a suppression: an operator deletes the item).
func (s *Store) RecordAddressEvent(ctx context.Context, ev AddressEvent) error {
	if s.ReadOnly {
		return errReadOnly
	}
	if NormalAddress(ev.Address) == "" {
		return procurement.Invalid("address", "is empty")
	}
	counter := "bounces"
	if ev.Complaint {
		counter = "complaints"
	}
	expr := "ADD #c :one SET #last = :last, #t = :t"
	vals := map[string]types.AttributeValue{":one": num(1), ":last": str(s.Now().UTC().Format(time.RFC3339) + " " + ev.Detail), ":t": str("address")}
	if ev.Suppress {
		expr += ", suppressed = :yes"
		vals[":yes"] = &types.AttributeValueMemberBOOL{Value: true}
	}
	s.calls.Add(1)
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: addressKey(ev.Address).av(), UpdateExpression: &expr,
		ExpressionAttributeNames:  map[string]string{"#c": counter, "#last": "last", "#t": "type"},
		ExpressionAttributeValues: vals,
	})
	if err != nil {
		return dbError(err)
	}
	return nil
}

// QueuedMail is a notification on the mail queue, with what was mailed so far.
type QueuedMail struct {
	Notification
	key
	// Mailed are the addresses it was sent to (the sent markers).
	Mailed []string
	// Failed are the addresses the mail service refused for good.
	Failed   []string
	Attempts int
	raw      map[string]types.AttributeValue
}

// MailQueue reads up to limit queued notifications due by now, shard by
// shard (one Query per 100 notifications and shard, then one consistent
// BatchGetItem per 100 to confirm them), starting each minute
// at another shard so that a full shard does not starve the others.
func (s *Store) MailQueue(ctx context.Context, limit int) ([]QueuedMail, error) {
	var out []QueuedMail
	now := s.Now()
	due := deadlineKey(now) + "#~"
	for i := range MailShards {
		n := (i + int(now.Unix()/60)) % MailShards
		cursor := ""
		for len(out) < limit {
			items, next, err := s.query(ctx, query{index: &GSI3, pk: mailQueuePartition(n), skTo: due, cursor: cursor, limit: min(100, limit-len(out))})
			if err != nil {
				return nil, err
			}
			for _, m := range items {
				var nt Notification
				if err := decode(m, &nt); err != nil {
					return nil, procurement.Internal(err)
				}
				out = append(out, QueuedMail{Notification: nt, key: key{attrString(m, AttrPK), attrString(m, AttrSK)},
					Mailed: stringSet(m, "mailed"), Failed: stringSet(m, "mailFailed"), Attempts: int(attrInt(m, "mailAttempts")), raw: m})
			}
			if cursor = next; cursor == "" {
				break
			}
		}
	}
	return s.fresh(ctx, out, due)
}

// fresh re-reads the queued notifications from the table, strongly
// consistent (100 a BatchGetItem): the index may still show one that a
// run just took off the queue or moved to a later retry, and it must not
// be mailed again.
func (s *Store) fresh(ctx context.Context, queued []QueuedMail, due string) ([]QueuedMail, error) {
	keys := make([]key, len(queued))
	for i, q := range queued {
		keys[i] = q.key
	}
	got, err := s.getChunked(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := queued[:0]
	for _, q := range queued {
		m := got[q.key]
		if m == nil || attrString(m, GSI3.PK) == "" || attrString(m, GSI3.SK) > due {
			continue
		}
		q.Mailed, q.Failed, q.Attempts, q.raw = stringSet(m, "mailed"), stringSet(m, "mailFailed"), int(attrInt(m, "mailAttempts")), m
		out = append(out, q)
	}
	return out, nil
}

func stringSet(m map[string]types.AttributeValue, name string) []string {
	if v, ok := m[name].(*types.AttributeValueMemberSS); ok {
		return v.Value
	}
	return nil
}

// MailOutcome is what one dispatch did with one queued notification.
type MailOutcome struct {
	Mail QueuedMail
	// Sent and Failed are the addresses newly mailed and newly refused.
	Sent, Failed []string
	// RetryAt, if set, keeps the notification queued until then (some
	// addresses failed for now); otherwise it leaves the queue.
	RetryAt time.Time
}

// MarkMailed writes the outcomes, up to 100 in one TransactWriteItems:
// each notification gains its sent markers (the set of addresses mailed,
// written on the condition that its mail state is unchanged since it was
// read, so that two dispatchers never both record a send) and leaves the
// queue or moves to its retry time. An outcome whose condition fails (another dispatcher
// marked the same address first) is dropped and the rest written again.
func (s *Store) MarkMailed(ctx context.Context, outcomes []MailOutcome) error {
	if s.ReadOnly {
		return errReadOnly
	}
	for chunk := range slices.Chunk(outcomes, 100) {
		items := make([]types.TransactWriteItem, 0, len(chunk))
		for _, o := range chunk {
			items = append(items, s.markPut(o))
		}
		for attempt := 0; len(items) > 0; attempt++ {
			err := s.transact(ctx, items)
			if err == nil {
				break
			}
			tce, ok := errors.AsType[*types.TransactionCanceledException](err)
			if !ok {
				return err
			}
			var keep []types.TransactWriteItem
			for i, r := range tce.CancellationReasons {
				if c := aws.ToString(r.Code); c != "ConditionalCheckFailed" && i < len(items) {
					keep = append(keep, items[i])
				}
			}
			if attempt >= 3 {
				return procurement.Internal(fmt.Errorf("mark mailed: %w", err))
			}
			items = keep
		}
	}
	return nil
}

// markPut writes a notification item back with its new mail state. It is
// a Put of the whole item as the queue read it (the index projects every
// attribute, and nothing but the mail state ever changes on a
// notification), because the local engine does not apply REMOVE to index
// keys.
func (s *Store) markPut(o MailOutcome) types.TransactWriteItem {
	it := maps.Clone(o.Mail.raw)
	if mailed := union(o.Mail.Mailed, o.Sent); len(mailed) > 0 {
		it["mailed"] = &types.AttributeValueMemberSS{Value: mailed}
	}
	if failed := union(o.Mail.Failed, o.Failed); len(failed) > 0 {
		it["mailFailed"] = &types.AttributeValueMemberSS{Value: failed}
	}
	it["mailAttempts"] = num(int64(o.Mail.Attempts + 1))
	if o.RetryAt.IsZero() {
		delete(it, GSI3.PK)
		delete(it, GSI3.SK)
		it["mailDone"] = str(deadlineKey(s.Now()))
	} else {
		it[GSI3.SK] = str(deadlineKey(o.RetryAt) + "#" + o.Mail.To + "#" + o.Mail.ID)
	}
	// The markers of one notification are written on the condition that
	// its mail state is as this dispatcher read it (mailAttempts counts
	// the writes): if another dispatcher marked anything since, nothing
	// is written and the outcome is dropped.
	cond := "attribute_exists(PK) AND attribute_not_exists(mailAttempts)"
	var vals map[string]types.AttributeValue
	if o.Mail.Attempts > 0 {
		cond = "attribute_exists(PK) AND mailAttempts = :prev"
		vals = map[string]types.AttributeValue{":prev": num(int64(o.Mail.Attempts))}
	}
	return types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: it, ConditionExpression: &cond, ExpressionAttributeValues: vals}}
}

func union(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// TakeMailLease makes the caller the only dispatcher until the lease ends
// (one conditional PutItem); false if another dispatcher holds it.
func (s *Store) TakeMailLease(ctx context.Context, owner string, d time.Duration) (bool, error) {
	if s.ReadOnly {
		return false, errReadOnly
	}
	now := s.Now()
	it := mailLeaseKey().av()
	it["owner"], it["until"], it["type"] = str(owner), num(now.Add(d).UnixMilli()), str("lease")
	s.calls.Add(1)
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: it,
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR #until < :now"),
		ExpressionAttributeNames:  map[string]string{"#until": "until"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(now.UnixMilli())}})
	if _, held := errors.AsType[*types.ConditionalCheckFailedException](err); held {
		return false, nil
	}
	if err != nil {
		return false, dbError(err)
	}
	return true, nil
}

// ReleaseMailLease ends the caller's lease (one conditional DeleteItem).
func (s *Store) ReleaseMailLease(ctx context.Context, owner string) error {
	s.calls.Add(1)
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: mailLeaseKey().av(),
		ConditionExpression: aws.String("#owner = :me"), ExpressionAttributeNames: map[string]string{"#owner": "owner"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":me": str(owner)}})
	if _, gone := errors.AsType[*types.ConditionalCheckFailedException](err); gone {
		return nil
	}
	if err != nil {
		return dbError(err)
	}
	return nil
}

// Notify writes one notification to an organisation's outbox (and so on
// the mail queue) at once, outside any change: for tools and benchmarks;
// the procedures notify within their own transactions.
func (s *Store) Notify(ctx context.Context, org, kind, ref, message string) error {
	return s.transact(ctx, []types.TransactWriteItem{s.notify(org, kind, ref, message).tw})
}
