package mapping

import (
	"fmt"
	"maps"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/salesforce"
)

// lifecycle is what disabling and deprovisioning a record mean for one
// mapping, checked against the object's describe.
type lifecycle struct {
	disableWhen *vm.Program
	// writes disable the record: the configured disable writes coerced to
	// their fields, or IsActive=false for a User. Nil when disabling has
	// no field writes (it applies the remove action, or nothing).
	writes map[string]any
	// activeRow reports that a field row writes IsActive itself, so the
	// engine leaves reactivation to it.
	activeRow bool
}

func (c *Compiled) compileLifecycle(d *salesforce.SObjectDescribe, bad func(string, string, ...any)) {
	o := c.m.Operations
	if o.DisableWhen != "" {
		p, err := expr.Compile(o.DisableWhen, append(exprOptions(), expr.AsBool())...)
		if err != nil {
			bad("", "disable_when %q: %s", o.DisableWhen, oneLine(err))
		} else {
			c.life.disableWhen = p
		}
	}
	for _, r := range c.m.Fields {
		if strings.EqualFold(r.Target, "IsActive") {
			c.life.activeRow = true
		}
	}
	writes := o.DisableWrites
	if len(writes) == 0 && !o.DisableRemoves && forcesync.IsUser(c.object) {
		writes = map[string]any{"IsActive": false}
	}
	if len(writes) == 0 {
		return
	}
	c.life.writes = make(map[string]any, len(writes))
	for name, v := range writes {
		f := d.Field(name)
		switch {
		case f == nil:
			bad(name, "disable_with: no such field on %s", c.object)
			continue
		case !f.Updateable:
			bad(f.Name, "disable_with: the field cannot be updated (describe: updateable false)")
			continue
		}
		if v == nil {
			if !f.Nillable {
				bad(f.Name, "disable_with: the field cannot be cleared (describe: nillable false)")
			}
			c.life.writes[f.Name] = nil
			continue
		}
		out, _, rerr := newTarget(f).coerce(v)
		if rerr != nil {
			bad(f.Name, "disable_with %s: %s", describeValue(v), strings.TrimPrefix(rerr.Message, f.Label+": "))
			continue
		}
		c.life.writes[f.Name] = out
	}
}

// RemoveAction is what deprovisioning a record does in Salesforce: delete,
// deactivate (the disable writes) or ignore.
func (c *Compiled) RemoveAction() forcesync.DeleteAction { return c.m.Operations.Delete }

// Deprovisions reports whether a record deleted in the application or out
// of the mapping's scope is deprovisioned (its remove action applied).
func (c *Compiled) Deprovisions() bool { return !c.m.Operations.NoDeprovision }

// Disables reports whether disabled records are disabled in Salesforce.
func (c *Compiled) Disables() bool { return !c.m.Operations.NoDisable }

// DisableRemoves reports whether disabling applies the remove action
// rather than field writes.
func (c *Compiled) DisableRemoves() bool { return c.m.Operations.DisableRemoves }

// DisableWrites returns a copy of the field writes that disable a record
// (IsActive=false for a User unless configured otherwise), or nil.
func (c *Compiled) DisableWrites() map[string]any {
	if c.life.writes == nil {
		return nil
	}
	return maps.Clone(c.life.writes)
}

// Reactivates reports whether the engine must write IsActive=true when a
// disabled record is updated again: a User mapping without its own
// IsActive row.
func (c *Compiled) Reactivates() bool {
	return forcesync.IsUser(c.object) && !c.life.activeRow
}

// DisabledBy reports whether the mapping's disable_when rule disables the
// record; false without a rule. An expression that fails on this record is
// a *forcesync.RecordError with code EXPRESSION_ERROR.
func (c *Compiled) DisabledBy(fields map[string]any) (bool, error) {
	if c.life.disableWhen == nil {
		return false, nil
	}
	out, err := expr.Run(c.life.disableWhen, env(fields))
	if err != nil {
		return false, &forcesync.RecordError{Code: CodeExpressionError, Message: "disable_when: " + oneLine(err)}
	}
	b, ok := out.(bool)
	if !ok {
		return false, &forcesync.RecordError{Code: CodeExpressionError, Message: fmt.Sprintf("disable_when gave %T, not a boolean", out)}
	}
	return b, nil
}
