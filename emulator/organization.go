package emulator

// The Organization object: one read-only record describing the org, whose
// Id is the org Id (prefix 00D). Integrations read it at start-up
// (SELECT Id, IsSandbox, InstanceName FROM Organization) to tell a sandbox
// from production and to learn the instance. Field list after Salesforce's
// object reference for Organization (the fields integrations read; not the
// complete list).

// standardOrganization builds the Organization object.
func standardOrganization() *sobject {
	fs := auditHead()[:1] // no IsDeleted
	fs = append(fs,
		text("Name", "Name", 80).required().nameField(),
		text("Division", "Division", 80))
	fs = append(fs, address("", "")...)
	fs = append(fs,
		fb("Phone", "Phone", "phone"), fb("Fax", "Fax", "phone"),
		text("PrimaryContact", "Primary Contact", 80),
		pick("DefaultLocaleSidKey", "Locale", locales...).restricted().required(),
		pick("TimeZoneSidKey", "Time Zone", timeZones...).restricted().required(),
		pick("LanguageLocaleKey", "Language", languages...).restricted().required(),
		fb("ReceivesInfoEmails", "Info Emails", "boolean"),
		fb("ReceivesAdminInfoEmails", "Info Emails Admin", "boolean"),
		fb("FiscalYearStartMonth", "Fiscal Year Starts In", "int"),
		fb("UsesStartDateAsFiscalYearName", "Fiscal Year Name by Start", "boolean"),
		pick("DefaultAccountAccess", "Default Account Access", "None", "Read", "Edit", "ReadEditTransfer"),
		pick("DefaultContactAccess", "Default Contact Access", "None", "Read", "Edit", "ControlledByParent"),
		pick("DefaultLeadAccess", "Default Lead Access", "None", "Read", "Edit", "ReadEditTransfer"),
		fb("ComplianceBccEmail", "Compliance BCC Email", "email"),
		text("UiSkin", "UI Skin", 40),
		text("SignupCountryIsoCode", "Signup Country", 2),
		fb("TrialExpirationDate", "Trial Expiration Date", "datetime"),
		pick("OrganizationType", "Edition", "Team Edition", "Professional Edition", "Enterprise Edition",
			"Developer Edition", "Personal Edition", "Unlimited Edition", "Contact Manager Edition", "Base Edition"),
		text("NamespacePrefix", "Namespace Prefix", 15),
		text("InstanceName", "Instance Name", 5),
		fb("IsSandbox", "Is Sandbox", "boolean"),
		fb("IsReadOnly", "Is Read Only", "boolean"),
		fb("MonthlyPageViewsUsed", "Monthly Page Views Used", "int"),
		fb("MonthlyPageViewsEntitlement", "Monthly Page Views Allowed", "int"),
	)
	fs = append(fs, auditTail()...)
	for _, f := range fs[1:] {
		f.readOnly()
	}
	o := newSobject("Organization", "Organization", "Organizations", "00D", fs...)
	o.Createable, o.Updateable, o.Deletable, o.Undeletable = false, false, false, false
	return o
}

// seedOrganizationLocked creates the Organization record when the org has
// none (a fresh org, or a data file saved before the object existed).
func (e *Emulator) seedOrganizationLocked() error {
	if e.org.records[e.org.id] != nil {
		return nil
	}
	name := e.cfg.OrgName
	if name == "" {
		name = "Forcesync Emulator"
	}
	typ, instance := "Enterprise Edition", "EMU"+e.org.pod
	if e.cfg.Sandbox {
		// Sandbox instances are named CS<n> on Salesforce.
		typ, instance = "Enterprise Edition", "CS"+e.org.pod
	}
	prev := e.actorLocked()
	e.setActorLocked(e.org.adminID)
	defer e.setActorLocked(prev)
	_, rerr := e.insertRecordLocked("Organization", map[string]any{
		"Name": name, "Country": "United States", "DefaultLocaleSidKey": "en_US",
		"TimeZoneSidKey": "America/Los_Angeles", "LanguageLocaleKey": "en_US",
		"ReceivesInfoEmails": true, "ReceivesAdminInfoEmails": true, "FiscalYearStartMonth": 1.0,
		"UsesStartDateAsFiscalYearName": false, "DefaultAccountAccess": "Edit", "DefaultContactAccess": "ControlledByParent",
		"DefaultLeadAccess": "ReadEditTransfer", "UiSkin": "Theme3", "SignupCountryIsoCode": "US",
		"OrganizationType": typ, "InstanceName": instance, "IsSandbox": e.cfg.Sandbox, "IsReadOnly": false,
		"MonthlyPageViewsUsed": 0.0, "MonthlyPageViewsEntitlement": 0.0,
		"PrimaryContact": "Admin User",
	}, e.org.id, true)
	if rerr != nil {
		return rerr
	}
	return nil
}
