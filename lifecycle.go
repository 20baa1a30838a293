package forcesync

import "context"

// BindingStore writes a binding outside a push's Complete: the engine
// rebinding a record to the Salesforce record that replaced its twin (a
// Lead converted to a Contact continues under the source's Contact
// mapping). Both stores implement it (storetest covers it).
type BindingStore interface {
	// Bind sets the binding of (b.Mapping, b.Key) to b.SalesforceID with
	// b.Fingerprint (empty: the next push is sent whatever its payload),
	// replacing any binding the key had under that mapping.
	Bind(ctx context.Context, b Binding) error
}

// States and fingerprints of Salesforce's own lifecycle.
const (
	// StateConverted: the Lead was converted in Salesforce; the record
	// continues under the source's Contact mapping (see the status's
	// warnings). Its Lead mapping no longer writes to the Lead.
	StateConverted State = "converted"
	// FingerprintConverted is the Lead binding's fingerprint after a
	// conversion: the mapping settles the record without a call.
	FingerprintConverted = "converted"
	// FingerprintLeadGone is the Lead binding's fingerprint after a
	// promotion found the Lead deleted in Salesforce: nothing was
	// converted, the Contact mapping creates the Contact, and the Lead
	// mapping settles the record as deleted and unbinds it (no call).
	FingerprintLeadGone = "lead_gone"
)

// Record error codes of Salesforce limits forcesync handles.
const (
	// CodeLeadConverted: the Lead was converted to a Contact and no Contact
	// mapping of the source takes the record; the message names the Contact.
	CodeLeadConverted = "LEAD_CONVERTED"
	// CodePortalUser: Salesforce cannot delete the Contact because a portal
	// User is tied to it; the message names the User.
	CodePortalUser = "PORTAL_USER"
)

// Removal is where a mapping that left the config stands.
type Removal string

// Removals.
const (
	// RemovalNone: the mapping is in the config.
	RemovalNone Removal = ""
	// RemovalDeprovisioning: the mapping left the config with
	// deprovision_on_removal; its bound records are being deprovisioned by
	// its remove action, behind the mass-change guard.
	RemovalDeprovisioning Removal = "deprovisioning"
	// RemovalLeft: the mapping left the config without
	// deprovision_on_removal; its Salesforce records and bindings are left.
	RemovalLeft Removal = "left"
	// RemovalKept: an operator chose to keep the records and bindings of a
	// mapping that left the config (forcesync approve MAPPING --keep).
	RemovalKept Removal = "kept"
	// RemovalDone: every bound record of the removed mapping was
	// deprovisioned.
	RemovalDone Removal = "done"
)

// MappingMemo is what the store remembers of a mapping an engine served,
// so that a restart or a reload whose config lacks it notices (and can
// apply its remove action without the config that described it), and so
// that a changed scope is swept once instead of trickling.
type MappingMemo struct {
	Name, Source, Object string
	// Connection is the name of the engine's connection.
	Connection string
	// Version is the compiled config's fingerprint whose scope was last
	// swept (engine: records that fell out of scope counted at once).
	Version string
	// RemoveAction and DisableWrites are the mapping's remove action and
	// the writes that deactivate a record (IsActive=false for a User).
	RemoveAction  DeleteAction   `json:",omitempty"`
	DisableWrites map[string]any `json:",omitempty"`
	// OnRemoval is operations.deprovision_on_removal.
	OnRemoval bool        `json:",omitempty"`
	Guard     GuardLimits `json:",omitzero"`
	Removal   Removal     `json:",omitempty"`
}

// MappingMemory keeps the memos. Both stores implement it (storetest).
type MappingMemory interface {
	// RememberMapping stores m, replacing the memo of m.Name.
	RememberMapping(ctx context.Context, m MappingMemo) error
	// MappingMemos lists every memo, by name.
	MappingMemos(ctx context.Context) ([]MappingMemo, error)
	// KeepMapping records an operator's choice to keep the Salesforce
	// records and bindings of a removed mapping: its memo becomes
	// RemovalKept, its queued work is dropped, and its statuses that were
	// not settled (pending, retrying, held) become skipped with
	// CodeMappingRemoved. Bindings stay, so the mapping's return carries on
	// with the same records.
	KeepMapping(ctx context.Context, name string) error
}

// CodeMappingRemoved marks the statuses of a removed mapping whose records
// were kept.
const CodeMappingRemoved = "MAPPING_REMOVED"

// PasswordMarks remember that a User's password was accepted and not yet
// set: the password itself is never at rest (engine.Passwords keeps it in
// memory), so after a restart only the mark tells that one was lost. Both
// stores implement it (storetest).
type PasswordMarks interface {
	// MarkPasswords notes, before the changes carrying them are accepted,
	// that keys of source have a password waiting; at orders marks (a
	// later mark replaces an earlier one).
	MarkPasswords(ctx context.Context, source string, keys []string, at int64) error
	// PasswordMarked returns the mark of each of keys that has one.
	PasswordMarked(ctx context.Context, source string, keys []string) (map[string]int64, error)
	// ClearPasswordMark removes the key's mark if it is not newer than at
	// (a password that arrived since keeps its mark).
	ClearPasswordMark(ctx context.Context, source, key string, at int64) error
}

// CodePasswordNotSet holds a User whose password was accepted but lost
// before it was set (a restart: passwords live only in memory).
const CodePasswordNotSet = "PASSWORD_NOT_SET"

// CodeCannotDemote holds a record that left a Contact mapping's scope for
// the Lead mapping's of its source while the Contact mapping's demote is
// hold: Salesforce cannot turn a Contact back into a Lead, so the Contact
// is kept and no Lead is created until someone decides.
const CodeCannotDemote = "CANNOT_DEMOTE"
