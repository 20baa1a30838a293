package emulator

import (
	"net/http"
	"strings"
	"time"
	_ "time/tzdata" // users' time zones resolve even on hosts without zoneinfo
)

// identityURLs are the urls of the identity and userinfo responses, with the
// literal {version} placeholder Salesforce leaves for clients to fill.
func (e *Emulator) identityURLs(r *http.Request, u *oauthUser) map[string]string {
	base := e.oauthBaseURL(r)
	org15 := e.orgID()[:15]
	data := base + "/services/data/v{version}/"
	return map[string]string{
		"enterprise":    base + "/services/Soap/c/{version}/" + org15,
		"metadata":      base + "/services/Soap/m/{version}/" + org15,
		"partner":       base + "/services/Soap/u/{version}/" + org15,
		"rest":          data,
		"sobjects":      data + "sobjects/",
		"search":        data + "search/",
		"query":         data + "query/",
		"recent":        data + "recent/",
		"tooling_soap":  base + "/services/Soap/T/{version}/" + org15,
		"tooling_rest":  data + "tooling/",
		"profile":       base + "/" + u.ID,
		"feeds":         data + "chatter/feeds",
		"groups":        data + "chatter/groups",
		"users":         data + "chatter/users",
		"feed_items":    data + "chatter/feed-items",
		"feed_elements": data + "chatter/feed-elements",
		"custom_domain": base,
	}
}

// fillVersion replaces {version} in the urls when the caller asked for a
// version (?version=65.0), as the identity service does.
func fillVersion(urls map[string]string, version string) {
	if version == "" {
		return
	}
	if _, ok := parseVersion("v" + version); !ok {
		return
	}
	for k, v := range urls {
		urls[k] = strings.ReplaceAll(v, "{version}", version)
	}
}

// photos are the profile photo URLs of a user without a photo.
func (e *Emulator) photos(r *http.Request) map[string]string {
	base := e.oauthBaseURL(r)
	return map[string]string{"picture": base + "/profilephoto/005/F", "thumbnail": base + "/profilephoto/005/T"}
}

// utcOffset is the standard (non-daylight) offset of a time zone in
// milliseconds, as Salesforce reports it.
func utcOffset(zone string, now time.Time) int64 {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return 0
	}
	y := now.Year()
	_, jan := time.Date(y, 1, 1, 0, 0, 0, 0, loc).Zone()
	_, jul := time.Date(y, 7, 1, 0, 0, 0, 0, loc).Zone()
	return int64(min(jan, jul)) * 1000
}

// sfDateTime formats a time as Salesforce's API datetimes: 2016-12-09T04:02:56.000+0000.
func sfDateTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000-0700") }

// identityToken is the access token of an identity or userinfo request: the
// Authorization header, or ?oauth_token= / a form field.
func identityToken(r *http.Request) string {
	if t := bearerToken(r); t != "" {
		return t
	}
	return r.URL.Query().Get("oauth_token")
}

