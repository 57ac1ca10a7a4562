#!/usr/bin/env bash
# warrant_cli.sh - `lacre init` and `lacre warrant` end to end:
#   1. init a site (low scrypt work factor), refuse a second init, open
#      master.age with Debian's `age -d` and the passphrase (via script(1));
#   2. warrant add (--json id), list, show (text and JSON), the legal
#      refusals (3 months, LIID overlap, L1, emergency authority);
#   3. warrant identity: a file sealed with `age -r <recipient from show>`
#      opens with `age -d -i <printed identity>`; a wrong passphrase fails;
#   4. passphrase sources: --passphrase-file, --passphrase-fd, environment;
#      none (no terminal) fails clearly;
#   5. extend, confirm (emergency), cease, and the log's hash chain and
#      signatures: a changed byte makes every command refuse the log; an
#      extension without the passphrase (no signing key) is refused.
# Exit 0 pass, 77 skip (no build), 1 fail.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$top"
L="$top/build/bin/lacre"
[ -x "$L" ] || { echo "FAIL: build/bin/lacre missing: run make (a test run needs the build)"; exit 1; }
t=$(mktemp -d /tmp/lacre-warrant-XXXXXX)
trap 'rm -rf "$t"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
unset LACRE_PASSPHRASE LACRE_SITE
export LACRE_SCRYPT_LOG2N=10
S="$t/site"
printf 'el juez dice sí\n' > "$t/pass"
P=(--site "$S" --passphrase-file "$t/pass")
. "$top/tests/e2e/lib/check.bash"
EXPECT_DIR=$t
TTY="python3 $top/tests/e2e/lib/tty_answer.py 60"   # answers prompts on a terminal

# 1. init
if "$L" init "$S" --passphrase-file "$t/pass" --set ingest.hi2=127.0.0.1:6001 --json > "$t/init.json"; then
	ok "init"
else
	fail "init"
fi
grep -q '"oversight_recipient":"age1' "$t/init.json" && ok "init --json has the oversight recipient" || fail "init json: $(cat "$t/init.json")"
grep -q '^ingest.hi2 = 127.0.0.1:6001$' "$S/lacre.conf" && ok "--set written to lacre.conf" || fail "--set not in lacre.conf"
grep -q '^master.scrypt_log2n = 10$' "$S/lacre.conf" || fail "work factor not 10"
for f in master.age warrants.log keystore/oversight.key spool objects; do
	[ -e "$S/$f" ] || fail "missing $f"
done
[ "$(stat -c %a "$S/master.age")" = 600 ] || fail "master.age mode $(stat -c %a "$S/master.age")"
expect_exit 1 "$S is already a lacre site; choose a new folder" "$L" init "$S" --passphrase-file "$t/pass" && ok "second init refused: $(cat "$t/expect.err")" ||
	fail "second init not refused"
# the acting user of 'warrant identity' (docs/access.md): a clerk may read any warrant's key
"$L" user add admin --site "$S" --passphrase-file "$t/pass" --role admin -o "$t/admin.key" >/dev/null &&
	"$L" user add clerk --site "$S" --role clerk -o "$t/clerk.key" --user "$t/admin.key" >/dev/null ||
	fail "user add"
export LACRE_USER="$t/clerk.key"
if command -v age >/dev/null; then
	$TTY "Enter passphrase:" 'el juez dice sí' -- age -d -o "$t/master.key" "$S/master.age" > /dev/null
	[ "$(stat -c %s "$t/master.key" 2>/dev/null)" = 32 ] && ok "master.age opens with age -d (32-byte key)" || fail "master.age with age -d"
fi
# a bad configuration line is reported with file:line
cp "$S/lacre.conf" "$t/conf.bak"
sed -i 's/^segment.max_age = .*/segment.max_age = soon/' "$S/lacre.conf"
expect_exit 1 "lacre.conf:" "$L" warrant list --site "$S" &&
	grep -q "lacre.conf:[0-9]*: segment.max_age: 'soon'" "$t/expect.err" && ok "config error names file:line (exit 1)" ||
	fail "config error: $(cat "$t/expect.err")"
cp "$t/conf.bak" "$S/lacre.conf"

# 2. add, list, show, refusals
add() { "$L" warrant add "${P[@]}" --case "DP 7/2026" --unit "UDEF Central" --court "Juzgado de Instrucción nº 3" "$@"; }
if add --order "Auto 1/2026" --order-date 2026-01-10 --to 2026-04-10 --categories iri,content \
	--target "Persona A" --liid LIID-1 --liid LIID-1B --json > "$t/add.json"; then
	ok "warrant add"
else
	fail "warrant add"
