#!/usr/bin/env bash
# keeper_https.sh - the lacre CLI as a REMOTE client of the keeper, through
# lacre-console's HTTPS API (lib/proto/https_client.c, docs/keeper.md
# "Remote clients").  The keeper runs as a system user of its own and owns
# the site; lacre-console runs as another uid of the site's group, as in
# console.sh (both created here; CI runs as root).  Only loopback.  Shows:
#   1. `lacre records`, `lacre calls --json` and `lacre audio -o F` with
#      --keeper https://127.0.0.1:PORT --keeper-fingerprint FPR give exactly
#      what the same commands give over SITE/keeper.sock (the WAV byte for
#      byte); LACRE_KEEPER=https://... with LACRE_KEEPER_FINGERPRINT works
#      the same; each remote read is in the access log, signed by the user;
#   2. the L8 answer of another unit's warrant is the same over HTTPS as
#      over the socket (exit 1, "no warrant 'W'");
#   3. a wrong fingerprint is refused in the TLS handshake (exit 3, "did
#      not show the certificate"), before any request: the access log gains
#      no entry; an https keeper without a fingerprint or CA is a usage
#      error (exit 2); a bad fingerprint is a usage error (exit 2);
#   4. a forged user (a key file named inv, not inv's key) cannot log in
#      (exit 1, "the console refused the login"); a disabled... is
#      console.sh's; an output file that exists is never overwritten
#      (exit 1, "exists").
# Exit 0 pass, 77 skip (a genuinely absent facility), 1 fail.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-khttps-XXXXXX)
. "$top/tests/e2e/lib/vault.bash"
. "$top/tests/e2e/lib/console_site.bash"
trap console_cleanup EXIT
[ -x "$B/lacre" ] && [ -x "$B/lacre-console" ] || { echo "build/bin/lacre-console missing: run make"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "needs root to create the keeper's and the console's system users"; exit 77; }
for t in python3 openssl useradd groupadd setpriv; do
	command -v $t >/dev/null || { echo "$t missing (scripts/deps installs it)"; exit 77; }
done
ok() { echo "ok   $*"; }
# LACRE_CLI_BIN, LACRE_CONSOLE_BIN: other builds (build-asan/bin/...)
L=${LACRE_CLI_BIN:-$B/lacre}
CONSOLE=${LACRE_CONSOLE_BIN:-$B/lacre-console}
chmod 755 "$work"

# --- a site with one call; the keeper's user owns it; the console's user
# is another uid of its group (tests/e2e/lib/console_site.bash, as console.sh)
console_site
console_keeper h
console_start
URL=${URL%/}
ok "keeper (uid $(id -u "$KUSER")) and lacre-console (uid $(id -u "$OUSER")) on $URL"
R=(--keeper "$URL" --keeper-fingerprint "$FPR")
nlog() { "$L" access-log --user "$AUDITOR_KEY" --justification "oversight" --json 2>/dev/null | wc -l; }

# --- 1. the same answers over HTTPS as over the socket
"$L" records --warrant "$W1" --user "$INV_KEY" --justification "$J" --json >"$work/rec.sock" 2>"$work/rec.sock.err" ||
	die "records over the socket: $(cat "$work/rec.sock.err")"
[ -s "$work/rec.sock" ] || die "records over the socket printed nothing"
n0=$(nlog)
"$L" records --warrant "$W1" --user "$INV_KEY" --justification "$J" --json "${R[@]}" \
	>"$work/rec.https" 2>"$work/rec.https.err" || die "records over https: $(cat "$work/rec.https.err")"
cmp -s "$work/rec.sock" "$work/rec.https" || die "records over https differ from the socket's"
n1=$(nlog)
[ "$n1" -eq $((n0 + 2)) ] || die "access log: $n0 entries before, $n1 after one remote read and one audit read"
"$L" access-log --user "$AUDITOR_KEY" --justification "oversight" --json 2>/dev/null | python3 -c '
import json, sys
e = [json.loads(l) for l in sys.stdin][-3]      # before the two access-log reads
assert e["action"] == "records" and e["user"] == "inv" and e["decision"] == "allowed" and e["request_signed"] is True, e
' || die "the remote read is not in the access log as an allowed, signed read by inv"
ok "records --json: $(wc -l <"$work/rec.https") lines over https, identical to the socket's; logged as inv"

"$L" calls --warrant "$W1" --user "$INV_KEY" --justification "$J" --json >"$work/calls.sock" 2>/dev/null ||
	die "calls over the socket"
LACRE_KEEPER=$URL LACRE_KEEPER_FINGERPRINT=$FPR "$L" calls --warrant "$W1" --user "$INV_KEY" \
	--justification "$J" --json >"$work/calls.https" 2>"$work/calls.https.err" ||
	die "calls over https (LACRE_KEEPER): $(cat "$work/calls.https.err")"
cmp -s "$work/calls.sock" "$work/calls.https" || die "calls over https differ from the socket's"
CALL=$(python3 -c 'import json,sys; print([c["id"] for c in map(json.loads, open(sys.argv[1])) if c["type"] == "voip"][0])' \
	"$work/calls.https") || die "no voip call of $W1"
ok "calls --json over https (LACRE_KEEPER, LACRE_KEEPER_FINGERPRINT) identical to the socket's"

"$L" audio "$CALL" -o "$work/sock.wav" --user "$INV_KEY" --justification "$J" >/dev/null 2>&1 ||
	die "audio over the socket"
