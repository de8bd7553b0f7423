# lmfast — see README.md. On a fresh Debian machine `make deps` (run by
# build and test) installs the C libraries the build needs when run as root;
# once they are installed no target needs root.

GO       ?= go
BIN      := bin/lmfast
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
DATE     := $(shell date -u +%Y-%m-%d)
FUZZTIME ?= 60s

export PATH := $(PATH):/usr/local/go/bin

.PHONY: all deps build test race fuzz bench run clean

all: build

# libzmq (via cgo) and pkg-config to find it (`make bench` installs fio). Installs
# them only when pkg-config cannot find libzmq, and only as root: anyone else
# is told what to install.
deps:
	@if ! pkg-config --exists libzmq 2>/dev/null; then \
		if [ "$$(id -u)" != 0 ]; then \
			echo "libzmq not found: install it as root with apt-get install libzmq3-dev pkg-config (or run make deps as root)" >&2; \
			exit 1; \
		fi; \
		echo "installing libzmq3-dev and pkg-config"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libzmq3-dev pkg-config >/dev/null || exit 1; \
		pkg-config --exists libzmq || { echo "libzmq not found after install" >&2; exit 1; }; \
	fi

build: deps
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/lmfast

# The test command of the README: vet, the whole suite, the race tests of
# the lock-free parts, and a short pass of every fuzz target.
test: deps
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$unformatted" ]; then echo "not gofmt-ed: $$unformatted" >&2; exit 1; fi
	$(GO) vet ./...
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -race ./ring/ ./engine/... ./l2/... ./hugepage/...
	@$(MAKE) --no-print-directory fuzz FUZZTIME=5s

# Every Fuzz* target, FUZZTIME each (make fuzz FUZZTIME=10m for a long run).
# A pass that ends in "context deadline exceeded" with no failing input is
# go's fuzz coordinator missing its own deadline on a starved machine, not
# a finding: that target is run once more. A failing input always fails.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$f ($(FUZZTIME))"; \
			for try in 1 2; do \
				out=$$($(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg 2>&1) && break; \
				if [ $$try = 1 ] && echo "$$out" | grep -q 'context deadline exceeded' && ! echo "$$out" | grep -q 'Failing input'; then \
					echo "fuzz $$pkg $$f: the fuzz coordinator missed its deadline; once more"; continue; \
				fi; \
				echo "$$out" | tail -40 >&2; exit 1; \
			done; \
		done; \
	done

# Benchmarks write dated reports into bench_results/.
bench: build
	@for s in scripts/bench-*.sh; do echo "== $$s"; bash $$s $(BIN) bench_results $(DATE) || exit 1; done

# A demo load against the embedded reference controller; then its JSONL
# file merged by `lmfast report` and drawn by `lmfast plot`.
run: build
	$(BIN) controller --embedded --duration 10 --operations admit:35,evict:29,heartbeat:1,p2p_lookup:35 --out lmfast-run.jsonl
	$(BIN) report lmfast-run.jsonl
	$(BIN) plot lmfast-run.jsonl -o lmfast-run.png

clean:
	rm -rf bin lmfast-run.jsonl lmfast-run.png
