package forcesync

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Mapping ties a source object to a Salesforce object. It is loaded from the
// YAML config and compiled against the object's describe by package mapping.
type Mapping struct {
	// Name identifies the mapping (unique in a config), e.g. "wp_users_to_leads".
	Name string
	// Source is the source object whose records feed this mapping, e.g. "wp_user".
	Source string
	// Connection names the Salesforce connection; empty means the only one.
	Connection string
	// Object is the Salesforce object API name: Lead, Contact, User, Foo__c.
	Object string
	// Direction is push (default), pull or both. A pull mapping never
	// pushes; see Pull for how pulled changes are read and delivered.
	Direction Direction
	// Pull is the pull side's settings (direction pull or both); nil means
	// the defaults of PullConfig.
	Pull *PullConfig
	// Match says how a record finds its Salesforce twin.
	Match MatchRule
	// Operations lists what the mapping may do in Salesforce.
	Operations Operations
	// Filter is an expression over the source record's fields; records for
	// which it is false are skipped (status skipped). Empty: every record.
	Filter string
	// Mode is keep_updated (default) or once (create, never update).
	Mode Mode
	// BatchSize caps records per Collections call (1..200; 0 means 200).
	BatchSize int
	// Fields are the field rows, one per target Salesforce field.
	Fields []FieldRow
	// Guard limits how many records one window may disable, deprovision
	// or delete before the mapping's removals pause (guard.go).
	Guard GuardLimits
	// User holds the options of a mapping to Salesforce Users.
	User UserOptions
}

// UserOptions shape the Salesforce Users a mapping provisions. The zero
// value is the default.
type UserOptions struct {
	// UsernameSuffix is appended to every Username the mapping sends
	// (sandboxes: usernames are unique across all orgs), e.g. ".dev".
	// It must start with a dot.
	UsernameSuffix string
	// TimeZone, Locale, EmailEncoding and Language fill TimeZoneSidKey,
	// LocaleSidKey, EmailEncodingKey and LanguageLocaleKey on create when
	// the mapping has no row for them. Empty: GMT, en_US, UTF-8, en_US.
	TimeZone, Locale, EmailEncoding, Language string
}

// Direction of data flow for a mapping or a field row.
type Direction string

// Directions.
const (
	Push Direction = "push" // application -> Salesforce (default)
	Pull Direction = "pull" // Salesforce -> application
	Both Direction = "both"
)

// Mode says whether a mapping keeps Salesforce updated after the first push.
type Mode string

// Modes.
const (
	KeepUpdated Mode = "keep_updated" // default: every change is pushed
	Once        Mode = "once"         // replicate once: create, then never update
)

// MatchKind names a match rule.
type MatchKind string

// Match kinds.
const (
	// MatchExternalID upserts by an External ID field holding the source key
	// (or a field row's value): idempotent by construction.
	MatchExternalID MatchKind = "external_id"
	// MatchFields queries Salesforce by one or more fields (e.g. Email), then
	// updates the match or creates. One query per batch.
	MatchFields MatchKind = "fields"
	// MatchBinding uses only the stored binding: create the first time,
	// update by Id afterwards.
	MatchBinding MatchKind = "binding"
)

// MatchRule is how a record finds its Salesforce twin.
type MatchRule struct {
	Kind MatchKind
	// Field is the External ID field for MatchExternalID, e.g. Forcesync_Key__c.
	Field string
	// Fields are the Salesforce fields compared for MatchFields, e.g. [Email].
	Fields []string
}

// DeleteAction is the remove action: what deprovisioning a record (deleted
// in the application, or out of the mapping's scope) does in Salesforce.
type DeleteAction string

// Remove actions.
const (
	DeleteIgnore DeleteAction = "ignore" // default: change nothing in Salesforce
	DeleteDelete DeleteAction = "delete" // delete the Salesforce record (not Users)
	// DeleteDeactivate applies the mapping's disable writes: IsActive=false
	// for a User, Operations.DisableWrites for other objects.
	DeleteDeactivate DeleteAction = "deactivate"
)