"$L" audio "$CALL" -o "$work/https.wav" --user "$INV_KEY" --justification "$J" "${R[@]}" \
	>/dev/null 2>"$work/audio.err" || die "audio over https: $(cat "$work/audio.err")"
cmp -s "$work/sock.wav" "$work/https.wav" || die "the WAV over https differs from the socket's"
[ "$(stat -c %a "$work/https.wav")" = 600 ] || die "the WAV's mode is $(stat -c %a "$work/https.wav")"
[ -e "$work/https.wav.part" ] && die "a .part file was left"
ok "audio -o: the WAV over https ($(stat -c %s "$work/https.wav") bytes) is the socket's, byte for byte, mode 600"
expect_exit 1 "exists" "$L" audio "$CALL" -o "$work/https.wav" --user "$INV_KEY" --justification "$J" "${R[@]}" ||
	die "an existing output file"
cmp -s "$work/sock.wav" "$work/https.wav" || die "an existing output file was changed"
ok "an existing output file is refused (exit 1) and left as it was"

# --- 2. the L8 answer, the same over both
expect_exit 1 "no warrant '$W1'" "$L" records --warrant "$W1" --user "$INV2_KEY" --justification "$J" ||
	die "L8 over the socket"
cp "$work/expect.err" "$work/l8.sock"
expect_exit 1 "no warrant '$W1'" "$L" records --warrant "$W1" --user "$INV2_KEY" --justification "$J" "${R[@]}" ||
	die "L8 over https"
expect_no_output || die "output with the L8 answer over https"
cmp -s "$work/l8.sock" "$work/expect.err" || die "the L8 answer over https differs: $(cat "$work/expect.err")"
ok "another unit's warrant over https: the L8 answer, the socket's line for line (exit 1)"

# --- 3. the console's certificate
n0=$(nlog)
BAD=$(printf '%s' "$FPR" | tr '0-9a-f' '1-9a-f0')
expect_exit 3 "did not show the certificate" "$L" records --warrant "$W1" --user "$INV_KEY" \
	--justification "$J" --keeper "$URL" --keeper-fingerprint "$BAD" || die "a wrong fingerprint"
expect_no_output || die "output with a wrong fingerprint"
n1=$(nlog)
[ "$n1" -eq $((n0 + 1)) ] || die "a refused handshake reached the keeper ($n0 -> $n1 entries)"
ok "a wrong fingerprint: refused in the handshake (exit 3), nothing reached the keeper"
expect_exit 2 "needs --keeper-fingerprint" "$L" records --warrant "$W1" --user "$INV_KEY" \
	--justification "$J" --keeper "$URL" || die "https without a fingerprint"
expect_exit 2 "is not a SHA-256 fingerprint" "$L" records --warrant "$W1" --user "$INV_KEY" \
	--justification "$J" --keeper "$URL" --keeper-fingerprint abc || die "a malformed fingerprint"
# the system's CA list is not a trust anchor for the console: its own
# certificate as the CA file is (it is self-signed, names 127.0.0.1)
if openssl x509 -in "$work/console/cert.pem" -noout -ext subjectAltName 2>/dev/null | grep -q "IP Address:127.0.0.1"; then
	"$L" records --warrant "$W1" --user "$INV_KEY" --justification "$J" --json --keeper "$URL" \
		--keeper-ca "$work/console/cert.pem" >"$work/rec.ca" 2>"$work/rec.ca.err" ||
		die "records with --keeper-ca: $(cat "$work/rec.ca.err")"
	cmp -s "$work/rec.sock" "$work/rec.ca" || die "records with --keeper-ca differ"
	ok "--keeper-ca with the console's certificate: the same records"
fi
expect_exit 3 "does not verify" "$L" records --warrant "$W1" --user "$INV_KEY" --justification "$J" \
	--keeper "$URL" --keeper-ca /etc/ssl/certs/ca-certificates.crt || die "the system CA list"
ok "no fingerprint: usage (exit 2); a malformed one: usage (exit 2); the system CA list: refused (exit 3)"

# --- 4. a forged user
# a well-formed key file (its key id right) named inv, of a new key pair
python3 - "$work/forged.key" <<'PY' || die "forged key"
import base64, hashlib, os, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization as s
seed = os.urandom(32)
pub = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(s.Encoding.Raw, s.PublicFormat.Raw)
kid = hashlib.sha256(b"inv\n\x01" + pub).hexdigest()[:8]
open(sys.argv[1], "w").write("PRIVATE+KEY+inv+%s+%s\n" % (kid, base64.b64encode(b"\x01" + seed).decode()))
PY
chmod 600 "$work/forged.key"
expect_exit 1 "the console refused the login" "$L" records --warrant "$W1" --user "$work/forged.key" \
	--justification "$J" "${R[@]}" || die "a forged user"
expect_no_output || die "output for a forged user"
ok "a forged user (inv's name, another key): the console refuses the login (exit 1), no output"

grep -q "Diligencias" "$work/console.err" && die "the console logged a justification"
kill -TERM "$CPID"; wait "$CPID"; rc=$?; CPID=
[ "$rc" = 0 ] || { cat "$work/console.err"; die "console exit $rc on SIGTERM"; }
grep -q "Sanitizer" "$work/console.err" "$work/keeper.err" "$work"/*.err && die "a sanitizer report"
echo "PASS keeper_https"
