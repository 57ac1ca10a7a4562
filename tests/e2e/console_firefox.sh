#!/usr/bin/env bash
# console_firefox.sh - the web console (lacre-console, docs/console.md) in
# Firefox too (issue 13: "a current Chromium and Firefox"; console.sh runs
# Chromium).  The site, the keeper and the console are set up as in
# console.sh: the keeper as a system user of its own owning the site, the
# console as ANOTHER uid of the site's group that can read no key.  Then a
# real headless Firefox (Debian's firefox-esr, driven over its built-in
# Marionette server by tests/e2e/lib/marionette.py: Debian has no
# geckodriver; the driver is tests/e2e/lib/console_firefox.py):
#   - the console's self-signed certificate is trusted properly: imported
#     into the fresh profile as a root with certutil (libnss3-tools), after
#     checking it is the one whose fingerprint the console printed; the
#     session keeps acceptInsecureCerts false;
#   - the page is a secure context with WebCrypto Ed25519;
#   - the investigator logs in by loading the key file, sees the own unit's
#     warrant and not the other unit's (asked by its id: the L8 answer),
#     opens a call; its audio element gets a WAV, reaches "playing", plays
#     it to its end with no media error (through ALSA's null device: see
#     marionette.py); that WAV is byte for byte `lacre audio`'s of the
#     call and both channels carry its sound (tests/e2e/lib/wav_tone.py);
#     the level canvas shows both channels; the pcap downloads (Firefox
#     saves it into the profile's download folder);
#   - logout: /api/session and the call's audio answer 401;
#   - a forged session cookie set in the browser: 401, the login form;
#   - the auditor sees inv's accesses (warrant-list, calls, audio, pcap) in the
#     access log, allowed, with the justification, 0 failed verification;
#   - the clerk sees the quarantine and exports the own unit's warrant for
#     the court; the page shows the package's summary and lacre-verify's
#     VERIFIED report; the package the page fetched verifies offline;
#   - the administrator adds a user in the page (Firefox's WebCrypto makes
#     the key pair; Firefox downloads the key file), that file logs in;
#     she is disabled in the page and her key file is refused at login;
#   - only 127.0.0.1 is contacted: every proxy of the profile is a
#     dead-end listener on loopback and every name resolves to 127.0.0.1
#     (marionette.py); Firefox runs under strace and any other address in
#     a connect or send of its processes fails the test;
#   - screenshots of each page in $work/shots (LACRE_KEEP_TMP=1 keeps them).
# Exit 0 pass, 77 skip (firefox-esr, certutil or strace genuinely absent:
# scripts/deps installs them), 1 fail.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-console-ff-XXXXXX)
. "$top/tests/e2e/lib/vault.bash"
. "$top/tests/e2e/lib/console_site.bash"
trap console_cleanup EXIT
[ -x "$B/lacre" ] && [ -x "$B/lacre-console" ] || { echo "build/bin/lacre-console missing: run make"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "needs root to create the keeper's and the console's system users"; exit 77; }
# LACRE_FIREFOX: another Firefox binary (named, it must be there)
if [ -n "${LACRE_FIREFOX:-}" ]; then
	FIREFOX=$LACRE_FIREFOX
	[ -x "$FIREFOX" ] || { echo "FAIL: LACRE_FIREFOX=$FIREFOX is not an executable file: name a Firefox binary or unset it"; exit 1; }
else
	FIREFOX=$(command -v firefox-esr) || { echo "firefox-esr missing (scripts/deps installs it)"; exit 77; }
fi
for t in python3 openssl useradd groupadd setpriv certutil strace age-keygen; do
	command -v $t >/dev/null || { echo "$t missing (scripts/deps installs it)"; exit 77; }
done
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
ok() { echo "ok   $*"; }
L="$B/lacre"
# LACRE_CONSOLE_BIN: another build of the console (build-asan/bin/lacre-console)
CONSOLE=${LACRE_CONSOLE_BIN:-$B/lacre-console}
chmod 755 "$work"

