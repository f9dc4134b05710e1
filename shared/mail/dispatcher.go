package mail

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/rengas/rengas/shared/dynamo"
)

// Dispatcher e-mails the queued notifications.
type Dispatcher struct {
	Store   *dynamo.Store
	Sender  Sender
	Catalog *Catalog
	// From is the sender, e.g. "Rengas <rengas@lahti.example.fi>".
	From string
	// BaseURL is the public address of the pages, for the links.
	BaseURL string
	Log     *slog.Logger

	// Batch is how many notifications are sent before their sent markers
	// are written (in one TransactWriteItems): a crash between a send and
	// its marker repeats at most one batch's mail. Default 50.
	Batch int
	// MaxPerRun bounds the notifications one run reads. Default 1000.
	MaxPerRun int
	// Tries is how often one send is tried within a run, pausing Backoff,
	// then twice as long, between tries. Defaults 3 and 200 ms.
	Tries   int
	Backoff time.Duration
	// MaxAttempts is how many runs try a notification whose mail fails
	// for now before giving up (the next run waits a minute, then 2, 4,
	// ... up to 6 hours). Default 10, about 17 hours in all.
	MaxAttempts int
	// Parallel sends at once. Default 4.
	Parallel int
	// Owner names this dispatcher in the lease that keeps runs from
	// overlapping; Lease is how long a run may hold it. Default 5 minutes.
	Owner string
	Lease time.Duration
	// DirectoryMaxAge is how long a user stays in their organisation's
	// mail directory without signing in (the Cognito trigger stamps each
	// sign-in): older entries are not mailed, so that a user who left
	// and was disabled in Cognito stops receiving mail. Default 365 days.
	DirectoryMaxAge time.Duration

	once sync.Once
}

// Report says what one run did.
type Report struct {
	Notifications int `json:"notifications"`
	Sent          int `json:"sent"`
	// Failed are sends refused for good (the address or message).
	Failed int `json:"failed"`
	// Suppressed are addresses skipped after a permanent bounce or complaint.
	Suppressed int `json:"suppressed"`
	// Deferred notifications stay queued for a later retry.
	Deferred int `json:"deferred"`
	// GaveUp notifications failed for now too often and left the queue.
	GaveUp int `json:"gaveUp"`
	// NoRecipient notifications went to organisations with no address.
	NoRecipient int `json:"noRecipient"`
	// Stale are directory entries not mailed because the user has not
	// signed in for DirectoryMaxAge.
	Stale int `json:"staleUsers"`
	// RoundTrips are the DynamoDB requests of the run.
	RoundTrips int64 `json:"dynamoRoundTrips"`
	// Busy: another dispatcher held the lease; this run did nothing.
	Busy bool `json:"busy,omitempty"`
}