fi
id=$(sed -n 's/.*"id":"\([^"]*\)".*/\1/p' "$t/add.json")
[ "$id" = W-000001 ] && ok "add --json id $id" || fail "add id: $(cat "$t/add.json")"
id2=$(add --order "Auto 2/2026" --order-date 2026-01-10 --to 2026-04-10 --categories iri --target "Persona B" --liid LIID-2)
[ "$id2" = W-000002 ] && ok "add prints the id" || fail "second id '$id2'"
"$L" warrant list --site "$S" > "$t/list" || fail "list"
grep -q '^W-000001 ' "$t/list" && grep -q '^W-000002 ' "$t/list" && ok "list" || fail "list: $(cat "$t/list")"
"$L" warrant list --site "$S" --json | grep -q '^\[{"id":"W-000001".*{"id":"W-000002"' && ok "list --json" || fail "list --json"
"$L" warrant show "$id" --site "$S" > "$t/show" || fail "show"
grep -q '^court       Juzgado de Instrucción nº 3$' "$t/show" && ok "show keeps UTF-8 text" || fail "show: $(cat "$t/show")"
recip=$(sed -n 's/^recipient   //p' "$t/show")
case "$recip" in age1*) ok "show gives recipient $recip" ;; *) fail "no recipient in show" ;; esac
"$L" warrant show "$id" --site "$S" --json | grep -q "\"recipient\":\"$recip\"" || fail "show --json recipient"
refuse() { # $1 = expected message (exit 1), rest = add arguments
	local want=$1; shift
	expect_exit 1 "$want" add "$@" && ok "refused (exit 1): $(cat "$t/expect.err")" || fail "not refused as wanted: $want"
}
refuse "L3: one order authorises at most 3 months" --order A3 --order-date 2026-01-10 --to 2026-04-10T00:00:01Z --categories iri --target X --liid L3
refuse "L3: valid-from" --order A3 --order-date 2026-01-10 --from 2026-01-09 --to 2026-02-10 --categories iri --target X --liid L3
refuse "LIID: 'LIID-1B' is already active in warrant W-000001" --order A4 --order-date 2026-02-01 --to 2026-03-01 --categories iri --target X --liid LIID-1B
refuse "L1: the order's targets is missing" --order A5 --order-date 2026-02-01 --to 2026-03-01 --categories iri --liid L5
refuse "L5: an emergency order must name" --order A6 --order-date 2026-02-01 --to 2026-03-01 --categories iri --target X --liid L6 --emergency
expect_exit 2 "--categories 'audio': use content, iri and/or location" "$L" warrant add "${P[@]}" --case C --unit U --court J --order O --order-date 2026-02-01 --to 2026-03-01 \
	--categories audio --target X --liid L7 && ok "bad --categories is a usage error (exit 2): $(cat "$t/expect.err")" ||
	fail "bad categories not a usage error"

# 3. identity and interop with age
if "$L" warrant identity --justification "e2e: age interop" "$id" "${P[@]}" > "$t/id.key" 2> "$t/access"; then ok "warrant identity"; else fail "warrant identity"; fi
grep -q '^AGE-SECRET-KEY-1' "$t/id.key" && ok "identity printed" || fail "identity: $(cat "$t/id.key")"
grep -q "access: private key of warrant $id read by uid" "$t/access" && ok "access logged to stderr" || fail "no access line"
if command -v age >/dev/null; then
	head -c 100000 /dev/urandom > "$t/plain"
	age -r "$recip" -o "$t/sealed.age" "$t/plain" || fail "age -r"
	age -d -i "$t/id.key" -o "$t/opened" "$t/sealed.age" && cmp -s "$t/plain" "$t/opened" &&
		ok "age -r <warrant recipient> | age -d -i <warrant identity>" || fail "age round trip"
	"$L" warrant identity --justification "e2e: age interop" "$id2" "${P[@]}" > "$t/id2.key" 2> /dev/null
	expect_exit 1 "no identity matched any of the recipients" age -d -i "$t/id2.key" -o "$t/x" "$t/sealed.age" &&
		ok "another warrant's key does not open it" || fail "another warrant's key opened it"
else
	echo "age not installed: interop not tested"
fi
printf 'wrong\n' > "$t/bad"
expect_exit 1 "wrong master passphrase for site $S" "$L" warrant identity --justification "e2e: age interop" "$id" \
	--site "$S" --passphrase-file "$t/bad" && expect_no_output && ok "wrong passphrase refused (exit 1)" ||
	fail "wrong passphrase not refused"

# 4. passphrase sources
"$L" warrant identity --justification "e2e: age interop" "$id" --site "$S" --passphrase-fd 3 3< "$t/pass" 2> /dev/null | cmp -s - "$t/id.key" && ok "--passphrase-fd" || fail "--passphrase-fd"
LACRE_PASSPHRASE='el juez dice sí' LACRE_SITE="$S" "$L" warrant identity --justification "e2e: age interop" "$id" 2> /dev/null | cmp -s - "$t/id.key" && ok "LACRE_PASSPHRASE and LACRE_SITE" || fail "LACRE_PASSPHRASE"
expect_exit 1 "cannot read the master passphrase" setsid "$L" warrant identity --justification "e2e: age interop" "$id" \
	--site "$S" && ok "no passphrase source (exit 1): $(cat "$t/expect.err")" || fail "no passphrase source not refused"