// Operations lists what a mapping may do. The zero value allows create,
// update, disable and deprovision, and ignores removals (remove action
// ignore).
type Operations struct {
	NoCreate bool
	NoUpdate bool
	// Delete is the remove action (YAML remove_action, or the older delete).
	Delete DeleteAction
	// NoDisable turns disabling off: a disabled record (SCIM active=false,
	// ingest op disable, DisableWhen true) is then pushed as an ordinary
	// update, or left alone when the change carries no fields.
	NoDisable bool
	// NoDeprovision turns deprovisioning off: a record deleted in the
	// application or out of scope is left alone (status skipped).
	NoDeprovision bool
	// DisableWhen is an expression over the source record; a record for
	// which it is true is disabled (the "mapping rule" way). Empty: never.
	DisableWhen string
	// DisableWrites are the field writes that disable a record in
	// Salesforce, e.g. {Status: "Closed - Not Converted"} for a Lead. For a
	// User they default to IsActive=false. DisableRemoves, when set instead,
	// makes disabling apply the remove action.
	DisableWrites  map[string]any
	DisableRemoves bool
	// CreateDisabled creates a record that is disabled before it ever
	// reached Salesforce, in its disabled form (a User with IsActive=false,
	// other objects with the disable writes), instead of not creating it.
	CreateDisabled bool
	// PortalUser is what deleting a Contact that a portal User is tied to
	// does when Salesforce refuses (DELETE_FAILED): PortalHold (default)
	// holds the record with PORTAL_USER naming the User; PortalDeactivate
	// deactivates that User and leaves the Contact (deprovisioned).
	PortalUser PortalFallback
	// DeprovisionOnRemoval: when the mapping is removed from the config,
	// its bound records are deprovisioned by its remove action (delete or
	// deactivate), behind the mass-change guard. Off (default): they are
	// left in Salesforce as they are, and the engine logs so.
	DeprovisionOnRemoval bool
	// Demote is what happens when a record leaves this Contact mapping's
	// scope for the scope of its source's Lead mapping (Salesforce cannot
	// turn a Contact back into a Lead). DemoteHold (default) keeps the
	// Contact and holds the record under both mappings with CodeDemoteHeld;
	// DemoteRecreate applies this mapping's remove action to the Contact and
	// lets the Lead mapping create a Lead.
	Demote DemoteAction
}

// DemoteAction says what a Contact mapping does with a record that moves
// to the scope of its source's Lead mapping.
type DemoteAction string

// Demote actions.
const (
	DemoteHold     DemoteAction = "hold"
	DemoteRecreate DemoteAction = "recreate_lead"
)

// PortalFallback says what to do with a Contact Salesforce will not delete
// because a portal User is tied to it.
type PortalFallback string

// Portal fallbacks.
const (
	PortalHold       PortalFallback = "hold"
	PortalDeactivate PortalFallback = "deactivate"
)

// FieldRow computes one Salesforce field from a source record. Exactly one of
// SourceField, Constant, Expr or FirstOf is set.
type FieldRow struct {
	// Target is the Salesforce field API name.
	Target string
	// SourceField copies a field of the source record (dot paths reach into
	// nested objects: "address.city").
	SourceField string
	// Constant is a fixed value.
	Constant any
	// HasConstant tells a nil/empty Constant from no constant.
	HasConstant bool
	// Expr is an expression over the source record (expr-lang syntax), e.g.
	// `"Score " + string(score)` or a template.
	Expr string
	// FirstOf is a fallback chain: the first non-empty of these source fields
	// or quoted constants wins.
	FirstOf []string
	// ValueMap maps source values to Salesforce values (picklists).
	ValueMap map[string]string
	// Default is used when the computed value is empty.
	Default any
	// On is create (set only when creating) or always (default).
	On When
	// ClearWhenEmpty makes an empty value clear the Salesforce field; by
	// default an empty value leaves it untouched.
	ClearWhenEmpty bool
	// Direction of this row; empty means the mapping's direction. A pull
	// row is never pushed; a pull or both row must copy a source field
	// (the field Salesforce's value is written back to).
	Direction Direction
	// Conflict overrides the mapping's conflict policy for a both row.
	Conflict ConflictPolicy
}

// RowDirection is the row's direction with the mapping's applied.
func (m *Mapping) RowDirection(r *FieldRow) Direction {
	if r.Direction != "" {
		return r.Direction
	}
	if m.Direction == "" {
		return Push
	}
	return m.Direction
}

// Pushes reports whether the mapping pushes anything to Salesforce.
func (m *Mapping) Pushes() bool {
	return m.Direction == "" || m.Direction == Push || m.Direction == Both
}

// Pulls reports whether the mapping reads Salesforce back.
func (m *Mapping) Pulls() bool { return m.Direction == Pull || m.Direction == Both }

