# lacre - GNU Makefile.  Sources are found by folder, so adding a file to
# lib/, cmd/<program>/, tests/unit/ or fuzz/ needs no edit here.
#
#   make            build liblacre and the programs into build/
#   make check      deps, build, unit + known-answer + end-to-end tests, then
#                   the same unit tests under ASan+UBSan (build-asan/)
#   make demo       deps, build, run the main job on the embedded default site
#   make demo-token the same with the master key in a SoftHSM2 (PKCS#11) token
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
PKGS    := openssl libcurl sqlite3 expat libmicrohttpd libseccomp
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
# one section per function: lacre-ingest links with --gc-sections, so that
# what it never calls (the keystore beside site_open in site.c) is not in it
CFLAGS  := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(HARDEN) -ffunction-sections -fdata-sections \
           -Iinclude -Ilib $(PKG_CFLAGS) -MMD -MP
LDFLAGS := -pie -Wl,-z,relro,-z,now,-z,noexecstack $(LDSAN)
LIBS    := $(PKG_LIBS) -lm -lpthread
# unit tests only: zlib inflates the compressed CCTV age vectors
TEST_LIBS := -lz

LIB_SRC  := $(sort $(shell find lib -name '*.c'))
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/obj/%.o)
LIBA     := $(B)/liblacre.a

# The trust domains (docs/trust-domains.md) as two archives.  The keeper
# domain is lib/keeper (keystore, master key, passphrase, the service) and
# lib/access (the gate, reads, index, export, shredding); everything else is
# the core (util, wire, seal, site, ledger, store, verify, ingest, proto).
# liblacre.a holds both, for the tests, benchmarks and tools.
KEEPER_DIRS := lib/keeper lib/access
KEEPER_SRC  := $(filter $(KEEPER_DIRS:%=%/%),$(LIB_SRC))
CORE_SRC    := $(filter-out $(KEEPER_SRC),$(LIB_SRC))
LIBCORE     := $(B)/liblacre-core.a
LIBKEEPER   := $(B)/liblacre-keeper.a

PROGS    := lacre lacre-keeper lacre-verify lacre-mediator lacre-ingest lacre-signer lacre-console
PROG_BIN := $(PROGS:%=$(B)/bin/%)

TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(B)/tests/%)
TEST_LIB := $(B)/obj/tests/harness.o

