// Package mapping turns source records into Salesforce payloads.
//
// Compile checks a forcesync.Mapping once against the describe of its
// object, so a mapping that can never work (a missing or read-only field, a
// constant that does not fit, a value map outside a restricted picklist, a
// required field nobody fills) is a config error before any record moves.
// The Compiled mapping then filters records and builds payloads: values
// coerced to each field's type, text cut to length (with a warning), numbers
// rounded to scale, and the values Salesforce would refuse (out of range,
// bad email, bad picklist value, missing required field) refused locally as
// *forcesync.RecordError, so no API call is spent on them.
//
// Expressions (field values and filters) use expr-lang/expr; the record's
// fields are the variables, and str, coalesce and blank are available.
package mapping