# --- the site, the keeper and the console as in console.sh
# (tests/e2e/lib/console_site.bash)
console_site
console_keeper f
console_start
# the certificate Firefox is told to trust is the one the console printed
# the fingerprint of (a user compares it the same way before the first login)
cp "$work/console/cert.pem" "$work/trust.pem"
want=$(openssl x509 -in "$work/trust.pem" -outform DER | sha256sum | cut -d' ' -f1)
[ "$want" = "$FPR" ] || die "printed fingerprint $FPR, certificate's $want"
# and it is the one served
served=${URL#https://}; served=${served%/}
served=$(openssl s_client -connect "$served" </dev/null 2>/dev/null | openssl x509 -outform DER 2>/dev/null |
	sha256sum | cut -d' ' -f1)
[ "$served" = "$FPR" ] || die "the console serves a certificate of fingerprint $served, printed $FPR"
ok "the certificate Firefox will trust is the one served: $served"

# --- Firefox
# the court's age key: the clerk exports for it in the page
age-keygen -o "$work/court.key" 2>/dev/null || die "age-keygen"
R=$(grep -o 'age1[a-z0-9]*' "$work/court.key")
mkdir -p "$work/shots"
"$PY" "$top/tests/e2e/lib/console_firefox.py" "$FIREFOX" "$URL" "$work/trust.pem" "$work/shots" \
	"$INV_KEY" "$AUDITOR_KEY" "$W1" "$W2" "$J, in Firefox" "$work/browser.wav" "$ADMIN_KEY" \
	"$CLERK_KEY" "$R" "$work/package.age" ||
	{ tail -20 "$work/console.err"; tail -20 "$work/firefox.log" 2>/dev/null; die "the Firefox test"; }
n=$(ls "$work/shots"/*.png 2>/dev/null | wc -l)
[ "$n" -ge 11 ] || die "only $n screenshots"
for f in "$work/shots"/*.png; do
	[ "$(head -c 8 "$f" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || die "$f is not a PNG"
done
ok "Firefox: $n screenshots in $work/shots"
# the WAV Firefox's player got is the call's audio: byte for byte `lacre
# audio`'s of the same call through the keeper, and both channels carry
# the call's tones
CALL=$("$L" calls --warrant "$W1" --user "$INV_KEY" --justification "$J" --json 2>/dev/null |
	"$PY" -c 'import json,sys; print([c["id"] for c in map(json.loads, sys.stdin) if c["type"] == "voip"][0])') ||
	die "no voip call of $W1"
"$L" audio "$CALL" -o "$work/cli.wav" --user "$INV_KEY" --justification "$J" >/dev/null 2>&1 ||
	die "lacre audio $CALL through the keeper"
cmp -s "$work/browser.wav" "$work/cli.wav" ||
	die "Firefox's WAV ($(stat -c %s "$work/browser.wav") bytes) differs from lacre audio's ($(stat -c %s "$work/cli.wav"))"
tone=$("$PY" "$top/tests/e2e/lib/wav_tone.py" "$work/browser.wav") || die "wav_tone: Firefox's WAV"
# (lacre-mediator --seed 7: the target speaks, the speech-like voice on the
# left; the 1209 Hz tone comes back on the right, found at 1210 in
# wav_tone's 5 Hz steps: cmd/lacre-mediator/synth.c, traffic.c)
"$PY" -c '
import json, sys
t = json.loads(sys.argv[1])
assert t["channels"] == 2 and t["rate"] == 8000 and t["frames"] > 8000, t
assert t["left"]["rms"] > 100 and t["right"]["rms"] > 100, t
assert t["right"]["freq"] == 1210 and t["right"]["share"] > 0.3, t
assert t["left"]["share"] < 0.3, t
' "$tone" || die "Firefox's audio does not carry the call's voice and tone: $tone"
ok "the audio Firefox played is lacre audio's WAV of $CALL, byte for byte; voice left, 1209 Hz tone right: $tone"
# the package the clerk exported in Firefox verifies offline with the
# court's key and the site's log key, as the court would run it
"$B/lacre-verify" "$work/package.age" -i "$work/court.key" --log-vkey "$site/ledger/ingest/vkey" \
	>"$work/verify.out" 2>&1 || { cat "$work/verify.out"; die "the package exported in Firefox does not verify"; }
ok "the clerk's package, exported in Firefox, verifies offline: $(grep '^VERIFIED' "$work/verify.out")"
grep -q "Diligencias" "$work/console.err" && die "the console logged a justification"

kill -TERM "$CPID"; wait "$CPID"; rc=$?; CPID=
[ "$rc" = 0 ] || { cat "$work/console.err"; die "console exit $rc on SIGTERM"; }
grep -q "Sanitizer" "$work/console.err" && { cat "$work/console.err"; die "a sanitizer report"; }
ok "SIGTERM: the console exits 0"
echo "PASS console_firefox"
