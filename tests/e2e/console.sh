#!/usr/bin/env bash
# console.sh - the web console (lacre-console, docs/console.md): one more
# client of the keeper's gate, never a second door.  The keeper runs as a
# system user of its own and owns the site (as in keeper.sh); lacre-console
# runs as ANOTHER uid of the site's group, which can read no key; both are
# created here (CI runs as root).  Shows:
#   1. the console makes a self-signed P-256 certificate at first start and
#      prints its SHA-256 fingerprint; every answer carries a strict
#      Content-Security-Policy; no cookie, a forged cookie or a URL with a
#      query gets nothing (401/400);
#   2. the API as a browser speaks it (tests/e2e/lib/console_api.py, the
#      certificate pinned): a wrong key file cannot log in (401); the
#      investigator of another unit gets the L8 answer for W1 through the
#      console; a POST without the CSRF token (403), a request naming
#      another user (403) are refused; an access event the client does
#      not sign means no output; after logout the old cookie gets 401;
#      4 relays of a session may wait for a signature, a 5th gets 429, a
#      refused signature ends a request with exit 1 and no output;
#      an audio file is served with byte ranges (206, 416) to its session
#      only; a user disabled while logged in gets 401 at the next request
#      and cannot log in again ("this user is disabled");
#   3. a real headless Chromium (tests/e2e/lib/console_browser.py): the
#      investigator logs in by loading the key file (WebCrypto Ed25519),
#      sees the own unit's warrant and not the other unit's (asked by its
#      id: the L8 answer), opens a call, its audio element gets a WAV and
#      plays, and that WAV is byte for byte `lacre audio`'s of the call,
#      both channels sounding; the pcap downloads;
#      logout;
#      every view asks its justification when opened (refused without);
#      the call page's level canvas shows both channels;
#      the auditor sees those accesses in the access log, verified;
#      the clerk exports for the court in the page and the package verifies
#      with lacre-verify (VERIFIED); the administrator sees users and roles,
#      adds a user (the key pair made in the page; the downloaded key file
#      logs in) and a warrant, ceases it (a second cease: the keeper's
#      refusal shown); the clerk requests its shred, cannot approve it
#      herself (four eyes), sees the retention list; the admin approves and
#      the request is EXECUTED; the admin disables the new user in the
#      page and her key file logs in no more;
#      screenshots of each page are kept in $work/shots (LACRE_KEEP_TMP=1);
#   4. SIGTERM stops the console (exit 0).
# Exit 0 pass, 77 skip (a genuinely absent facility), 1 fail.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-console-XXXXXX)
. "$top/tests/e2e/lib/vault.bash"
. "$top/tests/e2e/lib/console_site.bash"
trap console_cleanup EXIT
[ -x "$B/lacre" ] && [ -x "$B/lacre-console" ] || { echo "build/bin/lacre-console missing: run make"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "needs root to create the keeper's and the console's system users"; exit 77; }
for t in python3 openssl useradd groupadd setpriv age-keygen chromium chromedriver; do
	command -v $t >/dev/null || { echo "$t missing (scripts/deps installs it)"; exit 77; }
done
# Debian's python3 has python3-selenium and python3-cryptography (another
# python3 first on PATH, e.g. pyenv's, may not)
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
"$PY" -c 'import selenium, cryptography' 2>/dev/null ||
	{ echo "python3-selenium or python3-cryptography missing (scripts/deps installs them)"; exit 77; }
ok() { echo "ok   $*"; }
L="$B/lacre"
# LACRE_CONSOLE_BIN: another build of the console (build-asan/bin/lacre-console)
CONSOLE=${LACRE_CONSOLE_BIN:-$B/lacre-console}
chmod 755 "$work"

# --- a site with one call; the keeper as its own user; the console as
# another uid of the site's group (tests/e2e/lib/console_site.bash)
console_site
console_keeper c

# --- 1. the console, as the other uid: it can read no key
console_start
API=("$PY" "$top/tests/e2e/lib/console_api.py" "$URL" "$FPR")
"${API[@]}" "$INV_KEY" headers || die "headers and refusals"

# --- 2. the API as a browser speaks it
# a wrong key file: well-formed, named inv, but not inv's key
python3 - "$work/wrong.key" <<'PY' || die "wrong key"
import base64, os, sys
open(sys.argv[1], "w").write("PRIVATE+KEY+inv+0badc0de+%s\n" % base64.b64encode(b"\x01" + os.urandom(32)).decode())
PY
chmod 600 "$work/wrong.key"
"${API[@]}" "$work/wrong.key" login-refused || die "a wrong key file"
"${API[@]}" "$INV2_KEY" l8 "$W1" "$J" || die "the API's refusals"
CALL=$("$L" calls --warrant "$W1" --user "$INV_KEY" --justification "$J" --json 2>/dev/null |
	"$PY" -c 'import json,sys; print([c["id"] for c in map(json.loads, sys.stdin) if c["type"] == "voip"][0])') ||
	die "no voip call of $W1"
"${API[@]}" "$INV_KEY" range "$CALL" "$J" || die "byte ranges of a held file"
"${API[@]}" "$SUP_KEY" limits "$J" || die "the bound on relays waiting for a signature"
# the operations view reads two public files: the receiver's status and the
# ingest log's checkpoint; here the site's group may read them, as a
# deployment arranges it for the console's user (docs/console.md)
chmod g+rx "$site/state" "$site/ledger" "$site/ledger/ingest"
chmod g+r "$site/state/status.prom" "$site/ledger/ingest/checkpoint"
"${API[@]}" "$AUDITOR_KEY" health "$INV_KEY" || die "the operations view"
# a user disabled while logged in loses the session at the next request
INV3_KEY=$work/inv3.key
"$L" user add inv3 --role investigator --unit UCO-1 -o "$INV3_KEY" --user "$ADMIN_KEY" >/dev/null 2>&1 ||
	die "user add inv3 through the keeper"
