#!/usr/bin/env bash
# access_control.sh - who may read what, audit first (docs/access.md):
#   1. another unit's warrant is refused with exactly the error of a warrant
#      that does not exist (L7, L8); the auditor gets no content; no
#      justification, no access; quarantine is the clerk's;
#   2. every attempt, allowed and refused, is in the access log, each event
#      verified against its commitment in the signed log; a swapped sealed
#      event is reported (exit 3);
#   3. shredding needs two different users, one of them a court clerk; reads
#      after the shred fail with the order; the keyless audit of the site
#      still passes;
#   4. retention: 5 years after the sentence was executed the case is listed;
#   warrant changes are access-log events of an admin or a clerk.
# Exit 0 pass, 77 skip, 1 fail.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-acl-XXXXXX)
IPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
EXPECT_DIR=$work
[ -x "$B/lacre" ] || { echo "FAIL: build/bin/lacre missing: run make (a test run needs the build)"; exit 1; }
command -v python3 >/dev/null || { echo "python3 missing"; exit 77; }
ok() { echo "ok   $*"; }
L="$B/lacre"

site=$work/site
vault_init "$site"
export LACRE_SITE=$site
INV2_KEY=$work/inv2.key
"$L" user add inv2 --role investigator --unit UCO-2 -o "$INV2_KEY" --user "$ADMIN_KEY" >/dev/null ||
	die "user add inv2"
[ "$(stat -c %a "$INV2_KEY")" = 600 ] || die "user key file mode $(stat -c %a "$INV2_KEY")"
expect_exit 2 "an investigator needs --unit U" "$L" user add x --role investigator -o "$work/x.key" \
	--user "$ADMIN_KEY" || die "an investigator without --unit was not refused as a usage error"
expect_exit 1 "the investigator role may not use 'user-admin'" \
	"$L" user add y --role clerk -o "$work/y.key" --user "$INV_KEY" || die "an investigator added a user"
[ -e "$work/y.key" ] && die "a refused user add left a key file"
"$L" user list | grep -q '^inv2 .*investigator .*UCO-2 .*enabled' || die "user list: $("$L" user list)"
ok "users: admin (bootstrap), investigators of UCO-1 and UCO-2, supervisor, clerk, auditor"

W1=$(vault_warrant "$site" LIID0001 2026-11-01 2027-01-31 content,iri) || die "warrant 1"
W3=$(vault_warrant "$site" LIID0003 2026-11-01 2027-01-31 iri) || die "warrant 3"
"$B/lacre-mediator" --output "$work/s" --targets 2 --calls 2 --sessions 1 --seed 5 \
	--start-time 2026-11-28T10:00:00Z >/dev/null 2>&1 || die "mediator --output"
vault_ingest_start "$site" run1
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/s.hi2" "$work/s.hi3" || die "sending"
vault_ingest_stop run1

J=(--justification "Diligencias 12/2026: review of the intercepted calls")
# 1. who may read
"$L" records --warrant "$W1" --user "$INV_KEY" "${J[@]}" --json > "$work/inv.jsonl" 2>"$work/inv.err" ||
	{ cat "$work/inv.err"; die "the investigator of the unit cannot read $W1"; }
n=$(wc -l < "$work/inv.jsonl")
[ "$n" -gt 0 ] || die "no records for $W1"
ok "investigator of UCO-1 reads $W1: $n records"

expect_exit 1 "no warrant '$W1' (see 'lacre warrant list')" \
	"$L" records --warrant "$W1" --user "$INV2_KEY" "${J[@]}" || die "investigator of UCO-2 was not refused $W1 (L8)"
expect_no_output || die "investigator of UCO-2 read $W1"
cp "$work/expect.err" "$work/other.err"
expect_exit 1 "no warrant 'W-999999' (see 'lacre warrant list')" \
	"$L" records --warrant W-999999 --user "$INV2_KEY" "${J[@]}" || die "a missing warrant was not refused"
cp "$work/expect.err" "$work/none.err"
sed "s/$W1/W-X/" "$work/other.err" > "$work/other.norm"
sed "s/W-999999/W-X/" "$work/none.err" > "$work/none.norm"
cmp -s "$work/other.norm" "$work/none.norm" ||
	die "other unit and no such warrant answer differently: '$(cat "$work/other.err")' vs '$(cat "$work/none.err")'"
ok "another unit's warrant is refused exactly as a missing one: $(cat "$work/other.err")"

for cmd in "records --warrant $W1:records" "quarantine:quarantine" "warrant identity $W1:identity"; do
	# shellcheck disable=SC2086
	expect_exit 1 "the auditor role may not use '${cmd#*:}'" "$L" ${cmd%:*} --user "$AUDITOR_KEY" "${J[@]}" ||
		die "the auditor was not refused '${cmd%:*}'"
	expect_no_output || die "the auditor got output from '${cmd%:*}'"
