#!/usr/bin/env bash
# confine_link.sh - the receiver cell's link check (docs/cmd-ingest.md,
# Confinement): scripts/ingest-link-check passes on lacre-ingest (no
# keystore_, passphrase_, site_master_, acl_, access_ or index_ symbol), and
# fails, naming such symbols, on lacre-keeper (which does link them; the
# client lacre no longer does since the layout split): the check can see
# what it looks for.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-clink-XXXXXX)
trap 'rm -rf "$work"' EXIT
B="$top/build/bin"
. "$top/tests/e2e/lib/check.bash"
EXPECT_DIR=$work
die() { echo "FAIL: $*"; exit 1; }
command -v nm >/dev/null || die "nm missing (Debian: binutils, in build-essential)"
[ -x "$B/lacre-ingest" ] && [ -x "$B/lacre-keeper" ] || die "build lacre-keeper and lacre-ingest first (make all)"

"$top/scripts/ingest-link-check" "$B/lacre-ingest" > "$work/ok.out" 2>&1 ||
	{ cat "$work/ok.out"; die "lacre-ingest links a forbidden symbol"; }
cat "$work/ok.out"
n=$(nm --defined-only "$B/lacre-ingest" | wc -l)
[ "$n" -gt 100 ] || die "lacre-ingest has only $n symbols: the check saw nothing"
echo "ok   lacre-ingest: $n symbols, none forbidden"

expect_exit 1 "forbidden symbol" "$top/scripts/ingest-link-check" "$B/lacre-keeper" ||
	die "the check passed lacre-keeper, which links the keystore"
for s in keystore_open site_master_unlock passphrase_get; do
	grep -qx "  $s" "$work/expect.err" || { cat "$work/expect.err"; die "the check on lacre-keeper did not name $s"; }
done
echo "ok   lacre-keeper: refused, $(grep -c '^  ' "$work/expect.err") forbidden symbols named (keystore_open, site_master_unlock, passphrase_get among them)"
expect_exit 2 "usage" "$top/scripts/ingest-link-check" || die "no argument"
echo "confine_link: all checks passed"