"${API[@]}" "$INV3_KEY" disabled "$L" user disable inv3 --user "$ADMIN_KEY" --site "$site" ||
	die "a disabled user"

# --- 3. the browser
mkdir -p "$work/shots"
age-keygen -o "$work/court.key" 2>/dev/null || die "age-keygen"
R=$(grep -o 'age1[a-z0-9]*' "$work/court.key")
# the record the clerk leaves out of a party copy in the page: W1's first
XREC=$("$L" records --warrant "$W1" --user "$INV_KEY" --justification "$J" --json 2>/dev/null |
	"$PY" -c 'import json, sys; r = json.loads(sys.stdin.readline()); print("%s:%s" % (r["segment"], r["index"]))') ||
	die "lacre records: no record of $W1 to leave out of the party copy"
"$PY" "$top/tests/e2e/lib/console_browser.py" "$URL" "$SPKI" "$work/shots" "$INV_KEY" \
	"$work/wrong.key" "$AUDITOR_KEY" "$W1" "$W2" "$J, in the browser" "$CLERK_KEY" "$ADMIN_KEY" "$R" \
	"$work/package.age" "$work/browser.wav" "$XREC" || { tail -20 "$work/console.err"; die "the browser test"; }
n=$(ls "$work/shots"/*.png 2>/dev/null | wc -l)
[ "$n" -ge 16 ] || die "only $n screenshots"
ok "browser: $n screenshots in $work/shots"
# the WAV the page's player got is the call's audio: byte for byte what
# `lacre audio` gives for the same call through the keeper (whose decoding
# calls_audio.sh checks against an independent decoder), and both
# channels carry sound (tests/e2e/lib/wav_tone.py)
"$L" audio "$CALL" -o "$work/cli.wav" --user "$INV_KEY" --justification "$J" >/dev/null 2>&1 ||
	die "lacre audio $CALL through the keeper"
cmp -s "$work/browser.wav" "$work/cli.wav" ||
	die "the page's WAV ($(stat -c %s "$work/browser.wav") bytes) differs from lacre audio's ($(stat -c %s "$work/cli.wav"))"
tone=$("$PY" "$top/tests/e2e/lib/wav_tone.py" "$work/browser.wav") || die "wav_tone: the browser's WAV"
"$PY" -c '
import json, sys
t = json.loads(sys.argv[1])
assert t["channels"] == 2 and t["rate"] == 8000 and t["frames"] > 8000, t
assert t["left"]["rms"] > 100 and t["right"]["rms"] > 100, t
' "$tone" || die "the browser's audio is silent or not the call's format: $tone"
ok "the audio the page played is lacre audio's WAV of $CALL, byte for byte; both channels sound: $tone"
# the Locations view the investigator saw is `lacre locations` of W1
# through the keeper: the same places, times and IRI types, row for row;
# and those are the cells the mediator was told to put in the session's
# IPIRIs (TAI 214-01-1a2b, ECGI 0a1b2c0 moving by one per IRI)
"$L" locations --warrant "$W1" --user "$INV_KEY" --justification "$J" --json > "$work/loc.jsonl" \
	2>"$work/loc.err" || { cat "$work/loc.err"; die "lacre locations through the keeper"; }
"$PY" - "$work/loc.jsonl" "$work/shots/locations.json" <<'PY' || die "the page's Locations view is not lacre locations' rows"
import json, sys
cli = [json.loads(l) for l in open(sys.argv[1])]
page = json.load(open(sys.argv[2]))
want = [[r["time"], r["iri_type"], r["kind"], r["place"]] for r in cli]
assert page == want, (page, want)
tai = {r["place"] for r in cli if r["kind"] == "tai"}
ecgi = [r["place"] for r in cli if r["kind"] == "ecgi"]
assert tai == {"214-01-1a2b"} and ecgi == ["214-01-0a1b2c%d" % i for i in range(4)], cli
assert len(cli) == 8 and [r["time"] for r in cli] == sorted(r["time"] for r in cli), cli
print("ok   the page's Locations view = lacre locations: %d rows, TAI %s, ECGI %s" % (len(cli), tai.pop(), ecgi))
PY
"$B/lacre-verify" "$work/package.age" -i "$work/court.key" --log-vkey "$site/ledger/ingest/vkey" \
	> "$work/verify.out" 2>&1 || { cat "$work/verify.out"; die "the package exported through the console"; }
grep -q '^VERIFIED' "$work/verify.out" || die "lacre-verify: $(cat "$work/verify.out")"
ok "the clerk's package, exported in the browser, verifies: $(grep '^VERIFIED' "$work/verify.out")"
# nothing of a request's content in the console's log: no justification, no call id
grep -q "Diligencias" "$work/console.err" && die "the console logged a justification"
grep -q "$W1-" "$work/console.err" && die "the console logged a call id"
ok "the console's log holds routes and statuses only ($(grep -c ' console: ' "$work/console.err") lines)"

# --- 4. SIGTERM
kill -TERM "$CPID"; wait "$CPID"; rc=$?; CPID=
[ "$rc" = 0 ] || { cat "$work/console.err"; die "console exit $rc on SIGTERM"; }
grep -q "Sanitizer" "$work/console.err" && { cat "$work/console.err"; die "a sanitizer report"; }
ok "SIGTERM: the console exits 0"
echo "PASS console"