done
ok "auditor gets no content (records, quarantine, identity refused): $(cat "$work/expect.err")"
expect_exit 1 "the admin role may not use 'records'" "$L" records --warrant "$W1" --user "$ADMIN_KEY" "${J[@]}" ||
	die "the admin was not refused content"
expect_no_output || die "the admin got content"
ok "admin alone reads no content"

expect_exit 2 "justification is required" "$L" records --warrant "$W1" --user "$INV_KEY" ||
	die "no justification was not a usage error"
expect_no_output || die "records printed without a justification"
expect_exit 2 "justification is required" "$L" records --warrant "$W1" --user "$INV_KEY" --justification "   " ||
	die "a blank justification was not refused"
ok "no justification, no access (exit 2)"

expect_exit 1 "cannot use the user key $work/nokey.key" "$L" records --warrant "$W1" "${J[@]}" --user "$work/nokey.key" ||
	die "a missing key file was not refused"
unset LACRE_USER
expect_exit 2 "no acting user: use --user KEYFILE or set LACRE_USER" "$L" records --warrant "$W1" "${J[@]}" ||
	die "no acting user was not refused"
cp "$INV_KEY" "$work/open.key"; chmod 644 "$work/open.key"
expect_exit 1 "it is readable by others (chmod 600 it)" "$L" records --warrant "$W1" "${J[@]}" --user "$work/open.key" ||
	die "a world-readable key was not refused"
# a bootstrap on a folder that is no site creates no administrator and no key
expect_exit 1 "$work/other-site is not a lacre site (no lacre.conf)" "$L" user add rogue --role admin -o "$work/rogue.key" --site "$work/other-site" ||
	die "user add on a folder that is not a site was not refused"
[ -e "$work/rogue.key" ] && die "a refused bootstrap left a key file"
"$L" init "$work/site2" --hi2 127.0.0.1:7 --hi3 127.0.0.1:9 >/dev/null && "$L" user add inv --site "$work/site2" \
	--role admin -o "$work/foreign.key" >/dev/null || die "second site"
expect_exit 1 "the key in $work/foreign.key is not the registered key of user 'inv'" \
	"$L" records --warrant "$W1" "${J[@]}" --user "$work/foreign.key" || die "another site's key with a registered name passed"
ok "acting user required; a key that is not the registered one is refused"

expect_exit 1 "the investigator role may not use 'quarantine'" "$L" quarantine --user "$INV_KEY" "${J[@]}" ||
	die "an investigator was not refused quarantine"
expect_no_output || die "an investigator read quarantine"
expect_exit 1 "the supervisor role may not use 'quarantine'" "$L" quarantine --user "$SUP_KEY" "${J[@]}" ||
	die "a supervisor was not refused quarantine"
expect_no_output || die "a supervisor read quarantine"
"$L" quarantine --user "$CLERK_KEY" "${J[@]}" --json > "$work/q.out" 2>"$work/q.err" ||
	{ cat "$work/q.err"; die "the clerk cannot read quarantine"; }
[ -s "$work/q.out" ] || die "quarantine empty (LIID0002 was not under any warrant)"
"$L" records --warrant "$W1" --user "$CLERK_KEY" "${J[@]}" > /dev/null 2>&1 || die "the clerk cannot read $W1"
expect_exit 1 "the investigator role may not use 'identity'" "$L" warrant identity "$W1" --user "$INV_KEY" "${J[@]}" ||
	die "an investigator was not refused the key"
expect_no_output || die "an investigator read the key"
"$L" warrant identity "$W1" --user "$SUP_KEY" "${J[@]}" > "$work/id.out" 2>/dev/null || die "the supervisor cannot read the key"
grep -q '^AGE-SECRET-KEY-1' "$work/id.out" || die "identity output"
ok "quarantine: clerk only; clerk reads any case; identity: supervisor of the unit"

# 2. the access log: every attempt, verified
expect_exit 1 "the investigator role may not use 'access-log'" "$L" access-log --user "$INV_KEY" "${J[@]}" ||
	die "an investigator was not refused the access log"
expect_no_output || die "access log output to an investigator"
"$L" access-log --user "$AUDITOR_KEY" --justification "oversight review 2026-Q4" --json \
	> "$work/al.jsonl" 2>"$work/al.err" || { cat "$work/al.err"; die "access-log failed verification"; }
