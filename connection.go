package forcesync

import "time"

// AuthMethod is how a Connection obtains access tokens.
type AuthMethod string

// Auth methods.
const (
	AuthWebServer         AuthMethod = "web_server"         // OAuth web-server flow with PKCE; refresh token kept sealed
	AuthClientCredentials AuthMethod = "client_credentials" // My Domain only; runs as the app's run-as user
	AuthJWT               AuthMethod = "jwt"                // JWT bearer signed with a private key
	AuthPassword          AuthMethod = "password"           // legacy username-password; discouraged
	AuthAccessToken       AuthMethod = "access_token"       // a plain token, for tests and one-off use
)

// Connection is one Salesforce org forcesync talks to.
type Connection struct {
	Name string
	// Saved names a connection saved by forcesync login (under
	// $FORCESYNC_HOME, secrets sealed); when set it supplies the login URL,
	// the auth method and the secrets, and tokens it renews are saved back.
	Saved string
	// LoginURL is https://login.salesforce.com (production),
	// https://test.salesforce.com (sandbox), a My Domain URL, or any URL
	// (the emulator).
	LoginURL string
	Auth     AuthMethod
	ClientID string
	// ClientSecret, RefreshToken, Password and PrivateKey are secrets. In the
	// config they are references to environment variables; at rest they are
	// sealed; they are never logged.
	ClientSecret string
	RefreshToken string
	Username     string
	Password     string
	PrivateKey   string
	AccessToken  string
	// APIVersion is pinned after the first connection ("65.0"); empty means
	// the newest the org lists.
	APIVersion string
	// OrgID is pinned at the first successful connection; a different org
	// later is refused.
	OrgID string
	// APIShare is the share of the org's daily API allowance forcesync may
	// spend, 0 < share <= 1; zero means 0.5.
	APIShare float64
	LastTest time.Time
}

// Share returns the API share with its default applied.
func (c *Connection) Share() float64 {
	if c.APIShare <= 0 || c.APIShare > 1 {
		return 0.5
	}
	return c.APIShare
}
