package forcesync

import (
	"context"
	"time"
)

// Pull (Salesforce -> application) vocabulary. A pulled mapping reads its
// Salesforce object by SystemModstamp from a Watermark, decides per field
// what changed on which side since the last agreed state (the sync base),
// and records the outcome in one CommitPull: the new watermark, bindings,
// source records, the events for the changes feed and the webhooks, and any
// conflicts. The puller lives in package pull.

// ConflictPolicy says who wins when both sides changed a field since the
// last sync.
type ConflictPolicy string

// Conflict policies.
const (
	AppWins        ConflictPolicy = "app_wins"        // the application's value is pushed back over Salesforce's
	SalesforceWins ConflictPolicy = "salesforce_wins" // Salesforce's value replaces the application's
	NewestWins     ConflictPolicy = "newest_wins"     // the later of the app's version time and SystemModstamp
)

// Pull sinks: where pulled changes go. Several may be set at once.
const (
	SinkSource  = "source"  // forcesync's own source records (GET /api/v1/sources/{s}/records/{key})
	SinkChanges = "changes" // the changes feed, GET /api/v1/changes
	SinkWebhook = "webhook" // a signed webhook to the application
)

// PullConfig is a pulled mapping's settings (mapping.pull in the config).
type PullConfig struct {
	// PollInterval is how often serve reads Salesforce for changes; zero
	// means 30 seconds.
	PollInterval time.Duration
	// Conflict is the mapping's default conflict policy for fields pulled
	// and pushed (direction both); empty means newest_wins.
	Conflict ConflictPolicy
	// Into lists the sinks (SinkSource, SinkChanges, SinkWebhook); empty
	// means [source, changes].
	Into []string
	// Webhook is the webhook sink's target, when Into has SinkWebhook.
	Webhook *Webhook
	// Retention is how long pulled changes stay in the changes feed; zero
	// means 7 days (DefaultRetention). An event a webhook has not taken
	// yet (pending, or in the dead letters) is kept whatever its age.
	Retention time.Duration
}

// DefaultRetention is how long pulled changes are kept by default.
const DefaultRetention = 7 * 24 * time.Hour

// UnboundKept is how long past a mapping's retention a store keeps the
// key of a binding a Salesforce delete removed (PullStore.UnboundKeys):
// Salesforce empties its recycle bin after 15 days, so a restore comes
// within the default 7 days of retention and these 30.
const UnboundKept = 30 * 24 * time.Hour

// Webhook is where pulled changes are posted, signed.
type Webhook struct {
	// URL receives POSTs of one event each.
	URL string
	// Secret signs each delivery (HMAC-SHA256, Standard Webhooks shape);
	// from the environment (SecretEnv), never logged. Empty until Resolve.
	Secret    string
	SecretEnv string
	// MaxAttempts before an event goes to the dead-letter list; zero means 8.
	MaxAttempts int
}

// Watermark is how far a mapping's pull has read: every change with a
// SystemModstamp before Instant was taken, and of those at or after it the
// ones in Seen (Salesforce Id -> the SystemModstamp taken). Many records
// share one SystemModstamp, so the instant alone would skip or repeat some.
type Watermark struct {
	Mapping string
	Instant time.Time
	Seen    map[string]time.Time
	// Gen counts the commits that moved it. A PullCommit carries the Gen
	// its puller read; the store refuses it with ErrPullOvertaken when
	// another puller (a replica) committed since.
	Gen int64
}

// ErrPullOvertaken is CommitPull's answer when the watermark moved since
// the puller read it: another replica pulled the same changes; this one
// stops its poll.
var ErrPullOvertaken = &Error{Code: EConflict, Message: "another puller moved the watermark first"}

// PulledOp is what a pulled change did.
type PulledOp string

// Pulled ops.
const (
	PulledUpsert PulledOp = "upsert" // created or changed in Salesforce
	PulledDelete PulledOp = "delete" // deleted in Salesforce
	PulledMerge  PulledOp = "merge"  // merged into another record (MergedInto)
	// PulledConvert: a Lead converted in Salesforce (ConvertedTo names the
	// Contact it became); the Lead mapping no longer writes to it.
	PulledConvert PulledOp = "convert"
)

