#!/usr/bin/env bash
# lint_keystore.sh - the keystore stays in lib/keeper (scripts/lint-keystore,
# `make lint-keystore`, docs/keeper.md).  Shows:
#   1. the tree passes (exit 0);
#   2. the check can fail: in a copy of the tree, a command file that
#      includes keeper/keystore.h, a library file of lib/access that names
#      keystore_close, a header that names struct keystore, and a command
#      that includes the session's key slot (keeper/session_keys.h) are
#      each refused with exit 1 and their file:line; lib/keeper/ itself and
#      lib/access/acl.c (the session's owner) stay allowed;
#   3. commit dcd84a0, the last main before the gate session owned the
#      keystore, fails with exit 1, naming cmd/lacre-keeper/cmd_records.c.
# Exit 0 pass, 1 fail.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-lint-keystore-XXXXXX)
cleanup() {
	if [ -n "${LACRE_KEEP_TMP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
die() { echo "FAIL: $*"; exit 1; }
EXPECT_DIR=$work
. "$top/tests/e2e/lib/check.bash"
lint=$top/scripts/lint-keystore
[ -x "$lint" ] || die "$lint missing or not executable"

# 1. the tree
expect_exit 0 "" "$lint" "$top" || die "lint-keystore refused the tree"
grep -q "name no keystore" "$EXPECT_DIR/expect.out" || die "lint-keystore said: $(cat "$EXPECT_DIR/expect.out")"
echo "ok   1. the tree: no file outside lib/keeper names the keystore"

# 2. planted breaches, one at a time, in a copy of the tree
copy() {
	rm -rf "$work/t" && mkdir -p "$work/t" && cp -a "$top/cmd" "$top/include" "$top/lib" "$work/t/" ||
		die "cannot copy the tree"
}
copy
printf '/* allowed: the keeper library */\n#include "keeper/keystore.h"\nstatic void f(struct keystore *ks) { keystore_close(ks); }\n' \
	> "$work/t/lib/keeper/zz_allowed.c"
expect_exit 0 "" "$lint" "$work/t" || die "lint-keystore refused a file of lib/keeper"
grep -q '#include "keeper/session_keys.h"' "$work/t/lib/access/acl.c" ||
	die "lib/access/acl.c does not include keeper/session_keys.h (the case below proves nothing)"
plant() { # FILE LINE-TEXT: append the line to FILE of the copy; echo its line number
	printf '%s\n' "$2" >> "$work/t/$1" && wc -l < "$work/t/$1"
}
n=$(plant cmd/lacre-keeper/cmd_records.c '#include "keeper/keystore.h"') || die "cannot plant"
expect_exit 1 "cmd/lacre-keeper/cmd_records.c:$n: includes keeper/keystore.h" "$lint" "$work/t" ||
	die "an include of keeper/keystore.h in a command passed"
copy
n=$(plant lib/access/export.c 'static void zz(void *k) { keystore_close(k); }') || die "cannot plant"
expect_exit 1 "lib/access/export.c:$n: names the keystore" "$lint" "$work/t" ||
	die "a keystore_ call in lib/access passed"
copy
n=$(plant include/lacre/export.h 'struct keystore;') || die "cannot plant"
expect_exit 1 "include/lacre/export.h:$n: names the keystore" "$lint" "$work/t" ||
	die "struct keystore in a public header passed"
copy
n=$(plant cmd/lacre-keeper/cmd_export.c '#include "keeper/session_keys.h"') || die "cannot plant"
expect_exit 1 "cmd/lacre-keeper/cmd_export.c:$n: includes keeper/session_keys.h" "$lint" "$work/t" ||
	die "a command including the session's key slot passed"
# a name that merely ends in keystore_... (the token's opener) is no breach
copy
plant lib/access/export.c '/* p11_keystore_open is the token side */' > /dev/null || die "cannot plant"
expect_exit 0 "" "$lint" "$work/t" || die "p11_keystore_open was taken for a keystore_ function"
echo "ok   2. planted breaches are refused (exit 1, file:line); lib/keeper and acl.c stay allowed"

# 3. the last main before the gate session owned the keystore (commit
# dcd84a0, in every full clone of lacre): its commands held the keystore,
# and the lint must name them.  A tree without that history (a shallow
# clone, a release tarball) has nothing to compare: that is said, and step 2
# stands alone.
old=dcd84a0
if git -C "$top" rev-parse -q --verify "$old^{commit}" > /dev/null 2>&1; then
	rm -rf "$work/m" && mkdir -p "$work/m" &&
		git -C "$top" archive "$old" cmd include lib | tar -x -C "$work/m" || die "cannot extract $old"
	expect_exit 1 "cmd/lacre-keeper/cmd_records.c:" "$lint" "$work/m" || die "$old passed the lint"
	echo "ok   3. $old (commands holding the keystore) fails: $(grep -c ': ' "$EXPECT_DIR/expect.err") lines"
elif [ "$(git -C "$top" rev-parse --is-shallow-repository 2> /dev/null)" = false ]; then
	die "a full git checkout without commit $old: not lacre's history?"
else
	echo "note 3. no history here (shallow clone or tarball): $old cannot be compared (step 2 proved the check fails)"
fi
echo "lint_keystore: pass"