grep -q "0 failed verification" "$work/al.err" || die "access-log: $(cat "$work/al.err")"
python3 - "$work/al.jsonl" "$W1" <<'PY' || die "the access log misses attempts"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
w1 = sys.argv[2]
ok = True
def has(what, **kw):
    global ok
    found = [e for e in ev if all(e.get(k) == v for k, v in kw.items())]
    print(('ok   ' if found else 'FAIL ') + f'access log has {what} ({len(found)})')
    ok = ok and bool(found)
    return found
has('the allowed read of the investigator', user='inv', action='records', warrant=w1, decision='allowed')
f = has('the refused read of the other unit', user='inv2', action='records', warrant=w1, decision='refused')
ok = ok and all('L8' in e['reason'] for e in f)
has('the refused read of a missing warrant', user='inv2', warrant='W-999999', reason='no such warrant')
has('the auditor refused content', user='auditor', action='records', decision='refused')
has('the refusal without justification', user='inv', reason='no justification')
has('the clerk reading quarantine', user='clerk', action='quarantine', decision='allowed')
has('the supervisor reading the key', user='sup', action='identity', decision='allowed')
has('the user administration', user='admin', action='user-admin', decision='allowed')
ok = ok and all(e['request_signed'] and e['in_published_checkpoint'] for e in ev)
print(('ok   ' if ok else 'FAIL ') + f'{len(ev)} events, every one signed by its user and in the published log')
sys.exit(0 if ok else 1)
PY
n_before=$(wc -l < "$work/al.jsonl")
ev=$site/ledger/access-events
cp "$ev/00000000000000000003.age" "$work/ev3.bak"
cp "$ev/00000000000000000004.age" "$ev/00000000000000000003.age"
expect_exit 3 "access log entry 3: its commitment is not entry 3" \
	"$L" access-log --user "$AUDITOR_KEY" --justification "oversight review"; rc=$?
cp "$work/ev3.bak" "$ev/00000000000000000003.age"
[ "$rc" = 0 ] || die "a swapped access event was not detected"
ok "a substituted access event is detected (exit 3)"
"$L" access-log --user "$AUDITOR_KEY" --justification "oversight review" --warrant W-999999 \
	> "$work/al3.out" 2>/dev/null || die "access-log --warrant"
[ "$(wc -l < "$work/al3.out")" = 1 ] || die "access-log --warrant W-999999: $(cat "$work/al3.out")"
ok "access-log --warrant filters"

# 3. shredding: two different users, one a clerk
S=(--order "AUTO-DESTR-7/2031" --order-date 2026-11-27)
expect_exit 1 "still active" "$L" shred request --warrant "$W1" "${S[@]}" --user "$SUP_KEY" "${J[@]}" ||
	die "shred of an active warrant was not refused"
expect_exit 1 "the investigator role may not use 'warrant-change'" \
	"$L" warrant cease "$W1" --order CESE-1 --order-date 2026-11-27 --at 2026-11-27 --user "$INV_KEY" ||
	die "an investigator ceased a warrant"
"$L" warrant cease "$W1" --order CESE-1 --order-date 2026-11-27 --at 2026-11-27 --user "$CLERK_KEY" \
	>/dev/null || die "cease $W1"
expect_exit 1 "the investigator role may not use 'shred'" \
	"$L" shred request --warrant "$W1" "${S[@]}" --user "$INV2_KEY" "${J[@]}" || die "another unit requested a shred"
expect_exit 1 "the investigator role may not use 'shred'" \
	"$L" shred request --warrant "$W1" "${S[@]}" --user "$INV_KEY" "${J[@]}" || die "an investigator requested a shred"
"$L" shred request --warrant "$W1" "${S[@]}" --user "$SUP_KEY" "${J[@]}" > "$work/sh.out" ||
	die "shred request by the supervisor"
req=$(grep -o 'S-[0-9]*' "$work/sh.out" | head -1)
[ "$req" = S-000001 ] || die "request id '$req'"
expect_exit 1 "different user" "$L" shred approve "$req" --user "$SUP_KEY" "${J[@]}" ||
	die "the requester approved alone"
expect_exit 1 "court clerk" "$L" shred approve "$req" --user "$ADMIN_KEY" "${J[@]}" ||
	die "supervisor + admin shredded without a clerk"
"$L" records --warrant "$W1" --user "$INV_KEY" "${J[@]}" > /dev/null 2>&1 || die "a refused approval destroyed the key"
"$L" shred approve "$req" --user "$CLERK_KEY" "${J[@]}" > "$work/ap.out" 2>"$work/ap.err" ||
	{ cat "$work/ap.err"; die "the clerk's approval failed"; }
grep -q "shredded by order AUTO-DESTR-7/2031" "$work/ap.out" || die "approve: $(cat "$work/ap.out")"
[ -e "$site/keystore/$W1.key" ] && die "the key file survived the shred"
"$L" shred list --user "$CLERK_KEY" | grep -q "S-000001 $W1 .*EXECUTED, approved by clerk" || die "shred list"
ok "shred: the requester alone and supervisor+admin refused; supervisor+clerk shredded $W1"

