# tmplrun — build, test and run targets. `make help` lists them.
SHELL := /bin/bash
GO ?= go
# Every Go module in the repository: the library at the root, and
# integration/ (real Vault in-process) once it exists.
MODULES := $(shell find . -name go.mod -not -path './.git/*' -exec dirname {} \; | sort)

.PHONY: help test lint fmt-check vet unit build ci deps integration dev

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

test: deps fmt-check vet unit ## gofmt check, go vet and go test -race over every module

fmt-check: ## fail when a Go file is not gofmt'ed
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet: ## go vet every module
	@set -e; for m in $(MODULES); do echo "go vet ($$m)"; (cd $$m && $(GO) vet ./...); done

unit: ## go test -race every module
	@set -e; for m in $(MODULES); do echo "go test -race ($$m)"; (cd $$m && $(GO) test -race -count=1 ./...); done

integration: deps ## go test -race the integration module only (a real Vault in-process)
	cd integration && $(GO) test -race -count=1 ./...

deps: ## install what the tests need and is missing: PostgreSQL (integration/ runs it for Vault's database engine)
	@if ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || \
	    (command -v initdb && command -v postgres) >/dev/null 2>&1; then :; else \
		echo "deps: installing postgresql (apt-get)"; \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q postgresql; \
	fi

lint: fmt-check vet ## static checks (gofmt, go vet)

build: ## build the tmplrun binary into bin/
	$(GO) build -o bin/tmplrun ./cmd/tmplrun

dev: build ## a dev Vault (in memory) and tmplrun on examples/quickstart; Ctrl-C stops both
	cd integration && $(GO) build -o ../bin/vault-dev ./cmd/vault-dev
	./scripts/dev.sh

.PHONY: bench
bench: ## tmplrun beside consul-template v0.41.3 against a real Vault: a markdown table (~10 min; docs/performance.md)
	cd integration && $(GO) run ./cmd/bench $(BENCH_FLAGS)

ci: ## what .ci/run does on a clean clone
	$(MAKE) test
