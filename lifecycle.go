package forcesync

import "context"

// BindingStore writes a binding outside a push's Complete: the engine
// rebinding a record to the Salesforce record that replaced its twin (a
// Lead converted to a Contact continues under the source's Contact
// mapping). Both stores implement it (storetest covers it).
type BindingStore interface {
	// Bind sets the binding of (b.Mapping, b.Key) to b.SalesforceID with
	// b.Fingerprint (empty: the next push is sent whatever its payload),
	// replacing any binding the key had under that mapping.
	Bind(ctx context.Context, b Binding) error
}

// States and fingerprints of Salesforce's own lifecycle.
const (
	// StateConverted: the Lead was converted in Salesforce; the record
	// continues under the source's Contact mapping (see the status's
	// warnings). Its Lead mapping no longer writes to the Lead.
	StateConverted State = "converted"
	// FingerprintConverted is the Lead binding's fingerprint after a
	// conversion: the mapping settles the record without a call.
	FingerprintConverted = "converted"
)

// Record error codes of Salesforce limits forcesync handles.
const (
	// CodeLeadConverted: the Lead was converted to a Contact and no Contact
	// mapping of the source takes the record; the message names the Contact.
	CodeLeadConverted = "LEAD_CONVERTED"
	// CodePortalUser: Salesforce cannot delete the Contact because a portal
	// User is tied to it; the message names the User.
	CodePortalUser = "PORTAL_USER"
)
