package emulator

import "time"

// Config describes the org an Emulator serves. The zero value is the default
// org: connected app forcesync-demo, user admin@forcesync.local, the standard
// objects, a 100,000-call daily allowance and a two-hour session timeout.
type Config struct {
	// BaseURL is the URL clients reach the emulator at, used in instance_url,
	// identity URLs and record urls' hosts. Empty: derived from each request's Host.
	BaseURL string `yaml:"base_url"`
	// OrgID is the 18-character organization Id. Empty: a fixed default.
	OrgID string `yaml:"org_id"`
	// OrgName is the Organization record's Name. Empty: "Forcesync Emulator".
	OrgName string `yaml:"org_name"`
	// Sandbox makes the org a sandbox: Organization.IsSandbox, and the SOAP
	// login result's <sandbox>.
	Sandbox bool `yaml:"sandbox"`
	// DailyAPIRequests is the rolling 24-hour API allowance (DailyApiRequests.Max).
	// Zero means 100,000.
	DailyAPIRequests int `yaml:"daily_api_requests"`
	// DailyAPIOveragePercent lets calls go on past DailyAPIRequests by this
	// share of it before 403 REQUEST_LIMIT_EXCEEDED: Salesforce treats the
	// daily total as an allocation an org "can be" blocked for exceeding,
	// not a hard stop at the exact count (docs/emulator.md, "Daily API
	// limit"; the size of the overage is UNCONFIRMED). Zero, the default,
	// stops at exactly the maximum (the hard stop tests of client back-off
	// rely on).
	DailyAPIOveragePercent int `yaml:"daily_api_overage_percent"`
	// BulkRecordsPerSecond paces Bulk API 2.0 jobs (and Bulk API 1.0
	// batches): a job processes at most this many records a second, so
	// clients see InProgress for a realistic time. Zero, the default:
	// as fast as the emulator goes (bulkpace.go).
	BulkRecordsPerSecond float64 `yaml:"bulk_records_per_second"`
	// BulkStartDelay is how long a closed job waits in UploadComplete
	// before processing starts. Zero, the default: a few milliseconds.
	BulkStartDelay time.Duration `yaml:"bulk_start_delay"`
	// SessionTimeout is how long an access token lives without use. Zero means 2h.
	SessionTimeout time.Duration `yaml:"session_timeout"`
	// AutoApprove makes /services/oauth2/authorize approve at once for the
	// default user, redirecting with a code, with no login page (automation).
	AutoApprove bool `yaml:"auto_approve"`
	// RequireSecurityToken makes API logins by password (the OAuth
	// username-password flow and SOAP login) insist on the user's security
	// token appended to the password, as Salesforce does for a caller
	// outside the org's trusted IP ranges. False, the default, treats
	// callers as inside them: the password alone works, and so does
	// password+token.
	RequireSecurityToken bool `yaml:"require_security_token"`
	// ConnectedApps are added to the default app forcesync-demo.
	ConnectedApps []ConnectedApp `yaml:"connected_apps"`
	// Users are added to the default admin user.
	Users []UserConfig `yaml:"users"`
	// Objects adds custom objects, or custom fields to standard objects
	// (an entry naming a standard object adds its fields to it).
	Objects []ObjectConfig `yaml:"objects"`
	// DataFile, when set, is where org state is saved so it survives restarts.
	DataFile string `yaml:"-"`
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time `yaml:"-"`
}

// ConnectedApp is an OAuth client registered in the org.
type ConnectedApp struct {
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`
	// RedirectURIs allowed for the web-server flow. Empty: any loopback URI.
	RedirectURIs []string `yaml:"redirect_uris"`
	// Certificate is a PEM certificate (or public key) whose key signs JWT
	// bearer assertions for this app.
	Certificate string `yaml:"certificate"`
	// RunAs is the username the client-credentials flow runs as. Empty: the admin.
	RunAs string `yaml:"run_as"`
	// PreAuthorized lists usernames allowed to use JWT bearer. Empty: all users.
	PreAuthorized []string `yaml:"pre_authorized"`
}

// UserConfig is a user that can log in.
type UserConfig struct {
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// SecurityToken is the token the user appends to the password for
	// API logins (Config.RequireSecurityToken). Empty: the user has none
	// (the admin's default is DefaultSecurityToken).
	SecurityToken string `yaml:"security_token"`
	FirstName     string `yaml:"first_name"`
	LastName      string `yaml:"last_name"`
	Email         string `yaml:"email"`
	// Profile names a profile ("System Administrator", "Standard User", ...).
	Profile string `yaml:"profile"`
}

// ObjectConfig declares a custom object (Name ending in __c) or extra fields
// on a standard object.
type ObjectConfig struct {
	Name        string        `yaml:"name"`
	Label       string        `yaml:"label"`
	LabelPlural string        `yaml:"label_plural"`
	KeyPrefix   string        `yaml:"key_prefix"`
	Fields      []FieldConfig `yaml:"fields"`
}

// FieldConfig declares a custom field.
type FieldConfig struct {
	Name       string `yaml:"name"` // must end in __c
	Label      string `yaml:"label"`
	Type       string `yaml:"type"` // describe type: string, email, double, picklist, ...
	Length     int    `yaml:"length"`
	Precision  int    `yaml:"precision"`
	Scale      int    `yaml:"scale"`
	Required   bool   `yaml:"required"`
	Unique     bool   `yaml:"unique"`
	ExternalID bool   `yaml:"external_id"`
	// CaseSensitive makes a unique text field tell "ABC" from "abc" (for
	// uniqueness and for upsert matching), and describe say
	// caseSensitive: true. Salesforce offers the choice only for unique
	// fields; the default, as there, is case-insensitive.
	CaseSensitive bool     `yaml:"case_sensitive"`
	Picklist      []string `yaml:"picklist"`
	Restricted    bool     `yaml:"restricted"`
	ReferenceTo   []string `yaml:"reference_to"`
	Default       any      `yaml:"default"`
}