expect_exit 1 "warrant $W1 was shredded by order AUTO-DESTR-7/2031" \
	"$L" records --warrant "$W1" --user "$INV_KEY" "${J[@]}" || die "records readable after the shred"
expect_no_output || die "records output after the shred"
cp "$work/expect.err" "$work/after.err"
expect_exit 1 "the key of $W1 was destroyed by order 'AUTO-DESTR-7/2031'" "$L" warrant identity "$W1" --user "$CLERK_KEY" "${J[@]}" ||
	die "identity after shred"
expect_no_output || die "identity output after the shred"
ok "reads after the shred fail with the order: $(head -1 "$work/after.err")"
"$L" audit --site "$site" > "$work/audit.out" 2>&1 || { cat "$work/audit.out"; die "keyless audit fails after the shred"; }
ok "keyless audit of the site passes after the shred"
avkey=$("$L" log keys --state "$site/ledger/access") || die "access log vkey"
"$L" audit --store "dir:$site/objects" --vkey "$avkey" --checkpoint "$site/ledger/access/checkpoint" \
	> "$work/aaudit.out" 2>&1 || { cat "$work/aaudit.out"; die "keyless audit of the access log"; }
ok "keyless audit of the access log on the backend passes ($avkey)"
"$L" access-log --user "$AUDITOR_KEY" --justification "check the shred" --json > "$work/al.jsonl" 2>"$work/al.err" ||
	{ cat "$work/al.err"; die "access log after the shred"; }
python3 - "$work/al.jsonl" "$W1" <<'PY' || die "the shred attempts are not all in the access log"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)['action'] == 'shred']
w1 = sys.argv[2]
ref = [e for e in ev if e['decision'] == 'refused']
done = [e for e in ev if e['decision'] == 'allowed' and e['user'] == 'clerk' and 'AUTO-DESTR-7/2031' in e['what']]
print(f'{len(ev)} shred events, {len(ref)} refused, {len(done)} executing approvals')
assert any('still active' in e['reason'] for e in ref)
assert any(e['user'] == 'inv2' for e in ref) and any(e['user'] == 'inv' for e in ref)
assert any(e['user'] == 'sup' and 'different user' in e['reason'] for e in ref)
assert any(e['user'] == 'admin' and 'court clerk' in e['reason'] for e in ref)
assert len(done) == 1 and done[0]['warrant'] == w1
PY
ok "every shred attempt is in the access log, the executed one citing the order"
python3 - "$work/al.jsonl" "$W1" <<'PY' || die "warrant changes are not in the access log"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
adds = [e for e in ev if e['action'] == 'warrant-add' and e['user'] == 'admin' and e['decision'] == 'allowed']
cease = [e for e in ev if e['action'] == 'warrant-change' and e['warrant'] == sys.argv[2]]
assert len(adds) == 2, adds
assert any(e['user'] == 'inv' and e['decision'] == 'refused' for e in cease)
assert any(e['user'] == 'clerk' and e['decision'] == 'allowed' and 'CESE-1' in e['what'] for e in cease)
PY
ok "warrant additions and the cessation (and the investigator's refused one) are in the access log"

# 4. retention
expect_exit 1 "the investigator role may not use" "$L" retention record "$W3" --state sentence-executed \
	--date 2026-01-15 --order "Ejecutoria 3/2026" --user "$INV_KEY" "${J[@]}" || die "an investigator recorded a court state"
"$L" retention record "$W3" --state sentence-executed --date 2026-01-15 --order "Ejecutoria 3/2026" \
	--user "$CLERK_KEY" "${J[@]}" > /dev/null || die "retention record"
"$L" retention --at 2031-01-14 --user "$CLERK_KEY" "${J[@]}" > "$work/ret1.out" 2>/dev/null || die "retention list"
grep -q "$W3" "$work/ret1.out" && die "listed before 5 years: $(cat "$work/ret1.out")"
"$L" retention --at 2031-01-16 --user "$CLERK_KEY" "${J[@]}" > "$work/ret2.out" 2>/dev/null || die "retention list"
grep -q "^$W3 .*PAST RETENTION: sentence-executed" "$work/ret2.out" || die "not listed after 5 years: $(cat "$work/ret2.out")"
grep -q "^$W1 " "$work/ret2.out" && die "a shredded warrant is listed"
"$L" retention --all --at 2031-01-16 --user "$CLERK_KEY" "${J[@]}" | grep -q "^$W1 .*" || die "retention --all"
ok "retention: $W3 listed 5 years after the sentence was executed, not before"
echo "access control end to end ok"
