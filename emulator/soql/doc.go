// Package soql parses, prints and evaluates the subset of Salesforce's SOQL
// that the emulator serves: one object, a field list with one level of
// parent relationships (Owner.Name), COUNT(), WHERE with AND/OR/NOT and the
// comparison, LIKE and IN operators over typed literals, ORDER BY with NULLS
// FIRST/LAST, LIMIT and OFFSET.
//
// The package knows nothing of the emulator's storage. Callers describe their
// schema through the Schema and Object interfaces and hand rows in through the
// Row interface. Parse turns text into an AST (syntax only); Compile resolves
// names and types against a Schema and turns the WHERE clause into closures
// once, so a query over a large object costs one closure call per row.
//
// Errors are *Error values carrying Salesforce's error code (MALFORMED_QUERY,
// INVALID_FIELD, INVALID_TYPE, ...) and its positional message shape:
//
//	\nSELECT Id, FROM Lead\n           ^\nERROR at Row:1:Column:12\nunexpected token: 'FROM'
package soql
