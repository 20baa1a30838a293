package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/forcesync/forcesync/salesforce"
	"github.com/spf13/cobra"
)

func init() { register(newDescribeCmd) }

// describedField is one row of forcesync describe, also its JSON form.
type describedField struct {
	Name       string   `json:"name"`
	Label      string   `json:"label"`
	Type       string   `json:"type"`
	Length     int      `json:"length,omitempty"`
	Required   bool     `json:"required"`
	ExternalID bool     `json:"externalId"`
	Unique     bool     `json:"unique,omitempty"`
	Updateable bool     `json:"updateable"`
	Picklist   []string `json:"picklistValues,omitempty"` // active values only
	References []string `json:"referenceTo,omitempty"`
}

type describedObject struct {
	Name   string           `json:"name"`
	Label  string           `json:"label"`
	Fields []describedField `json:"fields"`
}

func describeRows(d *salesforce.SObjectDescribe) describedObject {
	out := describedObject{Name: d.Name, Label: d.Label, Fields: make([]describedField, 0, len(d.Fields))}
	for _, f := range d.Fields {
		df := describedField{
			Name: f.Name, Label: f.Label, Type: f.Type, Length: f.Length,
			Required: f.RequiredOnCreate(), ExternalID: f.ExternalID, Unique: f.Unique,
			Updateable: f.Updateable, References: f.ReferenceTo,
		}
		for _, p := range f.PicklistValues {
			if p.Active {
				df.Picklist = append(df.Picklist, p.Value)
			}
		}
		out.Fields = append(out.Fields, df)
	}
	return out
}

func newDescribeCmd(env *Env) *cobra.Command {
	var conn string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "describe OBJECT",
		Short: "Show an object's fields: type, length, required, external id, picklist values",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, _, err := openClient(ctx, env, conn)
			if err != nil {
				return err
			}
			d, err := c.Describe(ctx, args[0])
			if err != nil {
				return classifyCall(err)
			}
			obj := describeRows(d)
			if asJSON {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(obj)
			}
			fmt.Fprintf(env.Stdout, "%s (%s): %d fields\n\n", obj.Name, obj.Label, len(obj.Fields))
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tTYPE\tLENGTH\tREQUIRED\tEXTERNAL ID\tPICKLIST VALUES")
			for _, f := range obj.Fields {
				length := ""
				if f.Length > 0 {
					length = strconv.Itoa(f.Length)
				}
				typ := f.Type
				if len(f.References) > 0 {
					typ += "(" + strings.Join(f.References, ",") + ")"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.Name, typ, length, yes(f.Required), yes(f.ExternalID), picklistCell(f.Picklist))
			}
			return tw.Flush()
		},
	}
	connectionFlag(cmd, &conn)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return ""
}

// picklistCell lists values, cut short so one long picklist does not
// swallow the table (--json has them all).
func picklistCell(vs []string) string {
	const max = 8
	if len(vs) <= max {
		return strings.Join(vs, ", ")
	}
	return strings.Join(vs[:max], ", ") + fmt.Sprintf(", ... (%d more)", len(vs)-max)
}