# terminal prompt without echo (tty_answer.py gives the command a terminal and
# types each answer once its prompt is up)
$TTY "new master passphrase: " "uno dos" "again: " "uno tres" -- "$L" init "$t/tty1" > "$t/tty.out" 2>&1; rc=$?
[ $rc -eq 1 ] && [ ! -e "$t/tty1/lacre.conf" ] && grep -q "the two entries differ" "$t/tty.out" &&
	ok "prompt: differing entries refused (exit 1)" || fail "prompt mismatch: exit $rc, $(cat "$t/tty.out")"
$TTY "new master passphrase: " "uno dos" "again: " "uno dos" -- "$L" init "$t/tty1" > "$t/tty.out" 2>&1; rc=$?
[ $rc -eq 0 ] && [ -e "$t/tty1/lacre.conf" ] && ok "prompt: init asks twice" || fail "prompt init: exit $rc, $(cat "$t/tty.out")"
grep -q 'uno dos' "$t/tty.out" && fail "the passphrase was echoed"
$TTY "master passphrase: " "uno dos" -- "$L" warrant add --site "$t/tty1" --case C --unit U --court J --order O \
	--order-date 2026-01-01 --to 2026-02-01 --categories iri --target T --liid L > "$t/tty.out" 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q '^W-000001' "$t/tty.out" && ! grep -q 'uno dos' "$t/tty.out" &&
	ok "prompt: warrant add with a no-echo prompt" || fail "prompt add: exit $rc, $(cat "$t/tty.out")"

# 5. extend, emergency confirm, cease; tampering
expect_exit 1 "L3: one extension authorises at most 3 months" "$L" warrant extend "$id" "${P[@]}" --order "Auto 8/2026" \
	--order-date 2026-04-01 --to 2026-07-10T00:00:01Z && ok "extension capped at 3 months" || fail "extension over 3 months"
expect_exit 1 "L3: an extension is a new order" "$L" warrant extend "$id" "${P[@]}" --order "Auto 1/2026" \
	--order-date 2026-04-01 --to 2026-07-10 && ok "extension needs a new order" || fail "extension by the same order"
"$L" warrant extend "$id" "${P[@]}" --order "Auto 8/2026" --order-date 2026-04-01 --to 2026-07-10 > /dev/null && ok "extend (from the current end)" || fail "extend"
"$L" warrant show "$id" --site "$S" | grep -q '^extension   2026-04-10T00:00:00Z .. 2026-07-10T00:00:00Z' && ok "show lists the extension" || fail "extension not shown"
add --order "Orden SES 1" --order-date 2026-05-01T10:00:00Z --to 2026-06-01 --categories iri --target Y --liid LE --emergency --authority "Secretario de Estado de Seguridad" > /dev/null || fail "emergency add"
expect_exit 1 "L5: the judge must confirm an emergency order within 72 hours" "$L" warrant confirm W-000003 "${P[@]}" \
	--order "Auto conf" --order-date 2026-05-04T10:00:01Z && ok "late confirmation refused" || fail "late confirmation"
"$L" warrant confirm W-000003 "${P[@]}" --order "Auto conf" --order-date 2026-05-04T10:00:00Z > /dev/null && ok "confirm at 72 h" || fail "confirm"
"$L" warrant cease "$id2" "${P[@]}" --order "Auto cese" --order-date 2026-02-15 > /dev/null && ok "cease" || fail "cease"
"$L" warrant show "$id2" --site "$S" --json | grep -q '"ceased_at":"2026-02-15T00:00:00Z"' && ok "ceased_at recorded" || fail "ceased_at"
expect_exit 1 "L4:" "$L" warrant cease "$id2" "${P[@]}" --order "Auto cese 2" --order-date 2026-02-16 &&
	ok "second cessation refused: $(cat "$t/expect.err")" || fail "second cessation"
expect_exit 1 "wrong master passphrase for site $S" env LACRE_PASSPHRASE=wrong "$L" warrant cease W-000003 --site "$S" \
	--order X --order-date 2026-05-10 && ok "writers need the master passphrase (signing key)" || fail "unsigned cease"
[ "$(wc -l < "$S/warrants.log")" -eq 6 ] && ok "6 events in the log" || fail "log has $(wc -l < "$S/warrants.log") lines"
cp "$S/warrants.log" "$t/log.bak"
sed -i '2s/LIID-2/LIID-9/' "$S/warrants.log"
expect_exit 3 "warrants.log:2: warrant log event breaks the hash chain or its signature" "$L" warrant list --site "$S" &&
	ok "tampered log refused (exit 3): $(head -1 "$t/expect.err")" || fail "tampered log"
cp "$t/log.bak" "$S/warrants.log"
"$L" warrant list --site "$S" > /dev/null && ok "restored log loads" || fail "restored log"

echo "warrant cli: $fails failure(s)"
[ "$fails" -eq 0 ]
