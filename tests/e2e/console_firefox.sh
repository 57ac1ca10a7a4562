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
#     opens a call; its audio element gets a WAV, reaches "playing" and its
#     position advances; that WAV is byte for byte `lacre audio`'s of the
#     call and both channels carry its tones (tests/e2e/lib/wav_tone.py);
#   - logout: /api/session and the call's audio answer 401;
#   - a forged session cookie set in the browser: 401, the login form;
#   - the auditor sees inv's accesses (warrant-list, calls, audio) in the
#     access log, allowed, with the justification, 0 failed verification;
#   - only 127.0.0.1 is contacted: every proxy of the profile is a
#     dead-end listener on loopback (marionette.py);
#   - screenshots of each page in $work/shots (LACRE_KEEP_TMP=1 keeps them).
# Exit 0 pass, 77 skip (firefox-esr or certutil genuinely absent: scripts/deps
# installs them), 1 fail.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-console-ff-XXXXXX)
IPID= KPID= CPID= KUSER= OUSER= SGROUP=
cleanup() {
	[ -n "$IPID" ] && kill "$IPID" 2>/dev/null
	[ -n "$CPID" ] && kill "$CPID" 2>/dev/null && wait "$CPID" 2>/dev/null
	[ -n "$KPID" ] && kill "$KPID" 2>/dev/null && wait "$KPID" 2>/dev/null
	[ -n "$KUSER" ] && userdel "$KUSER" 2>/dev/null
	[ -n "$OUSER" ] && userdel "$OUSER" 2>/dev/null
	[ -n "$SGROUP" ] && groupdel "$SGROUP" 2>/dev/null
	if [ -n "${LACRE_KEEP_TMP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
. "$top/tests/e2e/lib/vault.bash"
[ -x "$B/lacre" ] && [ -x "$B/lacre-console" ] || { echo "build/bin/lacre-console missing: run make"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "needs root to create the keeper's and the console's system users"; exit 77; }
FIREFOX=${LACRE_FIREFOX:-$(command -v firefox-esr)}
[ -n "$FIREFOX" ] && [ -x "$FIREFOX" ] || { echo "firefox-esr missing (scripts/deps installs it)"; exit 77; }
for t in python3 openssl useradd groupadd setpriv certutil; do
	command -v $t >/dev/null || { echo "$t missing (scripts/deps installs it)"; exit 77; }
done
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
ok() { echo "ok   $*"; }
L="$B/lacre"
# LACRE_CONSOLE_BIN: another build of the console (build-asan/bin/lacre-console)
CONSOLE=${LACRE_CONSOLE_BIN:-$B/lacre-console}
chmod 755 "$work"

# --- a site with one call (as console.sh)
site=$work/site
vault_init "$site"
export LACRE_SITE=$site
INV2_KEY=$work/keys-site/inv2.key
"$L" user add inv2 --role investigator --unit UCO-2 -o "$INV2_KEY" --user "$ADMIN_KEY" >/dev/null ||
	die "user add inv2"
W1=$(vault_warrant "$site" LIID0001 2026-11-01 2027-01-31 content,iri) || die "warrant 1"
"$B/lacre-mediator" --output "$work/s" --targets 1 --calls 1 --sessions 1 --seed 7 \
	--start-time 2026-11-28T10:00:00Z >/dev/null 2>&1 || die "mediator --output"
vault_ingest_start "$site" run1
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/s.hi2" "$work/s.hi3" || die "sending"
vault_ingest_stop run1
IPID=

# --- the keeper's user owns the site; the console's user is another uid of its group
KUSER=fk$$; OUSER=fc$$; SGROUP=fg$$
groupadd --system "$SGROUP" || die "groupadd $SGROUP"
useradd --system --no-create-home --shell /usr/sbin/nologin -g "$SGROUP" "$KUSER" || die "useradd $KUSER"
useradd --system --no-create-home --shell /usr/sbin/nologin -g "$SGROUP" "$OUSER" || die "useradd $OUSER"
chown -R "$KUSER:$SGROUP" "$site"
chmod 755 "$site"
mkdir -m 700 "$work/run" && chown "$KUSER" "$work/run"
printf '%s\n' "$LACRE_PASSPHRASE" > "$work/run/pass"
chown "$KUSER" "$work/run/pass"; chmod 600 "$work/run/pass"
env -u LACRE_PASSPHRASE setpriv --reuid="$KUSER" --regid="$SGROUP" --clear-groups \
	"$L" keeper --site "$site" --passphrase-file "$work/run/pass" --ready-file "$work/run/ready" \
	2>"$work/keeper.err" &
KPID=$!
wait_file 20 "$work/run/ready" || { cat "$work/keeper.err"; die "the keeper did not start"; }
unset LACRE_PASSPHRASE LACRE_USER
J="Diligencias 12/2026: review of the intercepted calls"
# a warrant of UCO-2, through the keeper: inv (UCO-1) must not see it
W2=$("$L" warrant add --user "$ADMIN_KEY" --case CASE-2 --unit UCO-2 --court JI-5-Madrid \
	--order ORD-2 --order-date 2026-11-01 --to 2027-01-31 --categories iri --target t2 \
	--liid LIID0009 --json 2>"$work/wa.err" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') ||
	die "warrant add through the keeper: $(cat "$work/wa.err")"

# --- the console, as the other uid: it can read no key
mkdir -m 700 "$work/console" && chown "$OUSER" "$work/console"
setpriv --reuid="$OUSER" --regid="$SGROUP" --clear-groups cat "$site/master.age" >/dev/null 2>&1 &&
	die "the console's user can read master.age"
setpriv --reuid="$OUSER" --regid="$SGROUP" --clear-groups "$CONSOLE" --site "$site" --listen 127.0.0.1:0 --web "$top/web" \
	--cert "$work/console/cert.pem" --key "$work/console/key.pem" \
	--ready-file "$work/console/ready" 2>"$work/console.err" &
CPID=$!
wait_file 20 "$work/console/ready" || { cat "$work/console.err"; die "the console did not start"; }
URL=$(sed -n 's/^url=//p' "$work/console/ready")
case "$URL" in https://127.0.0.1:[0-9]*/) ;; *) die "console url: $URL" ;; esac
FPR=$(sed -n 's/.*certificate SHA-256 fingerprint \([0-9a-f]\{64\}\)$/\1/p' "$work/console.err")
[ -n "$FPR" ] || { cat "$work/console.err"; die "no fingerprint printed"; }
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
ok "lacre-console (uid $(id -u "$OUSER")) on $URL, certificate $FPR"

# --- Firefox
mkdir -p "$work/shots"
"$PY" "$top/tests/e2e/lib/console_firefox.py" "$FIREFOX" "$URL" "$work/trust.pem" "$work/shots" \
	"$INV_KEY" "$AUDITOR_KEY" "$W1" "$W2" "$J, in Firefox" "$work/browser.wav" ||
	{ tail -20 "$work/console.err"; tail -20 "$work/firefox.log" 2>/dev/null; die "the Firefox test"; }
n=$(ls "$work/shots"/*.png 2>/dev/null | wc -l)
[ "$n" -ge 9 ] || die "only $n screenshots"
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
grep -q "Diligencias" "$work/console.err" && die "the console logged a justification"

kill -TERM "$CPID"; wait "$CPID"; rc=$?; CPID=
[ "$rc" = 0 ] || { cat "$work/console.err"; die "console exit $rc on SIGTERM"; }
grep -q "Sanitizer" "$work/console.err" && { cat "$work/console.err"; die "a sanitizer report"; }
ok "SIGTERM: the console exits 0"
echo "PASS console_firefox"
