#!/usr/bin/env bash
# export_symlink.sh - the export's output files are created new, never
# through a planted symbolic link (issue 11, small hardening):
#   1. in-process export (LACRE_KEEPER=off): a symlink planted at the
#      package's temporary PATH.tmp, pointing at another file, is refused
#      with exit 1 and "it or PATH.tmp exists"; the target keeps its bytes,
#      the link stays, PATH is not created; a leftover PATH.tmp (a regular
#      file) is refused the same way and kept; PATH as a dangling symlink is
#      refused and its target not created; with the names clean the same
#      export succeeds (the refusals were the planted names, nothing else);
#   2. through the keeper: a symlink planted at the client's PATH.part is
#      refused with exit 1 ("cannot create PATH.part"), its target intact;
#      and the keeper, started with LACRE_PASSPHRASE in its environment, no
#      longer shows the passphrase in /proc/PID/environ (the variable is
#      wiped and unset once read).
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-expsym-XXXXXX)
IPID= KPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; [ -n "$KPID" ] && kill $KPID 2>/dev/null;
      [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
command -v python3 >/dev/null || { echo "python3 missing"; exit 77; }
command -v age-keygen >/dev/null || die "Debian's age is not installed (scripts/deps installs it)"
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
sum() { sha256sum "$1" | cut -d' ' -f1; }

site=$work/site
vault_init "$site"
W1=$(vault_warrant "$site" LIID0001 2026-11-01 2027-01-31 content,iri) || die "warrant"
"$B/lacre-mediator" --output "$work/s" --targets 1 --calls 1 --sessions 1 --seed 3 \
	--start-time 2026-11-28T10:00:00Z >/dev/null 2>&1 || die "mediator --output"
vault_ingest_start "$site" run1
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/s.hi2" "$work/s.hi3" || die "sending"
vault_ingest_stop run1
IPID=
age-keygen -o "$work/court.key" 2>/dev/null || die "age-keygen"
R=$(grep -o 'age1[a-z0-9]*' "$work/court.key")
J=(--justification "auto 5/2026: entrega al juzgado")
pkg=$work/out/pkg.age
mkdir -m 700 "$work/out"
printf 'precious bytes of another file\n' > "$work/victim"
vsum=$(sum "$work/victim")
exp() { "$B/lacre" export --site "$site" --warrant "$W1" --recipient "$R" -o "$pkg" \
	--user "$CLERK_KEY" "${J[@]}"; }

# 1a. a symlink at PATH.tmp
ln -s "$work/victim" "$pkg.tmp"
if LACRE_KEEPER=off expect_exit 1 "cannot create $pkg: it or $pkg.tmp exists" exp &&
	[ "$(sum "$work/victim")" = "$vsum" ] && [ -L "$pkg.tmp" ] && [ ! -e "$pkg" ]; then
	ok "a symlink planted at PATH.tmp: exit 1, its target untouched, no package"
else
	bad "a symlink at PATH.tmp (victim $(sum "$work/victim"), want $vsum)"
fi
# 1b. a symlink at PATH.tmp to a name that does not exist yet
rm -f "$pkg.tmp"
ln -s "$work/created-by-export" "$pkg.tmp"
LACRE_KEEPER=off expect_exit 1 "cannot create $pkg: it or $pkg.tmp exists" exp &&
	[ ! -e "$work/created-by-export" ] && [ -L "$pkg.tmp" ] &&
	ok "a dangling symlink at PATH.tmp: exit 1, nothing created through it" ||
	bad "a dangling symlink at PATH.tmp"
# 1c. a leftover regular PATH.tmp is reported and kept
rm -f "$pkg.tmp"
printf 'leftover\n' > "$pkg.tmp"
LACRE_KEEPER=off expect_exit 1 "remove a leftover $pkg.tmp" exp &&
	[ "$(cat "$pkg.tmp")" = leftover ] && [ ! -e "$pkg" ] &&
	ok "a leftover PATH.tmp: exit 1, kept as it was" || bad "a leftover PATH.tmp"
# 1d. PATH itself a dangling symlink
rm -f "$pkg.tmp"
ln -s "$work/created-by-export" "$pkg"
LACRE_KEEPER=off expect_exit 1 "cannot create $pkg: it or $pkg.tmp exists" exp &&
	[ ! -e "$work/created-by-export" ] && [ ! -e "$pkg.tmp" ] &&
	ok "PATH a dangling symlink: exit 1, nothing created through it" || bad "PATH a dangling symlink"
# 1e. clean names: the same export succeeds
rm -f "$pkg"
if LACRE_KEEPER=off exp > "$work/exp.out" 2> "$work/exp.err" && [ -f "$pkg" ] && [ ! -L "$pkg" ] &&
	[ ! -e "$pkg.tmp" ] && [ "$(stat -c %a "$pkg")" = 600 ]; then
	ok "with clean names the export succeeds ($(stat -c %s "$pkg") bytes, mode 600, no PATH.tmp left)"
else
	cat "$work/exp.err"; bad "the clean export"
fi

# 2. through the keeper (run as this uid, which owns the scratch site)
rm -f "$pkg"
rm -f "$work/ready"
"$B/lacre" keeper --site "$site" --ready-file "$work/ready" 2> "$work/keeper.err" &
KPID=$!
wait_file 30 "$work/ready" || { cat "$work/keeper.err"; die "the keeper did not start"; }
if grep -qaF "$LACRE_PASSPHRASE" "/proc/$KPID/environ"; then
	bad "the keeper's /proc/PID/environ still holds the passphrase"
elif ! tr '\0' '\n' < "/proc/$KPID/environ" | grep -q '^LACRE_SCRYPT_LOG2N=10$'; then
	bad "cannot read the keeper's environment (/proc/$KPID/environ)"
else
	ok "the keeper's /proc/PID/environ no longer holds the passphrase it read from LACRE_PASSPHRASE"
fi
ln -s "$work/victim" "$pkg.part"
expect_exit 1 "cannot create $pkg.part" exp && [ "$(sum "$work/victim")" = "$vsum" ] &&
	[ -L "$pkg.part" ] && [ ! -e "$pkg" ] &&
	ok "through the keeper, a symlink planted at PATH.part: exit 1, its target untouched" ||
	bad "a symlink at PATH.part through the keeper"
rm -f "$pkg.part"
if exp > "$work/exp2.out" 2> "$work/exp2.err" && [ -f "$pkg" ] && [ ! -e "$pkg.part" ]; then
	ok "through the keeper with clean names the export succeeds"
else
	cat "$work/exp2.err"; bad "the clean export through the keeper"
fi
kill -TERM "$KPID"
wait "$KPID"; rc=$?
KPID=
[ "$rc" = 0 ] || bad "the keeper exited $rc after SIGTERM"

[ "$fails" -eq 0 ] || { echo "FAIL: $fails check(s) failed"; exit 1; }
echo "PASS: export_symlink"
