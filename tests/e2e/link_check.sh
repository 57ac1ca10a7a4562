#!/usr/bin/env bash
# link_check.sh - the trust domains hold in the binaries
# (docs/trust-domains.md, issue 10).  Shows:
#   1. scripts/link-check passes on build/bin/lacre (the client: no
#      keystore, master-key, passphrase or gate function in it), and fails
#      (exit 1, naming keystore_open and acl_session_open) on
#      build/bin/lacre-keeper, which holds them: the check can fail;
#   2. a program that calls keystore_open does not link against
#      liblacre-core.a (undefined reference), and linked with
#      liblacre-keeper.a it links and the check names keystore_open;
#   3. a stripped binary is not passed (exit 1: no symbol table);
#   4. the client alone, without lacre-keeper beside it or on PATH, cannot
#      read: `lacre records` exits 1 saying it cannot run lacre-keeper, and
#      keyless commands (decode --help, user list) still run;
#   5. lacre-keeper run refuses a keyless command (exit 2).
# Exit 0 pass, 1 fail.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-link-check-XXXXXX)
cleanup() {
	if [ -n "${LACRE_KEEP_TMP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
. "$top/tests/e2e/lib/vault.bash"
for f in "$B/lacre" "$B/lacre-keeper" "$top/build/liblacre-core.a" "$top/build/liblacre-keeper.a"; do
	[ -e "$f" ] || die "$f missing: run make (a test run needs the build)"
done
check=$top/scripts/link-check

# 1. the client passes, the keeper's program does not
expect_exit 0 "" "$check" "$B/lacre" || die "link-check refused the client"
grep -q "holds no keystore" "$EXPECT_DIR/expect.out" || die "link-check said: $(cat "$EXPECT_DIR/expect.out")"
expect_exit 1 "holds code of the keeper domain" "$check" "$B/lacre-keeper" ||
	die "link-check passed lacre-keeper"
grep -qx "  keystore_open" "$EXPECT_DIR/expect.err" && grep -qx "  acl_session_open" "$EXPECT_DIR/expect.err" &&
	grep -qx "  site_master_unlock" "$EXPECT_DIR/expect.err" ||
	die "link-check did not name the keeper's symbols: $(cat "$EXPECT_DIR/expect.err")"
echo "ok   1. link-check: lacre has no keeper-domain function; lacre-keeper's are named"

# 2. the archives themselves: keystore code is not in the core
cat > "$work/reach.c" <<'EOF'
/* a client file that reaches for the keystore */
#include <stdio.h>
#include "keeper/keystore.h"
int main(void)
{
	struct keystore *ks = NULL;
	struct site s;
	uint8_t master[SITE_MASTER_KEY_LEN] = { 0 };
	return keystore_open(&s, master, &ks) == 0 ? 0 : 1;
}
EOF
libs=$(pkg-config --libs openssl libcurl sqlite3 expat libmicrohttpd 2>/dev/null || echo -lcrypto -lssl)
expect_exit 1 "undefined reference to \`keystore_open'" cc -std=c11 -I"$top/include" -I"$top/lib" \
	-o "$work/reach-core" "$work/reach.c" "$top/build/liblacre-core.a" $libs -lm -lpthread ||
	die "a keystore call linked against liblacre-core.a"
[ ! -e "$work/reach-core" ] || die "the failed link left a binary"
cc -std=c11 -I"$top/include" -I"$top/lib" -o "$work/reach-keeper" "$work/reach.c" \
	"$top/build/liblacre-keeper.a" "$top/build/liblacre-core.a" $libs -lm -lpthread ||
	die "reach.c does not link with liblacre-keeper.a"
expect_exit 1 "holds code of the keeper domain" "$check" "$work/reach-keeper" ||
	die "link-check passed a binary with keystore_open"
grep -qx "  keystore_open" "$EXPECT_DIR/expect.err" || die "keystore_open not named: $(cat "$EXPECT_DIR/expect.err")"
echo "ok   2. keystore_open: undefined against liblacre-core.a; linked with liblacre-keeper.a, named by the check"

# 3. a binary without symbols is not taken on trust
cp "$work/reach-keeper" "$work/stripped" && strip "$work/stripped" || die "cannot strip"
expect_exit 1 "no symbol table" "$check" "$work/stripped" || die "link-check passed a stripped binary"
echo "ok   3. a stripped binary fails the check (nothing to prove)"

# 4. the client alone cannot read; it runs the keyless commands
mkdir -p "$work/alone" && cp "$B/lacre" "$work/alone/lacre" || die "cannot copy lacre"
site=$work/site
vault_init "$site"
expect_exit 1 "cannot run lacre-keeper" env PATH=/usr/bin:/bin LACRE_KEEPER=off "$work/alone/lacre" \
	records --site "$site" --warrant W-1 --user "$INV_KEY" --justification probe ||
	die "the client alone did not refuse records"
expect_no_output || die "records printed something"
expect_exit 1 "cannot run lacre-keeper" env PATH=/usr/bin:/bin "$work/alone/lacre" init "$work/site2" ||
	die "the client alone did not refuse init"
[ ! -e "$work/site2" ] || die "the client alone created a site"
env PATH=/usr/bin:/bin "$work/alone/lacre" user list --site "$site" > "$work/users.out" ||
	die "user list failed in the client alone"
grep -q '^admin ' "$work/users.out" || die "user list: $(cat "$work/users.out")"
env PATH=/usr/bin:/bin "$work/alone/lacre" decode --help > /dev/null || die "decode --help failed"
echo "ok   4. lacre alone: records and init refused (exit 1, no lacre-keeper), user list and decode run"

# 5. the keeper domain runs only its own commands
expect_exit 2 "not a command of the keeper domain" "$B/lacre-keeper" run -- decode --help ||
	die "lacre-keeper ran a keyless command"
expect_exit 2 "no mode 'records'" "$B/lacre-keeper" records --site "$site" || die "lacre-keeper took a bare command"
echo "ok   5. lacre-keeper run refuses keyless commands (exit 2)"
echo "PASS link_check"
