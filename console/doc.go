// Package console is forcesync's admin console: server-rendered pages
// (html/template, embedded templates and assets, no build step, a small
// script of our own and no other) that serve mounts under / beside the REST
// API. Admins sign in with a password checked against bcrypt hashes from
// the config; sessions live in the store (forcesync.SessionStore). Every
// state-changing request passes net/http's CrossOriginProtection, and every
// response carries a Content-Security-Policy without inline script.
package console
