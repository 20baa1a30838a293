package salesforce

import (
	"context"
	"fmt"
	"net/http"
)

// SetPassword sets a User's password: POST sobjects/User/{id}/password with
// {"NewPassword": password}, answered 204. A password the org's policy
// refuses is an *APIError with code INVALID_NEW_PASSWORD. Setting the same
// password again is harmless, so the call may be retried. The password is
// sent only in the body, never in a URL, and no error carries it.
func (c *Client) SetPassword(ctx context.Context, userID, password string) error {
	if err := checkID(userID); err != nil {
		return err
	}
	if _, err := c.doJSON(WithRetrySafe(ctx), KindREST, http.MethodPost, c.DataPath("sobjects/User/"+userID+"/password"),
		map[string]string{"NewPassword": password}, nil); err != nil {
		return fmt.Errorf("set password of user %s: %w", userID, err)
	}
	return nil
}