// validateDirections checks the mapping's and rows' directions and
// conflict policies.
func (m *Mapping) validateDirections() error {
	switch m.Direction {
	case "", Push, Pull, Both:
	default:
		return fmt.Errorf("mapping %s: direction %q is not one of push, pull, both", m.Name, m.Direction)
	}
	if m.Pull != nil && !m.Pulls() {
		return fmt.Errorf("mapping %s: pull settings on a mapping with direction %s; set direction: pull or both", m.Name, m.Direction)
	}
	if m.Pull != nil {
		if err := m.Pull.validate(); err != nil {
			return fmt.Errorf("mapping %s: pull: %w", m.Name, err)
		}
		if m.Direction == Pull && m.Pull.Conflict != "" {
			return fmt.Errorf("mapping %s: pull: conflict applies only to direction both (a pull mapping never pushes, so no field has two sides); remove it", m.Name)
		}
		if m.Direction == Both && len(m.Pull.Into) > 0 && !m.Pull.Has(SinkSource) {
			return fmt.Errorf("mapping %s: pull: into must list source for direction both (the merged record lives there)", m.Name)
		}
	}
	pulls := 0
	for i := range m.Fields {
		r := &m.Fields[i]
		d := m.RowDirection(r)
		switch {
		case r.Direction != "" && r.Direction != Push && r.Direction != Pull && r.Direction != Both:
			return fmt.Errorf("mapping %s: field %s: direction %q is not one of push, pull, both", m.Name, r.Target, r.Direction)
		case d != Push && !m.Pulls():
			return fmt.Errorf("mapping %s: field %s: direction %s needs the mapping's direction to be pull or both", m.Name, r.Target, d)
		case d != Pull && m.Direction == Pull:
			return fmt.Errorf("mapping %s: field %s: direction %s in a mapping with direction pull (it never pushes)", m.Name, r.Target, d)
		}
		if d != Push {
			pulls++
			if r.SourceField == "" {
				return fmt.Errorf("mapping %s: field %s: direction %s needs source: (the field Salesforce's value is written to); a value, expr or first_of cannot be pulled", m.Name, r.Target, d)
			}
			if len(r.ValueMap) > 0 {
				return fmt.Errorf("mapping %s: field %s: direction %s cannot have a map (it cannot be read backwards)", m.Name, r.Target, d)
			}
		}
		if r.Conflict != "" {
			if d != Both {
				return fmt.Errorf("mapping %s: field %s: conflict applies only to direction both rows", m.Name, r.Target)
			}
			if err := r.Conflict.validate(); err != nil {
				return fmt.Errorf("mapping %s: field %s: %w", m.Name, r.Target, err)
			}
		}
	}
	if m.Pulls() && pulls == 0 {
		return fmt.Errorf("mapping %s: direction %s but no field row pulls", m.Name, m.Direction)
	}
	return nil
}

func (p ConflictPolicy) validate() error {
	switch p {
	case AppWins, SalesforceWins, NewestWins:
		return nil
	}
	return fmt.Errorf("conflict %q is not one of app_wins, salesforce_wins, newest_wins", p)
}