func (d *Dispatcher) defaults() {
	if d.Batch <= 0 {
		d.Batch = 50
	}
	if d.MaxPerRun <= 0 {
		d.MaxPerRun = 1000
	}
	if d.Tries <= 0 {
		d.Tries = 3
	}
	if d.Backoff <= 0 {
		d.Backoff = 200 * time.Millisecond
	}
	if d.MaxAttempts <= 0 {
		d.MaxAttempts = 10
	}
	if d.Parallel <= 0 {
		d.Parallel = 4
	}
	if d.Lease <= 0 {
		d.Lease = 5 * time.Minute
	}
	if d.DirectoryMaxAge <= 0 {
		d.DirectoryMaxAge = DefaultDirectoryMaxAge
	}
	if d.Owner == "" {
		d.Owner = d.Store.NewID()
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
}

// DefaultDirectoryMaxAge is how long a user who does not sign in stays a
// recipient of their organisation's mail.
const DefaultDirectoryMaxAge = 365 * 24 * time.Hour

// current drops the directory's users who have not signed in since the
// cutoff; entries recorded before sign-ins were stamped have no stamp
// and stay.
func current(dir dynamo.MailDirectory, cutoff time.Time) (dynamo.MailDirectory, int) {
	stale := 0
	users := dir.Users[:0:0]
	for _, u := range dir.Users {
		if t, err := time.Parse(time.RFC3339, u.Seen); err == nil && t.Before(cutoff) {
			stale++
			continue
		}
		users = append(users, u)
	}
	dir.Users = users
	return dir, stale
}

// RetryDelay is how long a notification waits after its nth failed run.
func RetryDelay(attempts int) time.Duration {
	return min(time.Minute<<min(attempts, 20), 6*time.Hour)
}

// Run e-mails what is queued and due. DynamoDB round trips: the lease (2),
// one Query per 100 notifications and shard and one BatchGetItem per 100
// to confirm them against the table, one BatchGetItem per 50
// organisations (directory and provider record), one per 100 addresses
// (their bounce and complaint state), one TransactWriteItems per Batch
// notifications.
func (d *Dispatcher) Run(ctx context.Context) (r Report, err error) {
	d.once.Do(d.defaults)
	start := d.Store.RoundTrips()
	defer func() { r.RoundTrips = d.Store.RoundTrips() - start }()
	// Each run holds the lease under a token of its own, so that two runs
	// of one dispatcher (a timer and a manual run) exclude each other too.
	owner := d.Owner + "/" + d.Store.NewID()
	ok, err := d.Store.TakeMailLease(ctx, owner, d.Lease)
	if err != nil || !ok {
		r.Busy = !ok
		return r, err
	}
	defer func() {
		if rerr := d.Store.ReleaseMailLease(context.WithoutCancel(ctx), owner); rerr != nil && err == nil {
			err = rerr
		}
	}()
	queue, err := d.Store.MailQueue(ctx, d.MaxPerRun)
	if err != nil || len(queue) == 0 {
		return r, err
	}
	r.Notifications = len(queue)
	var orgs []string
	for _, q := range queue {
		orgs = append(orgs, q.To)
	}
	slices.Sort(orgs)
	orgs = slices.Compact(orgs)
	dirs, err := d.Store.MailDirectories(ctx, orgs)
	if err != nil {
		return r, err
	}
	recipients := map[string][]Recipient{}
	var addrs []string
	cutoff := d.Store.Now().Add(-d.DirectoryMaxAge)
	for _, o := range orgs {
		dir, stale := current(dirs[o], cutoff)
		r.Stale += stale
		recipients[o] = Recipients(dir)
		for _, rc := range recipients[o] {
			addrs = append(addrs, rc.Address)
		}
	}
	states, err := d.Store.AddressStates(ctx, addrs)
	if err != nil {
		return r, err
	}
	for chunk := range slices.Chunk(queue, d.Batch) {
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < 10*time.Second {
			break // the rest waits for the next run; none of it was sent
		}
		outcomes := d.send(ctx, chunk, recipients, states, &r)
		if err := d.Store.MarkMailed(ctx, outcomes); err != nil {
			return r, err
		}
	}
	return r, nil
}

type job struct {
	n   int // index in the chunk
	msg Message
	err error
}

// send mails one chunk and returns each notification's outcome.
func (d *Dispatcher) send(ctx context.Context, chunk []dynamo.QueuedMail, recipients map[string][]Recipient, states map[string]dynamo.AddressState, r *Report) []dynamo.MailOutcome {
	now := d.Store.Now()
	var jobs []*job
	outcomes := make([]dynamo.MailOutcome, len(chunk))
	for i, q := range chunk {
		outcomes[i].Mail = q
		done := map[string]bool{}
		for _, a := range append(slices.Clone(q.Mailed), q.Failed...) {
			done[dynamo.NormalAddress(a)] = true
		}
		if len(recipients[q.To]) == 0 {
			r.NoRecipient++
		}
		for _, rc := range recipients[q.To] {
			a := dynamo.NormalAddress(rc.Address)
			if done[a] {
				continue // sent before: the marker says so
			}
			if states[a].Suppressed {
				r.Suppressed++
				continue
			}
			msg, err := d.Catalog.Compose(q.Notification, rc, d.From, d.BaseURL, now)
			jobs = append(jobs, &job{n: i, msg: msg, err: err})
		}
	}
	sem := make(chan struct{}, d.Parallel)
	var wg sync.WaitGroup
	for _, j := range jobs {
		if j.err != nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			j.err = d.sendWithRetries(ctx, j.msg)
		}()
	}
	wg.Wait()
	pending := make([]bool, len(chunk))
	for _, j := range jobs {
		o := &outcomes[j.n]
		a := dynamo.NormalAddress(j.msg.To)
		switch {
		case j.err == nil:
			o.Sent = append(o.Sent, a)
			r.Sent++
		case IsPermanent(j.err):
			o.Failed = append(o.Failed, a)
			r.Failed++
			d.Log.Warn("mail refused", "notification", j.msg.Notification, "to", a, "err", j.err)
		default:
			pending[j.n] = true
			d.Log.Warn("mail failed for now", "notification", j.msg.Notification, "to", a, "err", j.err)
		}
	}
	for i := range outcomes {
		if !pending[i] {
			continue
		}
		if chunk[i].Attempts+1 >= d.MaxAttempts {
			r.GaveUp++
			d.Log.Error("mail given up", "notification", chunk[i].ID, "org", chunk[i].To, "attempts", chunk[i].Attempts+1)
			continue
		}
		outcomes[i].RetryAt = now.Add(RetryDelay(chunk[i].Attempts))
		r.Deferred++
	}
	return outcomes
}

func (d *Dispatcher) sendWithRetries(ctx context.Context, m Message) error {
	var err error
	for try := range d.Tries {
		if err = d.Sender.Send(ctx, m); err == nil || IsPermanent(err) {
			return err
		}
		if try+1 < d.Tries {
			select {
			case <-ctx.Done():
				return err
			case <-time.After(d.Backoff << try):
			}
		}
	}
	return err
}
