package emulator

import (
	"fmt"
	"strings"
	"time"
)

// DefaultOrgID is the org Id served when Config.OrgID is empty.
const DefaultOrgID = "00D5e000000FrcSEAS"

// The admin user seeded in every org (OAUTH's DefaultUsername/DefaultPassword
// name the same login).
const (
	seedAdminUsername = "admin@forcesync.local"
	seedAdminPassword = "forcesync"
)

// firstMintedID is where the Id counter starts, leaving the small numbers
// to the users seeded from the config (seedUserID), so Ids never clash.
const firstMintedID = 1000

// Seeded profiles, in the order they are created.
var seedProfiles = []struct{ Name, UserType string }{
	{"System Administrator", "Standard"},
	{"Standard User", "Standard"},
	{"Read Only", "Standard"},
	{"Minimum Access - Salesforce", "Standard"},
	{"Customer Community User", "CspLitePortal"},
	{"Customer Community Plus User", "PowerCustomerSuccess"},
	{"Partner Community User", "PowerPartner"},
}

// org is the persisted state of the emulated org: schema, records, recycle
// bin, API usage and user passwords. Guarded by Emulator.mu.
type org struct {
	id  string // 18-character org Id
	pod string // 2 characters after the key prefix in minted Ids

	schemaTime time.Time // when the schema was built (describe Last-Modified)
	created    time.Time // when the org was created (earliestDateAvailable)
	objects    []*sobject
	byName     map[string]*sobject // lower-cased name
	byPrefix   map[string]*sobject

	records map[string]*record // 18-character Id -> record, every object
	nextID  int64              // Id counter (org-wide)

	adminID string // the seeded admin user
	actor   string // user DML is attributed to; "" = admin
	// actorBox is the last actor boxed as a stored value (actorValueLocked).
	actorBox any
	// slotScratch is applyUpdateLocked's copy of a record's values when no
	// transaction is open.
	slotScratch []slot

	// passwords maps a User Id to its password (OAUTH checks logins against it).
	passwords map[string]string

	// API allowance (limits.go).
	apiUsed, apiMax int

	// Undo log of open transactions (records.go).
	undo     []func()
	openTxns int

	// changes counts mutations, for the persistence debounce (persist.go).
	changes uint64
}

// newOrg builds the schema of the org described by cfg: standard objects
// and Config.Objects. Records are seeded by seedLocked (or loaded).
func newOrg(cfg Config, now func() time.Time) (*org, error) {
	id := DefaultOrgID
	if cfg.OrgID != "" {
		n, ok := normalizeID(cfg.OrgID)
		if !ok || !strings.HasPrefix(n, "00D") {
			return nil, fmt.Errorf("org_id %q: not a 15- or 18-character Id with prefix 00D", cfg.OrgID)
		}
		id = n
	}
	max := cfg.DailyAPIRequests
	if max <= 0 {
		max = 100000
	}
	o := &org{
		id: id, pod: id[3:5],
		schemaTime: now().UTC().Truncate(time.Second),
		created:    now().UTC().Truncate(time.Millisecond),
		byName:     map[string]*sobject{}, byPrefix: map[string]*sobject{},
		records:   map[string]*record{},
		passwords: map[string]string{},
		apiMax:    max,
	}
	for _, obj := range []*sobject{standardAccount(), standardContact(), standardLead(), standardProfile(), standardUser(), standardOrganization(), standardUserRole()} {
		o.addObject(obj)
	}
	if err := o.applyObjectConfig(cfg.Objects); err != nil {
		return nil, err
	}
	return o, nil
}

// orgID returns the 18-character org Id.
func (e *Emulator) orgID() string { return e.org.id }

// OrgID returns the 18-character org Id.
func (e *Emulator) OrgID() string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.org.id
}

// seedUserID is the Id of the n-th seeded user (1 = the admin, then
// Config.Users in order): 005, the pod, a zero-padded decimal counter.
func seedUserID(pod string, n int) string {
	id15 := fmt.Sprintf("005%s%010d", pod, n)
	return id15 + idChecksum(id15)
}

// seedLocked creates the profiles, the admin user and Config.Users in a
// fresh org.
func (e *Emulator) seedLocked() error {
	if e.org.nextID < firstMintedID {
		e.org.nextID = firstMintedID
	}
	for _, p := range seedProfiles {
		if _, rerr := e.insertSystemLocked("Profile", map[string]any{"Name": p.Name, "UserType": p.UserType}); rerr != nil {
			return fmt.Errorf("seed profile %s: %s", p.Name, rerr.Message)
		}
	}
	users := append([]UserConfig{{Username: seedAdminUsername, Password: seedAdminPassword, FirstName: "Admin",
		LastName: "User", Email: seedAdminUsername, Profile: "System Administrator"}}, e.cfg.Users...)
	for i, uc := range users {
		if i > 0 && strings.EqualFold(strings.TrimSpace(uc.Username), seedAdminUsername) {
			// A configured user named like the admin updates the admin.
			if uc.Password != "" {
				e.org.passwords[e.org.adminID] = uc.Password
			}
			continue
		}
		if err := e.seedUserLocked(i+1, uc); err != nil {
			return err
		}
	}
	id := e.org.adminID
	// The admin created itself.
	u := e.org.records[id]
	u.set(u.obj.field("CreatedById"), id)
	u.set(u.obj.field("LastModifiedById"), id)
	if err := e.seedOrganizationLocked(); err != nil { // organization.go
		return fmt.Errorf("seed organization: %w", err)
	}
	for _, r := range e.org.records {
		if r.obj.Name == "Profile" || r.obj.Name == "Organization" {
			r.set(r.obj.field("CreatedById"), id)
			r.set(r.obj.field("LastModifiedById"), id)
		}
	}
	return nil
}