func (c *PullConfig) validate() error {
	if c.PollInterval < 0 {
		return fmt.Errorf("poll_interval %s is negative", c.PollInterval)
	}
	if c.Conflict != "" {
		if err := c.Conflict.validate(); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for _, s := range c.Into {
		switch s {
		case SinkSource, SinkChanges, SinkWebhook:
		default:
			return fmt.Errorf("into: %q is not one of source, changes, webhook", s)
		}
		if seen[s] {
			return fmt.Errorf("into: %s appears twice", s)
		}
		seen[s] = true
	}
	if seen[SinkWebhook] && (c.Webhook == nil || c.Webhook.URL == "") {
		return fmt.Errorf("into has webhook but webhook.url is not set")
	}
	if !seen[SinkWebhook] && c.Webhook != nil {
		return fmt.Errorf("webhook is set but into does not list webhook")
	}
	return nil
}

// PullSettings returns the pull settings with their defaults applied.
func (m *Mapping) PullSettings() PullConfig {
	var c PullConfig
	if m.Pull != nil {
		c = *m.Pull
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 30 * time.Second
	}
	if c.Conflict == "" {
		c.Conflict = NewestWins
	}
	if len(c.Into) == 0 {
		c.Into = []string{SinkSource, SinkChanges}
	}
	return c
}

// Has reports whether pulled changes go to sink.
func (c PullConfig) Has(sink string) bool {
	for _, s := range c.Into {
		if s == sink {
			return true
		}
	}
	return false
}

// When says on which operation a field row applies.
type When string

// Whens.
const (
	Always   When = "always"
	OnCreate When = "create"
)

// Validate checks what can be checked without the Salesforce describe.
func (m *Mapping) Validate() error {
	if m.Name == "" {
		return fmt.Errorf("mapping: name is required")
	}
	if m.Source == "" {
		return fmt.Errorf("mapping %s: source is required", m.Name)
	}
	if m.Object == "" {
		return fmt.Errorf("mapping %s: object is required", m.Name)
	}
	switch m.Match.Kind {
	case MatchExternalID:
		if m.Match.Field == "" {
			return fmt.Errorf("mapping %s: match external_id needs a field", m.Name)
		}
	case MatchFields:
		if len(m.Match.Fields) == 0 {
			return fmt.Errorf("mapping %s: match fields needs at least one field", m.Name)
		}
	case MatchBinding:
	default:
		return fmt.Errorf("mapping %s: match kind %q is not one of external_id, fields, binding", m.Name, m.Match.Kind)
	}
	if err := m.Operations.validate(m.Name, m.Object); err != nil {
		return err
	}
	if s := m.User.UsernameSuffix; s != "" && !usernameSuffixRe.MatchString(s) {
		return fmt.Errorf("mapping %s: user.username_suffix %q: use a dot and domain-like labels, e.g. .dev", m.Name, s)
	}
	if m.User != (UserOptions{}) && !IsUser(m.Object) {
		return fmt.Errorf("mapping %s: user options apply only to mappings of object User", m.Name)
	}
	if err := m.Guard.Validate(); err != nil {
		return fmt.Errorf("mapping %s: guard: %w", m.Name, err)
	}
	if m.BatchSize < 0 || m.BatchSize > 200 {
		return fmt.Errorf("mapping %s: batch_size %d is outside 1..200", m.Name, m.BatchSize)
	}
	if err := m.validateDirections(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, f := range m.Fields {
		if f.Target == "" {
			return fmt.Errorf("mapping %s: field row %d: target is required", m.Name, i+1)
		}
		if seen[f.Target] {
			return fmt.Errorf("mapping %s: field %s appears twice", m.Name, f.Target)
		}
		seen[f.Target] = true
		n := 0
		if f.SourceField != "" {
			n++
		}
		if f.HasConstant {
			n++
		}
		if f.Expr != "" {
			n++
		}
		if len(f.FirstOf) > 0 {
			n++
		}
		if n != 1 {
			return fmt.Errorf("mapping %s: field %s: set exactly one of source, value, expr, first_of", m.Name, f.Target)
		}
	}
	return nil
}

// IsUser reports whether object is Salesforce's User, which is never
// deleted, only deactivated.
func IsUser(object string) bool { return strings.EqualFold(object, "User") }

func (o *Operations) validate(name, object string) error {
	switch o.Delete {
	case "", DeleteIgnore, DeleteDelete, DeleteDeactivate:
	default:
		return fmt.Errorf("mapping %s: remove_action %q is not one of delete, deactivate, ignore", name, o.Delete)
	}
	if IsUser(object) && o.Delete == DeleteDelete {
		return fmt.Errorf("mapping %s: remove_action delete: Salesforce Users cannot be deleted, only deactivated; use remove_action: deactivate", name)
	}
	if o.DisableRemoves && len(o.DisableWrites) > 0 {
		return fmt.Errorf("mapping %s: disable_with: set either remove_action or field writes, not both", name)
	}
	if o.NoDisable && (o.DisableWhen != "" || o.DisableRemoves) {
		return fmt.Errorf("mapping %s: disable is false, so disable_when and disable_with: remove_action would never apply; remove them or set disable: true", name)
	}
	if o.Delete == DeleteDeactivate && !IsUser(object) && len(o.DisableWrites) == 0 {
		return fmt.Errorf("mapping %s: remove_action deactivate: a %s has no IsActive; give the writes that deactivate it in disable_with, e.g. {Status: Closed - Not Converted}", name, object)
	}
	switch o.PortalUser {
	case "", PortalHold, PortalDeactivate:
	default:
		return fmt.Errorf("mapping %s: portal_user %q is not one of hold, deactivate", name, o.PortalUser)
	}
	if o.DisableRemoves && o.Delete == DeleteDeactivate {
		return fmt.Errorf("mapping %s: disable_with remove_action and remove_action deactivate refer to each other; give disable_with field writes", name)
	}
	if o.DeprovisionOnRemoval && (o.Delete == "" || o.Delete == DeleteIgnore) {
		return fmt.Errorf("mapping %s: deprovision_on_removal needs remove_action delete or deactivate (with ignore, removing the mapping changes nothing in Salesforce)", name)
	}
	if o.DeprovisionOnRemoval && o.NoDeprovision {
		return fmt.Errorf("mapping %s: deprovision_on_removal with deprovision: false; the removal would deprovision what the mapping never does", name)
	}
	switch o.Demote {
	case "", DemoteHold, DemoteRecreate:
	default:
		return fmt.Errorf("mapping %s: demote %q is not one of hold, recreate_lead", name, o.Demote)
	}
	if o.Demote != "" && !strings.EqualFold(object, "Contact") {
		return fmt.Errorf("mapping %s: demote applies only to a Contact mapping (what a record leaving it for the source's Lead mapping does)", name)
	}
	return nil
}

var usernameSuffixRe = regexp.MustCompile(`^(\.[A-Za-z0-9-]+)+$`)
