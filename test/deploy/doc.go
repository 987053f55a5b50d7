// Package deploy checks the deployment artifacts under deployments/ against
// the code they deploy:
//
//   - every metric the Grafana dashboard and the Prometheus alert rules query
//     is one the gateway and the forwarder export (learned by scraping the
//     real binaries after some simulated traffic, and by reading the
//     instrument names in the Go source for series that only appear on
//     errors);
//   - the alert rules load as Prometheus would load them (rulefmt and the
//     PromQL parser);
//   - the Helm chart lints and renders, and every rendered manifest decodes
//     strictly into the Kubernetes API types (unknown fields are errors);
//   - the compose files are valid YAML with the services the README names.
//
// It is its own Go module, outside the workspace, so that the Prometheus and
// Kubernetes libraries it needs stay out of the product modules:
//
//	cd test/deploy && GOWORK=off go test -race -count=1 ./...
//
// With -short the tests that build and run binaries are skipped.
package deploy