BENCH_SRC := $(sort $(wildcard bench/bench_*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(B)/bench/%)

.SECONDARY:
.PHONY: all deps check test test-unit test-e2e test-asan demo demo-token bench fuzz clean coverage soak unit-tests link-check \
        lint-keystore
all: $(LIBA) $(PROG_BIN) $(B)/link-check.ok $(B)/lacre-ingest.link-ok $(TEST_BIN) $(BENCH_BIN)

deps:
	@scripts/deps

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# the PKCS#11 header from p11-kit (lib/keeper/pkcs11.c dlopens the token's
# module itself: no program links a PKCS#11 library)
$(B)/obj/lib/keeper/pkcs11.o: CFLAGS += $(shell pkg-config --cflags p11-kit-1 2>/dev/null)

$(LIBA): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIBCORE): $(CORE_SRC:%.c=$(B)/obj/%.o)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIBKEEPER): $(KEEPER_SRC:%.c=$(B)/obj/%.o)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# Each program is the .c files of its folder under cmd/ (plus $(p)_EXTRA),
# linked with the archives $(p)_ARCH (default: the whole liblacre.a).
define prog_rule
$(1)_SRC := $$(sort $$(wildcard cmd/$(1)/*.c)) $$($(1)_EXTRA)
$(1)_OBJ := $$($(1)_SRC:%.c=$(B)/obj/%.o)
$(1)_ARCH ?= $(LIBA)
$(B)/bin/$(1): $$($(1)_OBJ) $$($(1)_ARCH)
	@mkdir -p $$(dir $$@)
	$(CC) $(LDFLAGS) -o $$@ $$($(1)_OBJ) $$($(1)_ARCH) $$($(1)_LIBS)
endef
# lacre, the user's client, links the core alone: if any of its files calls
# the keystore, the master key, the passphrase or the gate, this link fails
# (and the link check below proves the result holds none of them).
lacre_ARCH          := $(LIBCORE)
lacre_LIBS          := $(LIBS)
# lacre-keeper, the keeper domain: the service, init, and the commands that
# decrypt; its folder plus the keyless helpers it shares with the client.
lacre-keeper_EXTRA  := cmd/lacre/cli.c cmd/lacre/cli_site.c cmd/lacre/cmd_audit_site.c \
                       cmd/lacre/cmd_user_list.c
lacre-keeper_ARCH   := $(LIBKEEPER) $(LIBCORE)
lacre-keeper_LIBS   := $(LIBS)
lacre-mediator_ARCH := $(LIBCORE)
lacre-mediator_LIBS := $(LIBS)
lacre-console_ARCH  := $(LIBCORE)
lacre-console_LIBS  := $(LIBS)
# lacre-verify is linked against OpenSSL's libcrypto alone: if any module it
# uses ever reaches the network, the index or a site, this link fails.
lacre-verify_ARCH   := $(LIBCORE)
lacre-verify_LIBS   := $(shell pkg-config --libs libcrypto 2>/dev/null || echo -lcrypto) -lm
# lacre-ingest, the receiver cell, parses hostile input: it must contain
# nothing of the keystore, the master key or the access side.  Its link
# keeps only the sections it reaches (--gc-sections), and
# scripts/ingest-link-check (nm) fails the build when a forbidden symbol is
# left (the stamp below; tests/e2e/confine_link.sh runs it too).
lacre-ingest_ARCH   := $(LIBCORE)
lacre-ingest_LIBS   := -Wl,--gc-sections $(LIBS)
# lacre-signer holds the ingest log's key: libcrypto alone, like lacre-verify
# (it can reach no site, network, index or keystore even by mistake).
lacre-signer_ARCH  := $(LIBCORE)
lacre-signer_LIBS  := $(shell pkg-config --libs libcrypto 2>/dev/null || echo -lcrypto) -lm
$(foreach p,$(PROGS),$(eval $(call prog_rule,$(p))))
$(B)/lacre-ingest.link-ok: $(B)/bin/lacre-ingest scripts/ingest-link-check
	scripts/ingest-link-check $< && touch $@
# cmd/lacre-keeper/ shares cli.h with cmd/lacre/
$(B)/obj/cmd/lacre-keeper/%.o: CFLAGS += -Icmd/lacre

# The link check (docs/trust-domains.md): build/bin/lacre must define and
# reference no symbol of the keeper domain.  scripts/link-check names them
# (keystore_*, site_master_unlock, site_create, passphrase_*, the gate
# acl_session_*/acl_authorize/accesslog_append, access_read, index_*,
# export_run, deep_audit_run, shred_*, keeper_serve/keeper_unlock) and runs
# nm; tests/e2e/link_check.sh runs it too, and shows it fails on a binary
# that links the keystore.
$(B)/link-check.ok: $(B)/bin/lacre $(B)/bin/lacre-console scripts/link-check
	scripts/link-check $(B)/bin/lacre
	scripts/link-check $(B)/bin/lacre-console
	@touch $@
link-check: $(B)/link-check.ok

$(B)/tests/%: tests/unit/%.c $(TEST_LIB) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -Itests -o $@ $< $(TEST_LIB) $(LIBA) $(LIBS) $(TEST_LIBS)

$(B)/bench/%: bench/%.c $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LIBS)

# The keystore stays in lib/keeper (docs/keeper.md): scripts/lint-keystore
# fails, naming file:line, when a file of cmd/, include/ or lib/ outside
# lib/keeper includes keeper/keystore.h or names a keystore_ function.
lint-keystore:
	scripts/lint-keystore

check: deps lint-keystore
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

# the demo with the master key in a SoftHSM2 token (docs/keeper.md)
demo-token: deps
	$(MAKE) all
	scripts/demo-token

bench: deps
	$(MAKE) all
	bench/run

fuzz:
	fuzz/build

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find build build-asan -name '*.d' 2>/dev/null)
