package console

import (
	"context"

	"github.com/forcesync/forcesync"
)

// Admins come from three places: the config (console.admins), the store
// (forcesync admin add) and, with OIDC, the allowed emails and domains.
// Each request checks its session's user against them, so removing an
// admin anywhere ends their sessions at once.

// configHash returns the config's hash for name.
func (c *Console) configHash(name string) (string, bool) {
	for _, a := range c.cfg.Admins {
		if a.Username == name {
			return a.PasswordHash, true
		}
	}
	return "", false
}

// passwordHash returns the bcrypt hash of an admin: the config's first,
// else the store's. ok is false for a name that is no password admin.
func (c *Console) passwordHash(ctx context.Context, name string) (hash string, ok bool, err error) {
	if h, ok := c.configHash(name); ok {
		return h, true, nil
	}
	if c.admins == nil || name == "" {
		return "", false, nil
	}
	a, err := c.admins.Admin(ctx, name)
	if forcesync.ErrorCode(err) == forcesync.ENotFound {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return a.PasswordHash, true, nil
}

// isAdmin reports whether name may use the console now.
func (c *Console) isAdmin(ctx context.Context, name string) (bool, error) {
	if _, ok := c.configHash(name); ok {
		return true, nil
	}
	if c.oidc != nil && c.oidc.allowed(name) {
		return true, nil
	}
	_, ok, err := c.passwordHash(ctx, name)
	return ok, err
}

// storeHasAdmins reports whether the store lists any admin.
func (c *Console) storeHasAdmins(ctx context.Context) bool {
	if c.admins == nil {
		return false
	}
	list, err := c.admins.Admins(ctx)
	if err != nil {
		c.cfg.Logger.Warn("console: listing the store's admins", "err", err)
		return true // show the form; signing in reports the store's trouble
	}
	return len(list) > 0
}
