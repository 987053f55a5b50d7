# fleetrelay: one Makefile for the whole Go workspace.
# `./...` does not work at a go.work root, so every target names the modules.

MODULES   := wal protos shared gateway forwarder test
PKGS      := $(foreach m,$(MODULES),./$(m)/...)
GO        ?= go
FUZZTIME  ?= 30s
BENCHTIME ?= 1x
export CGO_ENABLED := 1

.PHONY: all build test vet fmt fmt-check lint generate generate-check run bench fuzz tidy clean reliability

all: build

## build: compile every command into ./bin
build:
	@mkdir -p bin
	$(GO) build -o bin/ $$($(GO) list -f '{{if eq .Name "main"}}{{.ImportPath}}{{end}}' $(PKGS))

## test: generated code fresh, gofmt, go vet, every test with the race detector,
## then the deployment checks (test/deploy: its own module outside the
## workspace, so Prometheus and Kubernetes libraries stay out of the product)
test: generate-check fmt-check vet
	$(GO) test -race -count=1 -timeout=30m $(PKGS)
	cd test/deploy && GOWORK=off $(GO) vet ./... && GOWORK=off $(GO) test -race -count=1 -timeout=20m ./...

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -w $(MODULES)

fmt-check:
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## lint: gofmt + go vet + staticcheck (pinned by the tool directive in tools/go.mod)
lint: fmt-check vet
	@mkdir -p bin
	cd tools && GOWORK=off $(GO) build -o ../bin/staticcheck honnef.co/go/tools/cmd/staticcheck
	bin/staticcheck $(PKGS)

## generate: regenerate protobuf Go code with pinned tools (protoc from Debian, protoc-gen-go from protos/go.mod)
generate:
	scripts/generate.sh

## generate-check: fail if the committed generated code is stale
generate-check:
	scripts/generate.sh --check

## run: development PKI, gateway, forwarder (logger sink) and a few simulated vehicles
run: build
	scripts/run.sh

## bench: measured runs; results are written to docs/BENCHMARKS.md by the bench scripts
bench: build
	scripts/bench.sh

## reliability: the long end-to-end fault run (RELIABILITY_DURATION, default 10m)
RELIABILITY_DURATION ?= 10m
reliability:
	$(GO) run ./test/cmd/reliability -duration $(RELIABILITY_DURATION)

## fuzz: every fuzz target, one after another, FUZZTIME each
fuzz:
	scripts/fuzz.sh $(FUZZTIME)

tidy:
	@for m in $(MODULES); do (cd $$m && $(GO) mod tidy) || exit 1; done
	$(GO) work sync

clean:
	rm -rf bin .run
