#!/usr/bin/env bash
# verify_fail_closed.sh - lacre-verify fails closed (issue 10): an evidence
# package is VERIFIED only against the ingest log's key the court supplies.
#   1. without --log-vkey: exit 3, "not verified: no trusted log key" on
#      stdout (FAIL checkpoint) and stderr, no VERIFIED line; --json says
#      verified false, key_trusted false;
#   2. with the site's key (DIR/ledger/ingest/vkey): VERIFIED, exit 0;
#   3. with another key of the same origin name (a forger's): exit 3, the
#      log signature does not verify;
#   4. --policy (a tlog-policy the court pins) listing the site's key:
#      VERIFIED; listing the forger's: exit 3; with --log-vkey: exit 2.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-vfc-XXXXXX)
IPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
command -v age-keygen >/dev/null || die "Debian's age is not installed (scripts/deps installs it)"
V=$B/lacre-verify
[ -x "$V" ] || die "build/bin/lacre-verify is missing (make)"

site=$work/site
vault_init "$site"
W1=$(vault_warrant "$site" LIID0001 2026-11-01 2027-01-31 content,iri) || die "warrant"
"$B/lacre-mediator" --output "$work/s" --targets 1 --calls 1 --seed 7 --start-time 2026-11-28T10:00:00Z >/dev/null 2>&1 ||
	die "mediator"
vault_ingest_start "$site" one
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/s.hi2" "$work/s.hi3" || die "send"
vault_ingest_stop one
age-keygen -o "$work/court.key" 2>/dev/null || die "age-keygen"
R=$(grep -o 'age1[a-z0-9]*' "$work/court.key")
"$B/lacre" export --site "$site" --warrant "$W1" --recipient "$R" -o "$work/p.age" --user "$CLERK_KEY" \
	--justification "e2e: fail-closed verification" >/dev/null || die "export"
SITEKEY=$site/ledger/ingest/vkey
[ -s "$SITEKEY" ] || die "the site has no $SITEKEY"
msg='not verified: no trusted log key (give --log-vkey'

# 1. no trusted key: not verified
"$V" "$work/p.age" -i "$work/court.key" --export-vkey "$site/ledger/export.vkey" \
	> "$work/1.out" 2> "$work/1.err"; rc=$?
if [ $rc -eq 3 ] && grep -qF "FAIL checkpoint: $msg" "$work/1.out" &&
   grep -qF "lacre-verify: $msg" "$work/1.err" && ! grep -q '^VERIFIED' "$work/1.out" &&
   grep -q '^NOT VERIFIED: 1 problem(s)$' "$work/1.out"; then
	echo "ok   without --log-vkey: exit 3, '$msg ...' (stdout and stderr), 1 problem"
else
	cat "$work/1.out" "$work/1.err"; die "without --log-vkey: exit $rc (expected 3 and '$msg')"
fi
"$V" "$work/p.age" -i "$work/court.key" --json > "$work/1.json" 2>/dev/null; rc=$?
[ $rc -eq 3 ] && python3 - "$work/1.json" <<'PY' || die "--json without --log-vkey: exit $rc or wrong report"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["verified"] is False and r["log"]["key_trusted"] is False, r
assert [p for p in r["problem_list"] if p["member"] == "checkpoint" and
        p["problem"].startswith("not verified: no trusted log key")], r["problem_list"]
assert r["records"] > 0 and r["included"] == r["records"], r
PY
echo "ok   --json without --log-vkey: exit 3, verified false, key_trusted false"

# 2. the site's key, as the court received it: VERIFIED
"$V" "$work/p.age" -i "$work/court.key" --log-vkey "$SITEKEY" > "$work/2.out" 2> "$work/2.err"; rc=$?
if [ $rc -eq 0 ] && grep -q '^VERIFIED: every record' "$work/2.out" && grep -q 'trusted (--log-vkey)' "$work/2.out" &&
   ! grep -q 'no trusted log key' "$work/2.out" "$work/2.err"; then
	echo "ok   --log-vkey with the site's key: VERIFIED, exit 0"
else
	cat "$work/2.out" "$work/2.err"; die "with the site's key: exit $rc (expected 0, VERIFIED)"
fi

# 3. another key under the same origin name (what a forger would make): exit 3
origin=$(cut -d+ -f1 < "$SITEKEY")
other=$("$B/lacre" log keygen "$origin" -o "$work/other.key") || die "log keygen"
[ "$other" != "$(cat "$SITEKEY")" ] || die "keygen made the site's key again"
"$V" "$work/p.age" -i "$work/court.key" --log-vkey "$other" > "$work/3.out" 2> "$work/3.err"; rc=$?
if [ $rc -eq 3 ] && grep -q '^FAIL checkpoint: the log signature does not verify' "$work/3.out" &&
   ! grep -q '^VERIFIED' "$work/3.out"; then
	echo "ok   --log-vkey with another key of origin $origin: exit 3, the log signature does not verify"
else
	cat "$work/3.out" "$work/3.err"; die "with another key: exit $rc (expected 3)"
fi

# 4. a tlog-policy the court pins is trust too (its log key, its quorum)
printf 'log %s\nquorum none\n' "$(cat "$SITEKEY")" > "$work/site.policy"
printf 'log %s\nquorum none\n' "$other" > "$work/other.policy"
"$V" "$work/p.age" -i "$work/court.key" --policy "$work/site.policy" > "$work/4.out" 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q '^VERIFIED' "$work/4.out" || { cat "$work/4.out"; die "--policy with the site's key: exit $rc (expected 0)"; }
echo "ok   --policy listing the site's key: VERIFIED, exit 0"
"$V" "$work/p.age" -i "$work/court.key" --policy "$work/other.policy" > "$work/5.out" 2>&1; rc=$?
[ $rc -eq 3 ] && grep -q '^FAIL checkpoint: does not verify under --policy' "$work/5.out" && ! grep -q '^VERIFIED' "$work/5.out" ||
	{ cat "$work/5.out"; die "--policy with another key: exit $rc (expected 3)"; }
echo "ok   --policy listing another key: exit 3, does not verify under --policy"
"$V" "$work/p.age" -i "$work/court.key" --policy "$work/site.policy" --log-vkey "$SITEKEY" > "$work/6.out" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q -- '--policy names the log keys' "$work/6.out" || { cat "$work/6.out"; die "--policy with --log-vkey: exit $rc (expected 2)"; }
echo "ok   --policy with --log-vkey: usage error, exit 2"
echo "verify fails closed ok"