// seedUserLocked creates the n-th seeded user (1 = the admin) from uc, with
// Id seedUserID(n) when free, and stores its password.
func (e *Emulator) seedUserLocked(n int, uc UserConfig) error {
	username := strings.TrimSpace(uc.Username)
	profile := uc.Profile
	if profile == "" {
		profile = "Standard User"
	}
	pid := e.profileByNameLocked(profile)
	if pid == "" {
		return fmt.Errorf("user %s: unknown profile %q", username, profile)
	}
	last, email := uc.LastName, uc.Email
	nick, _, _ := strings.Cut(username, "@")
	if last == "" {
		last = nick
	}
	if email == "" {
		email = username
	}
	alias := nick
	if len(alias) > 8 {
		alias = alias[:8]
	}
	fields := map[string]any{
		"Username": username, "FirstName": uc.FirstName, "LastName": last,
		"Email": email, "Alias": alias, "TimeZoneSidKey": "America/Los_Angeles",
		"LocaleSidKey": "en_US", "EmailEncodingKey": "UTF-8", "LanguageLocaleKey": "en_US",
		"ProfileId": pid,
	}
	id := seedUserID(e.org.pod, n)
	if e.org.records[id] != nil {
		id = ""
	}
	id, rerr := e.insertRecordLocked("User", fields, id, false)
	if rerr != nil {
		return fmt.Errorf("seed user %s: %s", username, rerr.Message)
	}
	if n == 1 {
		e.org.adminID = id
	}
	if uc.Password != "" {
		e.org.passwords[id] = uc.Password
	}
	return nil
}

// insertSystemLocked inserts into an object the API cannot create in
// (Profile), bypassing createable checks on the object and its fields.
func (e *Emulator) insertSystemLocked(objName string, fields map[string]any) (string, *recordError) {
	obj := e.sobjectLocked(objName)
	if obj == nil {
		return "", &recordError{Code: "INVALID_TYPE", Message: "sObject type '" + objName + "' is not supported."}
	}
	return e.insertRecordLocked(obj.Name, fields, "", true)
}

// adminUserIDLocked returns the Id of the seeded admin user.
func (e *Emulator) adminUserIDLocked() string { return e.org.adminID }

// userByUsernameLocked returns the User with that username
// (case-insensitive), or nil.
func (e *Emulator) userByUsernameLocked(username string) *record {
	users := e.sobjectLocked("User")
	if users == nil {
		return nil
	}
	list := lookupIndex(users, users.field("Username"), username)
	if len(list) == 0 {
		return nil
	}
	return list[0]
}

// profileByNameLocked returns the Id of the profile with that name
// (case-insensitive), or "".
func (e *Emulator) profileByNameLocked(name string) string {
	profiles := e.sobjectLocked("Profile")
	id := ""
	e.eachRecordLocked(profiles, false, func(r *record) bool {
		if n, _ := r.getName("Name").(string); strings.EqualFold(n, name) {
			id = r.ID
			return false
		}
		return true
	})
	return id
}

// setPasswordLocked sets a user's password.
func (e *Emulator) setPasswordLocked(userID, password string) {
	e.org.passwords[userID] = password
	e.changedLocked()
}

// passwordMatchesLocked reports whether password is the user's password.
// Users without one (created through the API) cannot log in with a password.
func (e *Emulator) passwordMatchesLocked(userID, password string) bool {
	pw, ok := e.org.passwords[userID]
	return ok && pw == password
}

// userActiveLocked reports whether the user exists and IsActive is true.
func (e *Emulator) userActiveLocked(userID string) bool {
	r := e.getRecordLocked(userID)
	return r != nil && r.obj.Name == "User" && r.getName("IsActive") == true
}

// baseURL returns the public base URL of the emulator, without a trailing
// slash: Config.BaseURL, or the scheme and Host of the request.
func (e *Emulator) baseURL(c *call) string {
	if e.cfg.BaseURL != "" {
		return strings.TrimRight(e.cfg.BaseURL, "/")
	}
	if c == nil || c.r == nil {
		return "http://127.0.0.1"
	}
	scheme := "http"
	if c.r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.r.Host
}
