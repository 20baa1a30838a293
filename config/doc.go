// Package config reads forcesync's YAML configuration: connections,
// sources, mappings, and the engine, server and store settings.
//
// Parsing is strict: an unknown key, a value of the wrong type or outside
// its allowed set is an error naming the file, the line, the key path and
// what was expected, e.g.
//
//	forcesync.yaml:12: mappings[0].match.kind: "extid" is not one of external_id, fields, binding
//
// Secrets are never written in the file: they are environment references
// (client_secret: ${SF_SECRET}, or client_secret_env: SF_SECRET) resolved by
// Config.Resolve through a getenv function the caller passes, so only
// cmd/ reads the environment. docs/configuration.md lists every key.
package config
