# lacre - GNU Makefile.  Sources are found by folder, so adding a file to
# lib/, cmd/<program>/, tests/unit/ or fuzz/ needs no edit here.
#
#   make            build liblacre and the programs into build/
#   make check      deps, build, unit + known-answer + end-to-end tests, then
#                   the same unit tests under ASan+UBSan (build-asan/)
#   make demo       deps, build, run the main job on the embedded default site
#   make test       build (normal and ASan), then tests/run (no deps step)
#   make coverage   gcov build into build/cov/ (no sanitizers), run the unit
#                   tests, print line coverage per lib/ folder, overall, and
#                   the lib/ files below 50 % (tests/coverage)
#   make soak       tests/run with LACRE_SOAK=1 on the e2e scripts fault_*
#                   (long fault-injection runs; none found is a failure)
#   make bench      benchmarks (figures printed, never asserted)
#   make fuzz       libFuzzer harnesses (clang) into build-fuzz/
#   make SAN=1      sanitizer build into build-asan/
#   make COV=1      coverage build into build/cov/ (what make coverage uses)
#   WERROR=1        warnings are errors (set by CI)

CC      ?= cc
PKGS    := openssl libcurl sqlite3 expat libmicrohttpd
SAN     ?=
COV     ?=
ifeq ($(CI),true)
WERROR  ?= 1
endif

ifeq ($(COV),1)
B       := build/cov
OPT     := -O0 -g --coverage
HARDEN  := -fPIE
LDSAN   := --coverage
else ifeq ($(SAN),1)
B       := build-asan
OPT     := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
HARDEN  := -fstack-protector-strong -fPIE
LDSAN   := -fsanitize=address,undefined
else
B       := build
OPT     := -O2 -g
HARDEN  := -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fstack-clash-protection \
           -fcf-protection=full -fPIE
LDSAN   :=
endif

WARN    := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN    += -Werror
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS  := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(HARDEN) -Iinclude -Ilib $(PKG_CFLAGS) -MMD -MP
LDFLAGS := -pie -Wl,-z,relro,-z,now,-z,noexecstack $(LDSAN)
LIBS    := $(PKG_LIBS) -lm -lpthread
# unit tests only: zlib inflates the compressed CCTV age vectors
TEST_LIBS := -lz

LIB_SRC  := $(sort $(shell find lib -name '*.c'))
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/obj/%.o)
LIBA     := $(B)/liblacre.a

PROGS    := lacre lacre-verify lacre-mediator lacre-console
PROG_BIN := $(PROGS:%=$(B)/bin/%)

TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(B)/tests/%)
TEST_LIB := $(B)/obj/tests/harness.o

BENCH_SRC := $(sort $(wildcard bench/bench_*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(B)/bench/%)

.SECONDARY:
.PHONY: all deps check test test-unit test-e2e test-asan demo bench fuzz clean coverage soak unit-tests
all: $(LIBA) $(PROG_BIN) $(TEST_BIN) $(BENCH_BIN)

deps:
	@scripts/deps

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIBA): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# Each program is the .c files of its folder under cmd/.
define prog_rule
$(1)_SRC := $$(sort $$(wildcard cmd/$(1)/*.c))
$(1)_OBJ := $$($(1)_SRC:%.c=$(B)/obj/%.o)
$(B)/bin/$(1): $$($(1)_OBJ) $(LIBA)
	@mkdir -p $$(dir $$@)
	$(CC) $(LDFLAGS) -o $$@ $$($(1)_OBJ) $(LIBA) $$($(1)_LIBS)
endef
lacre_LIBS          := $(LIBS)
lacre-mediator_LIBS := $(LIBS)
lacre-console_LIBS  := $(LIBS)
# lacre-verify is linked against OpenSSL's libcrypto alone: if any module it
# uses ever reaches the network, the index or a site, this link fails.
lacre-verify_LIBS   := $(shell pkg-config --libs libcrypto 2>/dev/null || echo -lcrypto) -lm
$(foreach p,$(PROGS),$(eval $(call prog_rule,$(p))))

$(B)/tests/%: tests/unit/%.c $(TEST_LIB) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -Itests -o $@ $< $(TEST_LIB) $(LIBA) $(LIBS) $(TEST_LIBS)

$(B)/bench/%: bench/%.c $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LIBS)

check: deps
	$(MAKE) all
	$(MAKE) SAN=1 all
	tests/run

test:
	$(MAKE) all
	$(MAKE) SAN=1 all
	tests/run

# The unit-test binaries alone (make COV=1 unit-tests: what coverage needs).
unit-tests: $(TEST_BIN)

# Line coverage of lib/ by the unit tests (gcov, no extra package).
coverage:
	$(MAKE) COV=1 unit-tests
	tests/coverage

# Fault-injection e2e scripts (tests/e2e/fault_*.sh) in their long form.
soak:
	$(MAKE) all
	LACRE_SOAK=1 tests/run e2e/fault_

demo: deps
	$(MAKE) all
	scripts/demo

bench: deps
	$(MAKE) all
	bench/run

fuzz:
	fuzz/build

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find build build-asan -name '*.d' 2>/dev/null)
