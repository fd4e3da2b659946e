# Sentinel — `make demo` works on a clean clone with Go and gcc; `make test` also needs Node.js
# (npm) and Java 17+ for the DynamoDB stand-ins.
GO       ?= go
BIN      := bin/sentinel
VERSION  := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
FIXTURES := testdata/fixtures
WINDOW   := --since 2026-11-01T00:00:00Z --until 2026-11-08T00:00:00Z
# Fuzz targets run by `make test`, each for a bounded number of executions.
FUZZ     := ./sourceid:FuzzParse ./window:FuzzParseTime ./policy:FuzzParse ./ingest:FuzzNormalize ./ingest:FuzzRecordsArray ./reports:FuzzAppendIndented ./ingest:FuzzNormalizeFast ./ingest:FuzzScanString ./ingest:FuzzValueStream ./ingest:FuzzInflate ./integrity:FuzzParseDigest ./integrity:FuzzParseDigestFast ./integrity:FuzzParseDigestKey ./integrity:FuzzParseLogFileKey
FUZZRUNS ?= 20000x
# Go build tags: libdeflate when Debian's libdeflate-dev is installed (scripts/libdeflate.sh), which
# inflates trail files in ~40 % of the pure-Go inflate's time; without it the build still works.
TAGS      = $(shell scripts/libdeflate.sh)
# SENTINEL_REQUIRE_LIBDEFLATE=1 / SENTINEL_REQUIRE_AWSCLI=1 / SENTINEL_REQUIRE_CHROMIUM=1 (as .ci/run
# sets) make test fail when libdeflate-dev / awscli / chromium are missing and cannot be installed;
# otherwise it says so and goes on: on the pure-Go inflate, without the validate-logs and browser tests.

.PHONY: build demo test unit fuzz bench lint clean deps test-deps

build:
	$(GO) build -tags "$(TAGS)" -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/sentinel

# What the tests and benchmarks build with: libdeflate-dev, installed with apt when missing and apt
# is usable (root, or sudo without a password); else the pure-Go inflate, a supported build.
deps:
	@[ -n "$$(scripts/libdeflate.sh --install)" ] || { \
		[ -z "$$SENTINEL_REQUIRE_LIBDEFLATE" ] || { echo "make: libdeflate-dev is required (SENTINEL_REQUIRE_LIBDEFLATE) and could not be installed: apt-get install libdeflate-dev" >&2; exit 1; }; \
		echo "make: building and testing with the pure-Go inflate (klauspost/compress): libdeflate-dev is not installed and apt could not install it (apt-get install libdeflate-dev for the faster build)" >&2; }

# What the tests check with besides, installed with apt when missing and apt is usable: Debian's
# awscli (validate-logs) and chromium (the HTML report rendered in a real browser): without them
# those tests are skipped, unless SENTINEL_REQUIRE_AWSCLI / SENTINEL_REQUIRE_CHROMIUM (as .ci/run sets).
test-deps:
	@scripts/awscli.sh || { \
		[ -z "$$SENTINEL_REQUIRE_AWSCLI" ] || { echo "make: awscli is required (SENTINEL_REQUIRE_AWSCLI) and could not be installed: apt-get install awscli" >&2; exit 1; }; \
		echo "make: testing without Debian's awscli: the validate-logs test is skipped (apt-get install awscli to run it)" >&2; }
	@scripts/chromium.sh || { \
		[ -z "$$SENTINEL_REQUIRE_CHROMIUM" ] || { echo "make: chromium is required (SENTINEL_REQUIRE_CHROMIUM) and could not be installed: apt-get install chromium" >&2; exit 1; }; \
		echo "make: testing without Debian's chromium: the HTML report's browser tests are skipped (apt-get install chromium to run them)" >&2; }

# The main job on the bundled fixtures: ingest into a throw-away warehouse, then the reports.
# The reports exit 1 when they find gaps, which is what the fixtures contain.
demo: build
	@wh=$$(mktemp -d); trap 'rm -rf "$$wh"' EXIT; \
	run() { echo; echo "\$$ sentinel $$*"; ./$(BIN) --config $(FIXTURES)/sentinel.yaml --warehouse "$$wh" "$$@"; s=$$?; [ $$s -le 1 ] || exit $$s; }; \
	run ingest --source $(FIXTURES)/trail --source $(FIXTURES)/handoff --sessions-file $(FIXTURES)/sessions && \
	run audit session-compliance $(WINDOW) --with-activity && \
	run audit untracked-sessions $(WINDOW) && \
	run audit activity $(WINDOW) && \
	run audit report $(WINDOW) --out bin/report.html && echo "the evidence report: bin/report.html"

test: deps test-deps build unit fuzz

# Unit and integration tests, with the AWS stand-ins (dynalite and DynamoDB Local) running for
# their duration. The binary tests of cmd/sentinel take about 10 minutes on two cores: past go
# test's default timeout.
unit:
	scripts/with-standins.sh $(GO) test -tags "$(TAGS)" -count=1 -timeout 30m ./...
	[ -z "$(TAGS)" ] || $(GO) test -count=1 -run 'Inflate|Hostile|Version' ./ingest/ ./cmd/sentinel/ # as built without libdeflate

fuzz:
	@for t in $(FUZZ); do pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz $$pkg $$fn ($(FUZZRUNS))"; \
		$(GO) test -tags "$(TAGS)" -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZRUNS) $$pkg || exit 1; \
	done

# Whole-run benchmarks over synthetic trails (internal/trailgen); SENTINEL_BENCH_EVENTS=1000000 for 1M.
bench: deps build
	$(GO) test -tags "$(TAGS)" -run '^$$' -bench . -benchtime 1x ./ingest/ ./queries/ ./reports/

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

# Vetted as built both ways: with libdeflate and without.
lint: deps
	@out=$$(gofmt -l $$(git ls-files '*.go')); [ -z "$$out" ] || { echo "gofmt needed: $$out"; exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags "$(TAGS)" ./...
	$(GO) run $(STATICCHECK) ./...
	$(GO) run $(STATICCHECK) -tags "$(TAGS)" ./...

clean:
	rm -rf bin