// PulledChange is one change read from Salesforce and delivered to the
// application (changes feed, webhook). Seq orders all pulled changes of a
// store; a webhook receiver de-duplicates by EventID.
type PulledChange struct {
	Seq          int64    `json:"seq"`
	EventID      string   `json:"id"`
	Mapping      string   `json:"mapping"`
	Source       string   `json:"source"`
	Key          string   `json:"key"`
	Op           PulledOp `json:"op"`
	SalesforceID string   `json:"salesforce_id"`
	// Fields are the pulled fields under the application's names.
	Fields map[string]any `json:"fields,omitempty"`
	// Changed names the application fields Salesforce changed.
	Changed []string `json:"changed,omitempty"`
	// MergedInto is the surviving record's key (PulledMerge).
	MergedInto string `json:"merged_into,omitempty"`
	// ConvertedTo is the Contact's Salesforce Id (PulledConvert).
	ConvertedTo string    `json:"converted_to,omitempty"`
	Modstamp    time.Time `json:"system_modstamp"`
	At          time.Time `json:"at"`
}

// Conflict is one field both sides changed since the last sync.
type Conflict struct {
	Mapping  string         `json:"mapping"`
	Key      string         `json:"key"`
	Field    string         `json:"field"` // the Salesforce field
	App      any            `json:"app"`
	Remote   any            `json:"salesforce"`
	Policy   ConflictPolicy `json:"policy"`
	Winner   string         `json:"winner"` // "app" or "salesforce"
	Modstamp time.Time      `json:"system_modstamp"`
	At       time.Time      `json:"at"`
}

// PullBinding is what the puller needs to decide about one bound record.
type PullBinding struct {
	Key          string
	SalesforceID string
	// Fingerprint is the binding's: of the payload Salesforce last accepted.
	Fingerprint string
	// Base is the last agreed value of each pulled Salesforce field.
	Base map[string]any
	// Pushed is what forcesync sent under Fingerprint, when it noted a push
	// after Base was taken: those values are Salesforce's now (they come
	// back as an echo).
	Pushed map[string]any
	// Held is the PushNote.Held of that push: the fields it held back, each
	// with the SystemModstamp the push read.
	Held map[string]time.Time
}

// PushNote is a payload about to be pushed for a pulled mapping, noted
// before the call and keyed by the fingerprint the binding will hold once
// Salesforce accepts it; so the echo is recognised when it comes back.
type PushNote struct {
	Key         string
	Fingerprint string
	Fields      map[string]any
	// Held names the two-way fields the push held back because Salesforce
	// changed them since the last sync, each with the SystemModstamp the
	// push read (Salesforce's edit is no later). The push's own write
	// moves SystemModstamp past the app's change, so newest_wins judges
	// such a field by this time instead.
	Held map[string]time.Time
}

// PullCommit is one step of a pull, committed in one transaction.
type PullCommit struct {
	Mapping string
	Source  string
	// Watermark is stored (it moves only with the records it covers), if
	// the stored one is still at Watermark.Gen; it is then at Gen+1.
	Watermark Watermark
	Records   []PulledRecord
	// Queue names the push mappings whose outbox gets the keys whose source
	// record this commit changed.
	Queue []string
	// Webhooks names the webhook sinks that get a delivery per event.
	Webhooks []string
	Now      time.Time
}

// PulledRecord is the decision about one pulled record.
type PulledRecord struct {
	Key          string
	SalesforceID string
	// ExpectFingerprint, ExpectVersion and ExpectPullRev are the binding
	// fingerprint and the source record's Version and PullRev the
	// decision was made on ("" / 0: none); when the store holds others,
	// CommitPull fails with EConflict and changes nothing, and the puller
	// decides again.
	ExpectFingerprint string
	ExpectVersion     int64
	ExpectPullRev     int64
	// Bind (re)binds Key to SalesforceID with Fingerprint (and a status
	// of Key naming another Id names this one). Unbind removes Key's
	// binding because Salesforce deleted SalesforceID: the Id is kept
	// with Key (UnboundKeys), and Key's status becomes StateDeleted with
	// no Salesforce Id, unless a change of Key is queued (its push
	// decides).
	Bind, Unbind bool
	Fingerprint  string
	// Base, when not nil, replaces the sync base.
	Base     map[string]any
	Modstamp time.Time
	// SourceFields, when not nil, becomes the stored source record;
	// DeleteSource marks it deleted. Either keeps the record's Version
	// and Updated (a new record gets version 1 and the commit's time)
	// and adds one to its PullRev.
	SourceFields map[string]any
	DeleteSource bool
	// Event, when not nil, is delivered (changes feed, webhooks).
	Event     *PulledChange
	Conflicts []Conflict
	// Requeue queues the key for push on the mapping itself (the app won).
	Requeue bool
}

