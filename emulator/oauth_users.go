package emulator

import (
	"strings"
	"time"
)

// The default login of every emulated org (seeded by org.go). Config.Users
// adds more.
const (
	DefaultUsername = "admin@forcesync.local"
	DefaultPassword = "forcesync"
	// DefaultSecurityToken is the default user's security token: API
	// logins by password accept DefaultPassword+DefaultSecurityToken, and
	// require it with Config.RequireSecurityToken.
	DefaultSecurityToken = "FsEmu7SecurityToken4Admin"
)

// oauthUser is what the OAuth endpoints need to know of a User record: a
// read-only snapshot taken under Emulator.mu.
type oauthUser struct {
	ID        string // 18-character User Id (prefix 005)
	Username  string
	FirstName string
	LastName  string
	Email     string
	TimeZone  string // TimeZoneSidKey, e.g. America/Los_Angeles
	Locale    string // LocaleSidKey, e.g. en_US
	Language  string // LanguageLocaleKey, e.g. en_US
	UserType  string // STANDARD, POWER_PARTNER, ... as the identity service spells it
	Active    bool
	Modified  time.Time
}

// displayName is the user's full name as Salesforce shows it.
func (u *oauthUser) displayName() string {
	return strings.TrimSpace(u.FirstName + " " + u.LastName)
}

// nickName is the name part of the username (Salesforce derives
// CommunityNickname the same way).
func (u *oauthUser) nickName() string {
	n, _, _ := strings.Cut(u.Username, "@")
	return n
}

// userFromRecord snapshots a User record; nil for nil or a non-User record.
func userFromRecord(r *record) *oauthUser {
	if r == nil || r.obj.Name != "User" || r.deleted {
		return nil
	}
	str := func(name string) string { s, _ := r.getName(name).(string); return s }
	u := &oauthUser{
		ID:        r.ID,
		Username:  str("Username"),
		FirstName: str("FirstName"),
		LastName:  str("LastName"),
		Email:     str("Email"),
		TimeZone:  str("TimeZoneSidKey"),
		Locale:    str("LocaleSidKey"),
		Language:  str("LanguageLocaleKey"),
		UserType:  identityUserType(str("UserType")),
		Active:    r.getName("IsActive") == true,
	}
	if t, ok := r.getName("LastModifiedDate").(time.Time); ok {
		u.Modified = t
	}
	if u.TimeZone == "" {
		u.TimeZone = "America/Los_Angeles"
	}
	return u
}

// identityUserType spells a User.UserType picklist value the way the
// identity service does: Standard -> STANDARD, PowerPartner -> POWER_PARTNER.
func identityUserType(t string) string {
	if t == "" {
		return "STANDARD"
	}
	var b strings.Builder
	for i, c := range t {
		if i > 0 && c >= 'A' && c <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(c)
	}
	return strings.ToUpper(b.String())
}

// userByNameLocked finds a user by username, ignoring case; nil if none.
func (e *Emulator) userByNameLocked(username string) *oauthUser {
	return userFromRecord(e.userByUsernameLocked(strings.TrimSpace(username)))
}

// userByIDLocked finds a user by 15- or 18-character Id; nil if none.
func (e *Emulator) userByIDLocked(id string) *oauthUser {
	return userFromRecord(e.getRecordLocked(id))
}

// adminLocked is the default user: auto-approve and client credentials run as it.
func (e *Emulator) adminLocked() *oauthUser { return e.userByIDLocked(e.adminUserIDLocked()) }

// checkPasswordLocked reports whether pw logs u in: an active user with that password.
func (e *Emulator) checkPasswordLocked(u *oauthUser, pw string) bool {
	return u != nil && u.Active && e.passwordMatchesLocked(u.ID, pw)
}

// checkAPIPasswordLocked checks the password of an API login (the OAuth
// password grant, SOAP login). Salesforce wants the user's security token
// appended to the password when the caller is outside the org's trusted IP
// ranges, and accepts password+token from inside them too; the emulator's
// callers count as inside unless Config.RequireSecurityToken is set.
func (e *Emulator) checkAPIPasswordLocked(u *oauthUser, pw string) bool {
	if u == nil || !u.Active {
		return false
	}
	if tok := e.securityTokenLocked(u); tok != "" && len(pw) > len(tok) && strings.HasSuffix(pw, tok) &&
		e.passwordMatchesLocked(u.ID, strings.TrimSuffix(pw, tok)) {
		return true
	}
	return !e.cfg.RequireSecurityToken && e.passwordMatchesLocked(u.ID, pw)
}

// securityTokenLocked is u's security token: the one configured for its
// username, else DefaultSecurityToken for the admin, else none.
func (e *Emulator) securityTokenLocked(u *oauthUser) string {
	for _, uc := range e.cfg.Users {
		if uc.SecurityToken != "" && strings.EqualFold(strings.TrimSpace(uc.Username), u.Username) {
			return uc.SecurityToken
		}
	}
	if u.ID == e.org.adminID {
		return DefaultSecurityToken
	}
	return ""
}