// serveIdentity is GET (or POST) /id/{org}/{user}: the identity service.
// Any logged-in user of the org may read any user's identity.
func (e *Emulator) serveIdentity(c *call) {
	sess, ok := e.authenticateToken(identityToken(c.r))
	if !ok {
		c.writeError(http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid", nil)
		return
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	org, okOrg := normalizeID(c.r.PathValue("org"))
	u := e.userByIDLocked(c.r.PathValue("user"))
	if !okOrg || org != e.orgID() || u == nil {
		c.writeError(http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist", nil)
		return
	}
	urls := e.identityURLs(c.r, u)
	fillVersion(urls, c.r.URL.Query().Get("version"))
	c.writeJSON(http.StatusOK, identityResponse{
		ID:                  e.identityURL(c.r, u.ID),
		AssertedUser:        sess.UserID == u.ID,
		UserID:              u.ID,
		OrganizationID:      e.orgID(),
		Username:            u.Username,
		NickName:            u.nickName(),
		DisplayName:         u.displayName(),
		Email:               u.Email,
		EmailVerified:       true,
		FirstName:           u.FirstName,
		LastName:            u.LastName,
		Timezone:            u.TimeZone,
		Photos:              e.photos(c.r),
		Status:              map[string]any{"created_date": nil, "body": nil},
		URLs:                urls,
		Active:              u.Active,
		UserType:            "STANDARD",
		Language:            u.Language,
		Locale:              u.Locale,
		UTCOffset:           utcOffset(u.TimeZone, e.now()),
		LastModifiedDate:    sfDateTime(u.Modified),
		IsAppInstalled:      true,
		IsLightningLogin:    false,
		MobilePhoneVerified: false,
	})
}

// identityResponse is the identity service's JSON, in Salesforce's order.
// Address and phone fields are null for the emulator's users.
type identityResponse struct {
	ID                  string            `json:"id"`
	AssertedUser        bool              `json:"asserted_user"`
	UserID              string            `json:"user_id"`
	OrganizationID      string            `json:"organization_id"`
	Username            string            `json:"username"`
	NickName            string            `json:"nick_name"`
	DisplayName         string            `json:"display_name"`
	Email               string            `json:"email"`
	EmailVerified       bool              `json:"email_verified"`
	FirstName           string            `json:"first_name"`
	LastName            string            `json:"last_name"`
	Timezone            string            `json:"timezone"`
	Photos              map[string]string `json:"photos"`
	AddrStreet          *string           `json:"addr_street"`
	AddrCity            *string           `json:"addr_city"`
	AddrState           *string           `json:"addr_state"`
	AddrCountry         *string           `json:"addr_country"`
	AddrZip             *string           `json:"addr_zip"`
	MobilePhone         *string           `json:"mobile_phone"`
	MobilePhoneVerified bool              `json:"mobile_phone_verified"`
	IsLightningLogin    bool              `json:"is_lightning_login_user"`
	Status              map[string]any    `json:"status"`
	URLs                map[string]string `json:"urls"`
	Active              bool              `json:"active"`
	UserType            string            `json:"user_type"`
	Language            string            `json:"language"`
	Locale              string            `json:"locale"`
	UTCOffset           int64             `json:"utcOffset"`
	LastModifiedDate    string            `json:"last_modified_date"`
	IsAppInstalled      bool              `json:"is_app_installed"`
}

// serveUserInfo is GET /services/oauth2/userinfo: the OpenID Connect claims
// of the token's user, plus Salesforce's urls.
func (e *Emulator) serveUserInfo(c *call) {
	sess, ok := e.authenticateToken(identityToken(c.r))
	if !ok {
		c.writeError(http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid", nil)
		return
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	u := e.userByIDLocked(sess.UserID)
	if u == nil {
		c.writeError(http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid", nil)
		return
	}
	ph := e.photos(c.r)
	urls := e.identityURLs(c.r, u)
	c.writeJSON(http.StatusOK, userInfo{
		Sub:               e.identityURL(c.r, u.ID),
		UserID:            u.ID,
		OrganizationID:    e.orgID(),
		PreferredUsername: u.Username,
		Nickname:          u.nickName(),
		Name:              u.displayName(),
		Email:             u.Email,
		EmailVerified:     true,
		GivenName:         u.FirstName,
		FamilyName:        u.LastName,
		ZoneInfo:          u.TimeZone,
		Photos:            ph,
		Profile:           urls["profile"],
		Picture:           ph["picture"],
		Address:           map[string]string{},
		URLs:              urls,
		Active:            u.Active,
		UserType:          "STANDARD",
		Language:          u.Language,
		Locale:            u.Locale,
		UTCOffset:         utcOffset(u.TimeZone, e.now()),
		UpdatedAt:         u.Modified.UTC().Format("2006-01-02T15:04:05Z"),
		IsAppInstalled:    true,
	})
}

// userInfo is the userinfo endpoint's JSON.
type userInfo struct {
	Sub               string            `json:"sub"`
	UserID            string            `json:"user_id"`
	OrganizationID    string            `json:"organization_id"`
	PreferredUsername string            `json:"preferred_username"`
	Nickname          string            `json:"nickname"`
	Name              string            `json:"name"`
	Email             string            `json:"email"`
	EmailVerified     bool              `json:"email_verified"`
	GivenName         string            `json:"given_name"`
	FamilyName        string            `json:"family_name"`
	ZoneInfo          string            `json:"zoneinfo"`
	Photos            map[string]string `json:"photos"`
	Profile           string            `json:"profile"`
	Picture           string            `json:"picture"`
	Address           map[string]string `json:"address"`
	IsIntegrationUser bool              `json:"is_salesforce_integration_user"`
	URLs              map[string]string `json:"urls"`
	Active            bool              `json:"active"`
	UserType          string            `json:"user_type"`
	Language          string            `json:"language"`
	Locale            string            `json:"locale"`
	UTCOffset         int64             `json:"utcOffset"`
	UpdatedAt         string            `json:"updated_at"`
	IsAppInstalled    bool              `json:"is_app_installed"`
}

// serveOpenIDConfiguration is GET /.well-known/openid-configuration.
func (e *Emulator) serveOpenIDConfiguration(c *call) {
	base := e.oauthBaseURL(c.r)
	writeOAuthJSON(c.w, http.StatusOK, map[string]any{
		"issuer":                                base,
		"authorization_endpoint":                base + "/services/oauth2/authorize",
		"token_endpoint":                        base + "/services/oauth2/token",
		"revocation_endpoint":                   base + "/services/oauth2/revoke",
		"userinfo_endpoint":                     base + "/services/oauth2/userinfo",
		"introspection_endpoint":                base + "/services/oauth2/introspect",
		"jwks_uri":                              base + "/id/keys",
		"scopes_supported":                      []string{"id", "api", "web", "full", "refresh_token", "offline_access", "openid", "profile", "email", "address", "phone"},
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{grantAuthorizationCode, grantRefreshToken, grantClientCredentials, grantJWTBearer, grantPassword},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic"},
		"code_challenge_methods_supported":      []string{"S256", "plain"},
		"display_values_supported":              []string{"page"},
		"claims_supported": []string{"active", "address", "email", "email_verified", "family_name", "given_name",
			"is_app_installed", "language", "locale", "name", "nickname", "organization_id", "photos", "picture",
			"preferred_username", "profile", "sub", "updated_at", "urls", "user_id", "user_type", "utcOffset", "zoneinfo"},
	})
}