// Delivery is one event on its way to one webhook sink.
type Delivery struct {
	Sink        string
	Change      PulledChange
	Attempts    int
	NextAttempt time.Time
	LastError   string
	Dead        bool
}

// DeliveryResult is the outcome of one delivery attempt.
type DeliveryResult struct {
	Seq int64
	OK  bool
	// Error and NextAttempt for a failure; Dead moves it to the dead letters.
	Error       string
	NextAttempt time.Time
	Dead        bool
}

// PullStore is the pull side of the store. Package sqlite and package
// postgres implement it next to Store; storetest.RunPull checks both.
type PullStore interface {
	// Watermark returns a mapping's watermark; the zero instant when it
	// was never pulled.
	Watermark(ctx context.Context, mapping string) (Watermark, error)
	// PullBindings returns the bindings of a mapping's Salesforce Ids,
	// keyed by Id; Ids without a binding are absent.
	PullBindings(ctx context.Context, mapping string, ids []string) (map[string]PullBinding, error)
	// UnboundKeys returns, of ids, the Salesforce Ids whose binding a
	// pull removed because Salesforce deleted the record (or merged it
	// into another), each with the key it was bound to; others are
	// absent. A record restored from the recycle bin is bound again under
	// that key. Kept UnboundKept past the mapping's retention.
	UnboundKeys(ctx context.Context, mapping string, ids []string) (map[string]string, error)
	// Intents returns a mapping's create intents (Store.RecordIntents) of
	// keys with push work queued or claimed: the records a push is
	// creating, or may have created, in Salesforce without having recorded
	// the answer (Complete clears an intent in the transaction that binds
	// the key), each with the match values it was created with. An intent
	// left behind by work that is gone (the mapping left the config) is
	// not listed. Ordered by key; none is an empty result.
	Intents(ctx context.Context, mapping string) ([]Intent, error)
	// Unpushed finds the keys of a mapping waiting for a push that may
	// bind them, by match value: keys with push work queued or claimed
	// under the mapping, no binding (or one without a Salesforce Id), and
	// a live source record whose value at field (a dot path into its
	// fields, "email" or "contact.email") is a string equal, ignoring
	// case, to one of values. It maps each value held, lower-cased, to
	// those keys, sorted; a value no such key holds is absent. A poll
	// leaves an unbound Salesforce record with such a value for later: the
	// push's match by that field may be binding it to the key (see
	// Puller). A field path with an empty segment or a double quote is an
	// EInvalid error naming it.
	Unpushed(ctx context.Context, mapping, field string, values []string) (map[string][]string, error)
	// NotePushed records payloads about to be pushed (see PushNote).
	NotePushed(ctx context.Context, mapping string, notes []PushNote) error
	// CommitPull applies one pull step in one transaction (see PullCommit).
	CommitPull(ctx context.Context, c *PullCommit) error
	// Changes lists pulled changes with Seq > after, oldest first, at most
	// limit (zero means 100), of the given mappings (nil means all).
	Changes(ctx context.Context, after int64, limit int, mappings []string) ([]PulledChange, error)
	// ClaimDeliveries returns up to limit deliveries of a sink due by now,
	// oldest first, at most one per record and none behind an earlier
	// undelivered event of the same record (ordered per record).
	ClaimDeliveries(ctx context.Context, sink string, now time.Time, limit int) ([]Delivery, error)
	// FinishDeliveries records the outcomes of delivery attempts.
	FinishDeliveries(ctx context.Context, sink string, results []DeliveryResult) error
	// DeadLetters lists a sink's deliveries that gave up, newest first.
	DeadLetters(ctx context.Context, sink string, limit int) ([]Delivery, error)
	// Redeliver puts a sink's dead letters back on their way: those of
	// the events seqs names (all of them when seqs is empty) become
	// pending again, due at now, with their attempts starting afresh. It
	// returns how many; a Seq that is not a dead letter of the sink is
	// left alone.
	Redeliver(ctx context.Context, sink string, seqs []int64, now time.Time) (int, error)
	// Conflicts lists the conflicts recorded for a key, newest first.
	Conflicts(ctx context.Context, mapping, key string) ([]Conflict, error)
	// PrunePulled deletes a mapping's pulled changes made before before,
	// except those with a webhook delivery not done (pending or dead),
	// and returns how many it deleted. Changes then answers EGone for a
	// cursor below the highest Seq pruned of the mappings it lists
	// (after = 0 reads from the oldest change kept).
	PrunePulled(ctx context.Context, mapping string, before time.Time) (int, error)
}
