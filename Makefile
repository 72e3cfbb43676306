# tmplrun — build, test and run targets. `make help` lists them.
SHELL := /bin/bash
GO ?= go
# Every Go module in the repository: the library at the root, and
# integration/ (real Vault in-process) once it exists.
MODULES := $(shell find . -name go.mod -not -path './.git/*' -exec dirname {} \; | sort)

.PHONY: help test lint fmt-check vet unit build ci

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

test: fmt-check vet unit ## gofmt check, go vet and go test -race over every module

fmt-check: ## fail when a Go file is not gofmt'ed
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet: ## go vet every module
	@set -e; for m in $(MODULES); do echo "go vet ($$m)"; (cd $$m && $(GO) vet ./...); done

unit: ## go test -race every module
	@set -e; for m in $(MODULES); do echo "go test -race ($$m)"; (cd $$m && $(GO) test -race -count=1 ./...); done

lint: fmt-check vet ## static checks (gofmt, go vet)

build: ## build the tmplrun binary into bin/
	$(GO) build -o bin/tmplrun ./cmd/tmplrun

ci: ## what .ci/run does on a clean clone
	$(MAKE) test
