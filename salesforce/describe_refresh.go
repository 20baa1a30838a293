package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
)

// Redescribe asks Salesforce for obj's describe again, with
// If-Modified-Since set to the Last-Modified of the describe it fetched
// before, so an unchanged schema costs one call and no body (304). When
// the schema changed, the new describe replaces the cached one (Describe
// returns it from now on) and changed is true. The first Redescribe of an
// object fetches the describe whole and compares it with the cached one.
func (c *Client) Redescribe(ctx context.Context, obj string) (d *SObjectDescribe, changed bool, err error) {
	if err := checkName("object", obj); err != nil {
		return nil, false, err
	}
	key := c.version + "/" + strings.ToLower(obj)
	c.describes.mu.RLock()
	old, since := c.describes.byKey[key], c.describes.lastMod[key]
	c.describes.mu.RUnlock()
	var h http.Header
	if since != "" && old != nil {
		h = http.Header{"If-Modified-Since": {since}}
	}
	resp, err := c.Do(ctx, KindREST, http.MethodGet, c.DataPath("sobjects/"+obj+"/describe"), nil, h)
	if err != nil {
		return nil, false, fmt.Errorf("describe %s: %w", obj, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified {
		return old, false, nil
	}
	var nd SObjectDescribe
	if err := json.NewDecoder(resp.Body).Decode(&nd); err != nil {
		return nil, false, fmt.Errorf("describe %s: decoding: %w", obj, err)
	}
	c.describes.mu.Lock()
	if c.describes.byKey == nil {
		c.describes.byKey = map[string]*SObjectDescribe{}
	}
	if c.describes.lastMod == nil {
		c.describes.lastMod = map[string]string{}
	}
	c.describes.byKey[key] = &nd
	if lm := resp.Header.Get("Last-Modified"); lm != "" {
		c.describes.lastMod[key] = lm
	}
	c.describes.mu.Unlock()
	return &nd, old == nil || !reflect.DeepEqual(old, &nd), nil
}
