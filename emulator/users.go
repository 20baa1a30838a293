package emulator

// UserRole: the role hierarchy object a User's UserRoleId points to.
// Salesforce lets the API create roles; the emulator seeds none, so Ids of
// seeded records stay as they were.
func standardUserRole() *sobject {
	fs := auditHead()[:1] // no IsDeleted
	fs = append(fs, text("Name", "Name", 80).required().nameField(),
		ref("ParentRoleId", "Parent Role ID", "ParentRole", "UserRole"),
		text("DeveloperName", "Developer Name", 80),
		text("RollupDescription", "Description", 80))
	fs = append(fs, auditTail()...)
	o := newSobject("UserRole", "Role", "Roles", "00E", fs...)
	o.Undeletable = false
	return o
}
