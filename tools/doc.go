// Package tools pins the versions of the developer tools the Makefile runs
// (`go tool <name>` from this module), so every machine and CI use the same
// ones without installing anything by hand.
package tools
