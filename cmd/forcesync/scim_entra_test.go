package main

import (
	"fmt"
	"testing"

	"github.com/forcesync/forcesync/emulator"
)

// entraConfig provisions SCIM Users to Contacts; a disabled User is opted
// out of email.
const entraConfig = scimConfigHead + `  - name: idp_contacts
    source: idp_user
    object: Contact
    match: {external_id: Forcesync_Key__c}
    operations:
      disable_with: {HasOptedOutOfEmail: true}
    fields:
      - {target: Email, source: email}
      - {target: FirstName, source: givenName}
      - {target: LastName, source: familyName, default: Undefined}
      - {target: HasOptedOutOfEmail, value: false}
`

// TestEntraFlaggedRequestsThroughSCIM replays what Entra ID sends beyond
// RFC 7644's letter and checks that it reaches the Contact: "primary":
// "True" strings on create, a lookup by
// emails[type eq "work"].value eq "...", and (with its aadOptscim062020
// flag) a pathless replace whose keys are attribute paths with filters.
func TestEntraFlaggedRequestsThroughSCIM(t *testing.T) {
	emu, sfURL := startEmulator(t, emulator.Config{})
	s := startServeWith(t, emu, fmt.Sprintf(entraConfig, sfURL), map[string]string{"TEST_SCIM_TOKEN": "idp-token"})
	p := &idpReplay{t: t, s: s, sf: sfURL}
	id := p.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
		"externalId":"ada","userName":"ada@contoso.com","active":"True",
		"emails":[{"primary":"False","type":"home","value":"ada@home.example"},{"primary":"True","type":"work","value":"ada@contoso.com"}],
		"name":{"givenName":"Ada","familyName":"Lovelace"},"meta":{"resourceType":"User"}}`, 201)["id"].(string)
	contact := "SELECT Email, FirstName, HasOptedOutOfEmail FROM Contact WHERE Forcesync_Key__c = '" + id + "'"
	p.until("create: the work email, marked primary", contact, func(r []map[string]any) bool {
		return len(r) == 1 && r[0]["Email"] == "ada@contoso.com"
	})

	found := p.do("GET", "/Users?filter=emails%5Btype+eq+%22work%22%5D.value+eq+%22ada%40contoso.com%22", "", 200)
	if found["totalResults"] != 1.0 {
		t.Fatalf("lookup by work email: %v", found)
	}

	p.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"replace","value":{"emails[type eq \"work\"].value":"ada.king@contoso.com","name.givenName":"Augusta"}}]}`, 200)
	p.until("flagged replace: email and first name", contact, func(r []map[string]any) bool {
		return len(r) == 1 && r[0]["Email"] == "ada.king@contoso.com" && r[0]["FirstName"] == "Augusta"
	})

	p.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"replace","value":{"active":false}}]}`, 200)
	p.until("disable: opted out", contact, func(r []map[string]any) bool {
		return len(r) == 1 && r[0]["HasOptedOutOfEmail"] == true
	})
}

// usersConfig provisions SCIM Users to Salesforce Users found by their
// FederationIdentifier; a deleted SCIM User deactivates its User.
const usersConfig = scimConfigHead + `  - name: idp_users
    source: idp_user
    object: User
    match: {fields: [FederationIdentifier]}
    operations:
      remove_action: deactivate
    fields:
      - {target: FederationIdentifier, source: userName}
      - {target: Email, source: email}
      - {target: LastName, source: familyName, default: Unknown}
      - {target: ProfileId, value: Standard User}
`

// TestSCIMUserProvisionedAgainAfterDelete: Entra ID deletes a person (the
// Salesforce User is deactivated), then provisions them again: a new SCIM
// id with the same userName. The new record finds the inactive User by
// FederationIdentifier and must activate it, not leave it unable to log in.
func TestSCIMUserProvisionedAgainAfterDelete(t *testing.T) {
	emu, sfURL := startEmulator(t, emulator.Config{})
	s := startServeWith(t, emu, fmt.Sprintf(usersConfig, sfURL), map[string]string{"TEST_SCIM_TOKEN": "idp-token"})
	p := &idpReplay{t: t, s: s, sf: sfURL}
	const body = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@contoso.com","active":true,
		"emails":[{"primary":true,"type":"work","value":"ada@contoso.com"}],"name":{"familyName":"Lovelace"}}`
	user := "SELECT Id, IsActive FROM User WHERE FederationIdentifier = 'ada@contoso.com'"
	id := p.do("POST", "/Users", body, 201)["id"].(string)
	p.until("create: an active User", user, func(r []map[string]any) bool { return len(r) == 1 && r[0]["IsActive"] == true })
	sfID := emuRecords(t, sfURL, user)[0]["Id"]
	p.do("DELETE", "/Users/"+id, "", 204)
	p.until("delete: the User deactivated", user, func(r []map[string]any) bool { return len(r) == 1 && r[0]["IsActive"] == false })
	p.do("POST", "/Users", body, 201)
	p.until("provisioned again: the same User, active", user, func(r []map[string]any) bool {
		return len(r) == 1 && r[0]["Id"] == sfID && r[0]["IsActive"] == true
	})
}
