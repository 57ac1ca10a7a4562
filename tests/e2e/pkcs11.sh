#!/usr/bin/env bash
# pkcs11.sh - the site master key in a PKCS#11 token (issue 11; docs/keeper.md
# "Master key in a token"), with SoftHSM2 in a private tokendir.  Shows:
#   1. lacre init --pkcs11-module/--pkcs11-token with the PIN: master.p11,
#      no master.age; lacre.conf names the module, token and key;
#   2. users, two warrants and an ingest (lacre-mediator's streams): the
#      bootstrap admin and the warrants unlock with LACRE_PIN, in-process;
#   3. the keeper started with --pin-file (no PIN or passphrase left in its
#      environment) serves reads: records of both warrants;
#   4. shred through the keeper, four eyes: the requester's own approval is
#      refused (exit 1), the clerk's approval destroys W1's key; W1 no
#      longer reads (exit 1), W2 still does;
#   5. master.p11 and the keystore are useless without the token: a wrong
#      PIN, the passphrase given as the PIN, the token folder removed, and a
#      fresh token of the same label and PIN (the key object is not there):
#      the keeper refuses to start, exit 1, each with its message; master.p11
#      is not an age file (age -d fails) and there is no master.age for any
#      passphrase to open;
#   6. the token back: the keeper starts again (as root: as a system user of
#      its own that owns the site and the token's files) and W2 reads.
# Exit 0 pass, 77 skip (SoftHSM2 genuinely absent), 1 fail.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-pkcs11-XXXXXX)
IPID= KPID= KUSER=
cleanup() {
	[ -n "$IPID" ] && kill "$IPID" 2>/dev/null
	[ -n "$KPID" ] && kill "$KPID" 2>/dev/null && wait "$KPID" 2>/dev/null
	[ -n "$KUSER" ] && userdel "$KUSER" 2>/dev/null && { groupdel "$KUSER" 2>/dev/null || true; }
	if [ -n "${LACRE_KEEP_TMP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
. "$top/tests/e2e/lib/vault.bash"
[ -x "$B/lacre" ] || { echo "build/bin/lacre missing: run make"; exit 77; }
MOD=
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so; do
	[ -r "$m" ] && { MOD=$m; break; }
done
if [ -z "$MOD" ] || ! command -v softhsm2-util >/dev/null; then
	echo "SoftHSM2 is not installed (apt-get install softhsm2; scripts/deps lists it)"
	exit 77
fi
for t in python3 setsid; do
	command -v $t >/dev/null || { echo "$t missing"; exit 77; }
done
ok() { echo "ok   $*"; }
L="$B/lacre"
PIN=48151623 SOPIN=87654321

# --- a private SoftHSM2: its configuration and tokens in the test's folder
mkdir -m 700 "$work/tokens"
cat > "$work/softhsm2.conf" <<EOF
directories.tokendir = $work/tokens
objectstore.backend = file
log.level = ERROR
EOF
export SOFTHSM2_CONF=$work/softhsm2.conf
softhsm2-util --init-token --free --label lacre --pin "$PIN" --so-pin "$SOPIN" > "$work/token.out" 2>&1 ||
	die "softhsm2-util --init-token: $(cat "$work/token.out")"
printf '%s\n' "$PIN" > "$work/pin"; chmod 600 "$work/pin"
printf '11111111\n' > "$work/badpin"
unset LACRE_PASSPHRASE

# 1. init with the token
site=$work/site
"$L" init "$site" --hi2 127.0.0.1:7 --hi3 127.0.0.1:9 --pkcs11-module "$MOD" --pkcs11-token lacre \
	--pin-file "$work/pin" > "$work/init.out" 2>&1 || die "lacre init with the token: $(cat "$work/init.out")"
grep -q "^site $site created$" "$work/init.out" || die "init: $(cat "$work/init.out")"
[ -f "$site/master.p11" ] && [ ! -e "$site/master.age" ] || die "init: $(ls "$site")"
[ "$(stat -c %a "$site/master.p11")" = 600 ] || die "master.p11 mode $(stat -c %a "$site/master.p11")"
grep -qx "master.pkcs11_module = $MOD" "$site/lacre.conf" &&
	grep -qx "master.pkcs11_token = lacre" "$site/lacre.conf" &&
	grep -qx "master.pkcs11_key = lacre-master" "$site/lacre.conf" || die "lacre.conf: $(grep pkcs11 "$site/lacre.conf")"
python3 - "$site/master.p11" <<'PY' || die "master.p11 is not the documented format: $(cat "$site/master.p11")"
import re, sys
t = open(sys.argv[1], "rb").read().decode("ascii")
assert re.fullmatch(r"lacre-master-p11-v1\ntoken lacre\nkey lacre-master\nmechanism CKM_AES_GCM\n"
                    r"iv [0-9a-f]{24}\nwrapped [0-9a-f]{96}\n", t), t
PY
# a second init on the same token finds the key (no second key of the label)
"$L" init "$work/site-b" --hi2 127.0.0.1:7 --hi3 127.0.0.1:9 --pkcs11-module "$MOD" \
	--pkcs11-token lacre --pin-file "$work/pin" > "$work/init-b.out" 2>&1 ||
	die "second init on the same token: $(cat "$work/init-b.out")"
cmp -s "$site/master.p11" "$work/site-b/master.p11" && die "two sites got the same master.p11"
LACRE_PIN=$PIN "$L" init "$work/site-j" --hi2 127.0.0.1:7 --hi3 127.0.0.1:9 --pkcs11-module "$MOD" \
	--pkcs11-token lacre --pkcs11-key "other key" --json > "$work/init-j.out" 2>&1 ||
	die "init --json with LACRE_PIN and a key label with a space: $(cat "$work/init-j.out")"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["site"]==sys.argv[2], d' \
	"$work/init-j.out" "$work/site-j" || die "init --json: $(cat "$work/init-j.out")"
grep -qx "key other%20key" "$work/site-j/master.p11" || die "master.p11 of site-j: $(cat "$work/site-j/master.p11")"
expect_exit 2 "master.pkcs11_module: needs an absolute path" \
	"$L" init "$work/site-c" --pkcs11-module libsofthsm2.so --pkcs11-token lacre --pin-file "$work/pin" ||
	die "a relative module path"
[ ! -e "$work/site-c" ] || die "a refused init left $work/site-c"
expect_exit 1 "wrong PIN for token 'lacre'" \
	"$L" init "$work/site-d" --pkcs11-module "$MOD" --pkcs11-token lacre --pin-file "$work/badpin" ||
	die "init with a wrong PIN"
[ ! -e "$work/site-d" ] || die "init with a wrong PIN left $work/site-d"
ok "init with token 'lacre': master.p11 (0600, the documented header), no master.age; a second site on the token (same key), a third with its own key 'other key' (PIN from LACRE_PIN, --json); relative module: exit 2; wrong PIN: exit 1, nothing left"

# 2. users, warrants, ingest: in-process unlocks take the PIN from LACRE_PIN
export LACRE_PIN=$PIN
vault_users "$site"
export LACRE_SITE=$site
W1=$(vault_warrant "$site" LIID0001 2026-11-01 2027-01-31 content,iri) || die "warrant 1"
export LACRE_PIN=$PIN
W2=$(vault_warrant "$site" LIID0002 2026-11-01 2027-01-31 content,iri) || die "warrant 2"
unset LACRE_PIN
expect_exit 1 "cannot read the PIN of token 'lacre'" \
	"$L" warrant add --site "$site" --user "$ADMIN_KEY" --case C --unit UCO-1 --court J \
	--order O --order-date 2026-11-01 --from 2026-11-01 --to 2027-01-31 --categories iri \
	--target t --liid LIID0009 || die "a warrant without the PIN"
"$B/lacre-mediator" --output "$work/s" --targets 2 --calls 1 --sessions 1 --seed 7 \
	--start-time 2026-11-28T10:00:00Z >/dev/null 2>&1 || die "mediator --output"
vault_ingest_start "$site" run1
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/s.hi2" "$work/s.hi3" || die "sending"
vault_ingest_stop run1
IPID=
ok "users (admin bootstrapped with the token), warrants $W1 $W2 (PIN from LACRE_PIN; without it exit 1), ingest of 2 targets"

# 3. the keeper, unlocked by the token
env -u LACRE_PIN -u LACRE_PASSPHRASE "$L" keeper --site "$site" --pin-file "$work/pin" \
	--ready-file "$work/ready" 2>"$work/keeper.err" &
KPID=$!
wait_file 60 "$work/ready" || { cat "$work/keeper.err"; die "the keeper did not start with the token"; }
tr '\0' '\n' < "/proc/$KPID/environ" | grep -q '^LACRE_\(PIN\|PASSPHRASE\)=' && die "a secret in the keeper's environment"
grep -q "master.p11" <(ls -l /proc/$KPID/fd 2>/dev/null) && die "the keeper keeps master.p11 open"
grep -q libsofthsm2 "/proc/$KPID/maps" && die "the token's module stays loaded in the keeper"
J=(--justification "Diligencias 12/2026: token site")
"$L" records --warrant "$W1" --user "$INV_KEY" "${J[@]}" > "$work/r1.out" 2>"$work/r1.err" ||
	{ cat "$work/r1.err"; die "records of $W1 through the keeper"; }
n1=$(wc -l < "$work/r1.out")
"$L" records --warrant "$W2" --user "$INV_KEY" "${J[@]}" > "$work/r2.out" 2>"$work/r2.err" ||
	{ cat "$work/r2.err"; die "records of $W2 through the keeper"; }
n2=$(wc -l < "$work/r2.out")
[ "$n1" -gt 0 ] && [ "$n2" -gt 0 ] || die "records: $n1 of $W1, $n2 of $W2"
grep -q " liid=LIID0001 " "$work/r1.out" && ! grep -q " liid=LIID0002 " "$work/r1.out" || die "records of $W1: $(head -c 300 "$work/r1.out")"
ok "keeper unlocked by the token (no PIN in its environment, the module unloaded): $n1 records of $W1, $n2 of $W2 read through it"

# 4. shred, four eyes, through the keeper
"$L" warrant cease "$W1" --order CESE-1 --order-date 2026-12-01 --user "$CLERK_KEY" "${J[@]}" \
	> "$work/wc.out" 2>&1 || die "warrant cease: $(cat "$work/wc.out")"
"$L" shred request --warrant "$W1" --order "AUTO-78/2026" --order-date 2026-12-02 \
	--user "$SUP_KEY" "${J[@]}" > "$work/sr.out" 2>&1 || die "shred request: $(cat "$work/sr.out")"
grep -q "^shred request S-000001 for $W1 recorded" "$work/sr.out" || die "shred request: $(cat "$work/sr.out")"
expect_exit 1 "shred request S-000001 was made by sup: a second, different user must approve it (four eyes)" \
	"$L" shred approve S-000001 --user "$SUP_KEY" "${J[@]}" || die "approval by the requester"
[ -e "$site/keystore/$W1.key" ] || die "the key went with a refused approval"
"$L" shred approve S-000001 --user "$CLERK_KEY" "${J[@]}" > "$work/sa.out" 2>"$work/sa.err" ||
	{ cat "$work/sa.err"; die "shred approve by the clerk"; }
grep -q "^warrant $W1 shredded by order AUTO-78/2026 of 2026-12-02T00:00:00Z: requested by sup, approved by clerk$" \
	"$work/sa.out" || die "shred approve: $(cat "$work/sa.out")"
[ ! -e "$site/keystore/$W1.key" ] && [ -e "$site/keystore/$W1.shredded" ] || die "keystore: $(ls "$site/keystore")"
expect_exit 1 "lacre: warrant $W1 was shredded by order AUTO-78/2026" \
	"$L" records --warrant "$W1" --user "$INV_KEY" "${J[@]}" || die "records of a shredded warrant"
expect_no_output || die "a shredded warrant printed records"
"$L" records --warrant "$W2" --user "$INV_KEY" "${J[@]}" > "$work/r2b.out" 2>"$work/r2b.err" ||
	die "records of $W2 after the shred: $(cat "$work/r2b.err")"
[ "$(wc -l < "$work/r2b.out")" = "$n2" ] || die "$W2 after the shred: $(wc -l < "$work/r2b.out") records, was $n2"
kill -TERM "$KPID"; wait "$KPID"; rc=$?; KPID=
[ "$rc" = 0 ] || { cat "$work/keeper.err"; die "keeper exit $rc on SIGTERM"; }
ok "shred: the requester's approval refused (exit 1), the clerk's destroyed $W1's key; $W1: exit 1, $W2: $n2 records"

# 5. useless without the token
# start_keeper TEXT [keeper options...]: the keeper's attempt to start,
# exit 1 with TEXT on stderr (in a session of its own: no terminal to
# prompt on, so a missing PIN is refused, never asked for)
start_keeper() {
	expect_exit 1 "$1" setsid -w env -u LACRE_PIN -u LACRE_PASSPHRASE "$L" keeper --site "$site" \
		--ready-file "$work/ready-x" "${@:2}"
}
start_keeper "lacre: wrong PIN for token 'lacre'" --pin-file "$work/badpin" ||
	die "keeper with a wrong PIN"
printf '%s\n' "e2e-master-passphrase" > "$work/pass"
start_keeper "lacre: wrong PIN for token 'lacre'" --passphrase-file "$work/pass" ||
	die "keeper with a passphrase"
start_keeper "lacre: cannot read the PIN of token 'lacre'" ||
	die "keeper without a PIN"
mv "$work/tokens" "$work/tokens.away"
start_keeper "lacre: cannot initialise the PKCS#11 module $MOD: CKR_GENERAL_ERROR" --pin-file "$work/pin" ||
	die "keeper with the token folder removed"
mkdir -m 700 "$work/tokens"
softhsm2-util --init-token --free --label lacre --pin "$PIN" --so-pin "$SOPIN" > "$work/token2.out" 2>&1 ||
	die "softhsm2-util --init-token (a fresh token): $(cat "$work/token2.out")"
start_keeper "lacre: token 'lacre' holds no AES key labelled 'lacre-master': without it the master key cannot be unwrapped" \
	--pin-file "$work/pin" || die "keeper with a fresh token of the same label and PIN"
[ ! -e "$work/ready-x" ] || die "a refused keeper wrote its ready file"
[ ! -e "$site/master.age" ] || die "a master.age appeared"
if command -v age >/dev/null; then
	expect_exit 1 'unexpected intro: "lacre-master-p11-v1\n"' age -d -o "$work/m.out" "$site/master.p11" ||
		die "age -d master.p11"
fi
rm -rf "$work/tokens"
# the right PIN and every file of the site, but not the token: nothing opens
mv "$work/tokens.away" "$work/tokens.gone"
LACRE_PIN=$PIN LACRE_KEEPER=off expect_exit 1 "lacre: cannot initialise the PKCS#11 module $MOD" \
	"$L" records --warrant "$W2" --user "$INV_KEY" "${J[@]}" || die "an in-process read without the token"
expect_no_output || die "an in-process read without the token printed records"
mv "$work/tokens.gone" "$work/tokens"
ok "without the token: wrong PIN, a passphrase as PIN, no PIN, the token folder removed, a fresh token 'lacre' with the same PIN: the keeper refuses (exit 1 each, named); the right PIN without the token reads nothing in-process (exit 1); no master.age; master.p11 is no age file"

# 6. the token back (the PIN on a descriptor this time), and, as root, the
# keeper as a system user of its own that owns the site and the token's files
as=()
mkdir -m 700 "$work/run"
if [ "$(id -u)" = 0 ] && command -v useradd >/dev/null && command -v setpriv >/dev/null; then
	KUSER=lkp$$
	useradd --system --no-create-home --shell /usr/sbin/nologin -U "$KUSER" || die "useradd $KUSER"
	chmod 755 "$work"; chmod 644 "$work/softhsm2.conf"
	chown -R "$KUSER:$KUSER" "$site" "$work/tokens" "$work/run"
	as=(setpriv --reuid="$KUSER" --regid="$KUSER" --clear-groups)
fi
env -u LACRE_PIN -u LACRE_PASSPHRASE "${as[@]}" "$L" keeper --site "$site" --pin-fd 3 3<"$work/pin" \
	--ready-file "$work/run/ready2" 2>"$work/keeper2.err" &
KPID=$!
wait_file 60 "$work/run/ready2" || { cat "$work/keeper2.err"; die "the keeper did not start with the token back"; }
"$L" records --warrant "$W2" --user "$INV_KEY" "${J[@]}" > "$work/r2c.out" 2>"$work/r2c.err" ||
	die "records of $W2 with the token back: $(cat "$work/r2c.err")"
[ "$(wc -l < "$work/r2c.out")" = "$n2" ] || die "$W2 with the token back: $(wc -l < "$work/r2c.out") records"
kill -TERM "$KPID"; wait "$KPID"; rc=$?; KPID=
[ "$rc" = 0 ] || { cat "$work/keeper2.err"; die "keeper exit $rc on SIGTERM"; }
ok "the token back: the keeper starts (PIN from --pin-fd${KUSER:+, as system user $KUSER owning the site and the token}), $W2 reads ($n2 records)"
echo "PASS pkcs11"
