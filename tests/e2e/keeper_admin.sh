#!/usr/bin/env bash
# keeper_admin.sh - the registry writers through the keeper (docs/keeper.md,
# second stage): user add and disable, retention record, shred request and
# approval by two people, each with the acting user's own key and NO master
# passphrase in any client's environment.  The keeper runs as a system user
# of its own, created here (CI runs as root), and owns the site.  Shows:
#   1. user add through the keeper: the client makes the key pair (the key
#      file is the client's, mode 0600) and the keeper registers only the
#      public key; users.log's event is signed by the admin (by=admin) and
#      the new user's key then works; a non-admin is refused (exit 1) and
#      leaves no key file; `user add -o` is refused when sent raw;
#   2. a client that signs its access event but not the users.log line (it
#      signs that with another key) is refused (exit 3, the signature does
#      not verify) and users.log is unchanged;
#   3. user disable through the keeper: the disabled user's next request is
#      refused (exit 1, "user 'x' is disabled");
#   4. retention record by the clerk (court state dismissed): retention list
#      shows the case past retention;
#   5. shred: the supervisor requests, the same supervisor's approval is
#      refused by the four-eyes rule (exit 1); the clerk's client that signs
#      the cases.log line with another key gets exit 3 and the key stays;
#      the clerk approves: the warrant's key is destroyed in the keeper's
#      keystore and the records no longer read;
#   6. cases.log and users.log carry each actor's own signature and every
#      attempt is in the access log (0 failed verification).
# Exit 0 pass, 77 skip, 1 fail.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-keeper-admin-XXXXXX)
IPID= KPID= KUSER= SGROUP=
cleanup() {
	[ -n "$IPID" ] && kill "$IPID" 2>/dev/null
	[ -n "$KPID" ] && kill "$KPID" 2>/dev/null && wait "$KPID" 2>/dev/null
	[ -n "$KUSER" ] && userdel "$KUSER" 2>/dev/null
	[ -n "$SGROUP" ] && groupdel "$SGROUP" 2>/dev/null
	if [ -n "${LACRE_KEEP_TMP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
. "$top/tests/e2e/lib/vault.bash"
[ -x "$B/lacre" ] || { echo "build/bin/lacre missing: run make"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "needs root to create the keeper's system user"; exit 77; }
for t in python3 openssl useradd groupadd setpriv; do
	command -v $t >/dev/null || { echo "$t missing"; exit 77; }
done
ok() { echo "ok   $*"; }
L="$B/lacre"
chmod 755 "$work"

# --- a site with data (the bootstrap of the first admin needs the passphrase)
site=$work/site
vault_init "$site"
export LACRE_SITE=$site
W1=$(vault_warrant "$site" LIID0001 2026-11-01 2027-01-31 content,iri) || die "warrant 1"
"$B/lacre-mediator" --output "$work/s" --targets 1 --calls 1 --sessions 1 --seed 7 \
	--start-time 2026-11-28T10:00:00Z >/dev/null 2>&1 || die "mediator --output"
vault_ingest_start "$site" run1
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/s.hi2" "$work/s.hi3" || die "sending"
vault_ingest_stop run1
IPID=

# --- the keeper, as its own system user, owning the site
KUSER=lka$$; SGROUP=lga$$
groupadd --system "$SGROUP" || die "groupadd $SGROUP"
useradd --system --no-create-home --shell /usr/sbin/nologin -g "$SGROUP" "$KUSER" || die "useradd $KUSER"
chown -R "$KUSER:$SGROUP" "$site"
chmod 755 "$site"
mkdir -m 700 "$work/run" && chown "$KUSER" "$work/run"
printf '%s\n' "$LACRE_PASSPHRASE" > "$work/run/pass"
chown "$KUSER" "$work/run/pass"; chmod 600 "$work/run/pass"
env -u LACRE_PASSPHRASE setpriv --reuid="$KUSER" --regid="$SGROUP" --clear-groups \
	"$L" keeper --site "$site" --passphrase-file "$work/run/pass" \
	--ready-file "$work/run/ready" 2>"$work/keeper.err" &
KPID=$!
wait_file 60 "$work/run/ready" || { cat "$work/keeper.err"; die "the keeper did not start"; }
SOCK=$(sed -n 's/^socket=//p' "$work/run/ready")
kuid=$(id -u "$KUSER")
# from here on no client has the passphrase
unset LACRE_PASSPHRASE LACRE_USER
env | grep -q '^LACRE_PASSPHRASE=' && die "the passphrase is still in the environment"
ok "keeper listens on $SOCK as uid $kuid; no LACRE_PASSPHRASE in the clients' environment"
J=(--justification "Diligencias 12/2026: administration")
K=$work/keys; mkdir -m 700 "$K"

# 1. user add through the keeper
"$L" records --warrant "$W1" --user "$INV_KEY" "${J[@]}" > "$work/r0.out" 2>"$work/r0.err" ||
	{ cat "$work/r0.err"; die "records before the shred"; }
n0=$(wc -l < "$work/r0.out")
[ "$n0" -gt 0 ] || die "no records of $W1"
cp "$site/users.log" "$work/users.before"
"$L" user add nora --role clerk -o "$K/nora.key" --user "$ADMIN_KEY" "${J[@]}" \
	> "$work/ua.out" 2>"$work/ua.err" || { cat "$work/ua.err"; die "user add through the keeper"; }
grep -q "^user nora (clerk) added; public key registered$" "$work/ua.out" || die "user add: $(cat "$work/ua.out")"
grep -q "the private key of nora is in $K/nora.key" "$work/ua.err" || die "user add stderr: $(cat "$work/ua.err")"
[ "$(stat -c %a "$K/nora.key")" = 600 ] && [ "$(stat -c %u "$K/nora.key")" = 0 ] ||
	die "nora.key: mode $(stat -c %a "$K/nora.key") owner $(stat -c %u "$K/nora.key")"
[ "$(stat -c %u "$site/users.log")" = "$kuid" ] || die "users.log is not the keeper's"
tail -1 "$site/users.log" | grep -q "^lacre-user-v1 [0-9]* add by=admin at=[^ ]* name=nora role=clerk unit= key=[0-9a-f]\{64\} " ||
	die "users.log: $(tail -1 "$site/users.log")"
# the key registered is the one in the client's file
pub=$(python3 - "$K/nora.key" <<'PY'
import base64, subprocess, sys
seed = base64.b64decode(open(sys.argv[1]).read().strip().split("+", 4)[4])[1:33]
der = bytes.fromhex("302e020100300506032b657004220420") + seed
pem = b"-----BEGIN PRIVATE KEY-----\n" + base64.b64encode(der) + b"\n-----END PRIVATE KEY-----\n"
out = subprocess.run(["openssl", "pkey", "-pubout", "-outform", "DER"], input=pem,
                     capture_output=True, check=True).stdout
print(out[-32:].hex())
PY
)
tail -1 "$site/users.log" | grep -q " key=$pub " || die "the registered key is not nora.key's ($pub)"
"$L" user list | grep -q "^nora  *clerk  *-  *enabled  *added .* by admin$" || die "user list: $("$L" user list)"
"$L" retention list --all --user "$K/nora.key" "${J[@]}" > "$work/nr.out" 2>&1 ||
	die "nora's first request through the keeper: $(cat "$work/nr.out")"
grep -q "^$W1 " "$work/nr.out" || die "nora's retention list: $(cat "$work/nr.out")"
"$L" user add eve --role admin -o "$K/eve.key" --user "$INV_KEY" "${J[@]}" > /dev/null 2>"$work/ue.err"
rc=$?
[ "$rc" = 1 ] && grep -q "may not use 'user-admin'" "$work/ue.err" ||
	die "user add by an investigator: exit $rc, $(cat "$work/ue.err")"
[ ! -e "$K/eve.key" ] || die "a refused user add left its key file"
grep -q "name=eve" "$site/users.log" && die "eve was registered"
ok "user add through the keeper: nora's key made by the client (0600), key=$pub in users.log by=admin; an investigator's add: exit 1, no key file"

# 2. a raw client (docs/keeper.md's protocol) that lies about the users.log line
cat > "$work/kc.py" <<'PY'
import base64, os, socket, struct, subprocess, sys, time
sock, keyfile, otherkey, tmp = sys.argv[1:5]
args = sys.argv[5:]
def pct(s):
    raw = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/@+"
    return "".join(chr(c) if c in raw else "%%%02X" % c for c in s.encode())
def pem(keyfile, name):
    seed = base64.b64decode(open(keyfile).read().strip().split("+", 4)[4])[1:33]
    der = bytes.fromhex("302e020100300506032b657004220420") + seed
    p = os.path.join(tmp, name); open(p, "w").write("-----BEGIN PRIVATE KEY-----\n" +
        base64.b64encode(der).decode() + "\n-----END PRIVATE KEY-----\n"); os.chmod(p, 0o600)
    return p
own, other = pem(keyfile, "own.pem"), pem(otherkey, "other.pem")
name = open(keyfile).read().strip().split("+", 4)[2]
body = "lacre-keeper-request/v1\nuser %s\ntime %d\nnonce %s\n" % (name, int(time.time() * 1e6), os.urandom(16).hex())
body += "".join("arg %s\n" % pct(a) for a in args)
def sign(m, k):
    mp = os.path.join(tmp, "m"); open(mp, "wb").write(m)
    return subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", k, "-rawin", "-in", mp],
                          capture_output=True, check=True).stdout
req = body.encode() + b"sig " + sign(body.encode(), own).hex().encode() + b"\n"
def recv_exact(s, n):
    b = b""
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d: raise EOFError
        b += d
    return b
s = socket.socket(socket.AF_UNIX); s.connect(sock)
s.sendall(struct.pack(">I", len(req)) + req)
out, err, st, asked = b"", b"", None, []
while st is None:
    h = recv_exact(s, 5)
    p = recv_exact(s, struct.unpack(">I", h[1:5])[0])
    if h[0:1] == b"O": out += p
    elif h[0:1] == b"E": err += p
    elif h[0:1] == b"X": st = p[0]
    elif h[0:1] == b"S":
        # the access event honestly, a registry line with another user's key
        reg = p.startswith(b"lacre-user-v1 ") or p.startswith(b"lacre-case-v1 ")
        asked.append("registry" if reg else "access")
        g = sign(p, other if reg else own)
        s.sendall(b"G" + struct.pack(">I", len(g)) + g)
print("status=%s asked=%s err=%s" % (st, ",".join(asked), err.decode().strip().replace("\n", " | ")))
PY
cp "$site/users.log" "$work/users.mid"
python3 "$work/kc.py" "$SOCK" "$ADMIN_KEY" "$CLERK_KEY" "$work" user add mallory --role admin \
	--public-key "$(printf 'ab%.0s' $(seq 32))" "${J[@]}" > "$work/lie.out" || die "kc lie"
grep -q "^status=3 asked=access,registry err=lacre: user add: the event.s signature does not verify with the key of user .admin.; nothing was written$" "$work/lie.out" ||
	die "a lying signer: $(cat "$work/lie.out")"
cmp -s "$site/users.log" "$work/users.mid" || die "users.log changed after a lying signature"
python3 "$work/kc.py" "$SOCK" "$ADMIN_KEY" "$ADMIN_KEY" "$work" user add mallory --role admin \
	-o /tmp/x.key "${J[@]}" > "$work/raw.out" || die "kc raw -o"
grep -q "^status=1 asked= err=lacre: keeper: refused: the keeper does not accept the option '-o'" "$work/raw.out" ||
	die "user add -o sent raw: $(cat "$work/raw.out")"
ok "a client signing the users.log line with another key: exit 3 ($(sed 's/.*err=//' "$work/lie.out")), users.log unchanged; raw -o refused"

# 3. user disable through the keeper
"$L" user add inv2 --role investigator --unit UCO-1 -o "$K/inv2.key" --user "$ADMIN_KEY" "${J[@]}" \
	> /dev/null 2>"$work/ui.err" || { cat "$work/ui.err"; die "user add inv2"; }
"$L" records --warrant "$W1" --user "$K/inv2.key" "${J[@]}" > "$work/i2.out" 2>&1 ||
	die "inv2 reads before being disabled: $(tail -2 "$work/i2.out")"
"$L" user disable inv2 --user "$ADMIN_KEY" "${J[@]}" > "$work/ud.out" 2>&1 ||
	die "user disable through the keeper: $(cat "$work/ud.out")"
grep -q "^user inv2 disabled$" "$work/ud.out" || die "user disable: $(cat "$work/ud.out")"
tail -1 "$site/users.log" | grep -q "^lacre-user-v1 [0-9]* disable by=admin at=[^ ]* name=inv2 " ||
	die "users.log: $(tail -1 "$site/users.log")"
"$L" records --warrant "$W1" --user "$K/inv2.key" "${J[@]}" > "$work/i3.out" 2>"$work/i3.err"
rc=$?
[ "$rc" = 1 ] && [ ! -s "$work/i3.out" ] && grep -q "refused: user 'inv2' is disabled" "$work/i3.err" ||
	die "a disabled user's request: exit $rc, $(cat "$work/i3.err")"
ok "user disable through the keeper; inv2's next request: exit 1 '$(cat "$work/i3.err")'"

# 4. retention record (the clerk) and list
"$L" retention record "$W1" --state dismissed --date 2026-12-01 --order "AUTO-77/2026" \
	--user "$CLERK_KEY" "${J[@]}" > "$work/rr.out" 2>&1 || die "retention record: $(cat "$work/rr.out")"
grep -q "^$W1: court state dismissed of 2026-12-01 recorded$" "$work/rr.out" || die "retention record: $(cat "$work/rr.out")"
tail -1 "$site/cases.log" | grep -q "^lacre-case-v1 [0-9]* court-state by=clerk " ||
	die "cases.log: $(tail -1 "$site/cases.log")"
"$L" retention record "$W1" --state open --date 2026-12-01 --user "$INV_KEY" "${J[@]}" \
	> /dev/null 2>"$work/rr2.err"
rc=$?
[ "$rc" = 1 ] && grep -q "may not use 'court-state'" "$work/rr2.err" ||
	die "retention record by an investigator: exit $rc, $(cat "$work/rr2.err")"
"$L" retention list --user "$CLERK_KEY" "${J[@]}" > "$work/rl.out" 2>"$work/rl.err" ||
	die "retention list: $(cat "$work/rl.err")"
grep -q "^$W1 .*PAST RETENTION: dismissed of 2026-12-01" "$work/rl.out" || die "retention list: $(cat "$work/rl.out")"
ok "retention record by the clerk through the keeper (investigator: exit 1); $W1 listed past retention"

# 5. shred by two people: the warrant ends first (cease, through the keeper)
"$L" warrant cease "$W1" --order CESE-1 --order-date 2026-12-01 --user "$CLERK_KEY" "${J[@]}" \
	> "$work/wc.out" 2>&1 || die "warrant cease through the keeper: $(cat "$work/wc.out")"
"$L" shred request --warrant "$W1" --order "AUTO-78/2026" --order-date 2026-12-02 \
	--user "$SUP_KEY" "${J[@]}" > "$work/sr.out" 2>&1 || die "shred request: $(cat "$work/sr.out")"
grep -q "^shred request S-000001 for $W1 recorded" "$work/sr.out" || die "shred request: $(cat "$work/sr.out")"
tail -1 "$site/cases.log" | grep -q "^lacre-case-v1 [0-9]* shred-request by=sup .*id=S-000001 warrant=$W1 " ||
	die "cases.log: $(tail -1 "$site/cases.log")"
"$L" shred approve S-000001 --user "$SUP_KEY" "${J[@]}" > /dev/null 2>"$work/sa1.err"
rc=$?
[ "$rc" = 1 ] && grep -q "^lacre: shred request S-000001 was made by sup: a second, different user must approve it (four eyes)$" "$work/sa1.err" ||
	die "approval by the requester: exit $rc, $(cat "$work/sa1.err")"
[ -e "$site/keystore/$W1.key" ] || die "the key went with a refused approval"
# the clerk's client signs the access event but not the cases.log line:
# no signature, no destruction
cp "$site/cases.log" "$work/cases.mid"
python3 "$work/kc.py" "$SOCK" "$CLERK_KEY" "$SUP_KEY" "$work" shred approve S-000001 "${J[@]}" \
	> "$work/slie.out" || die "kc lie (shred)"
grep -q "^status=3 asked=access,registry err=lacre: shred approve: the approval's signature does not verify with the key of user 'clerk'; nothing was destroyed or written$" \
	"$work/slie.out" || die "a lying approver: $(cat "$work/slie.out")"
[ -e "$site/keystore/$W1.key" ] || die "the key was destroyed without the approver's signature"
cmp -s "$site/cases.log" "$work/cases.mid" || die "cases.log changed after a lying approval"
"$L" shred approve S-000001 --user "$CLERK_KEY" "${J[@]}" > "$work/sa.out" 2>"$work/sa.err" ||
	{ cat "$work/sa.err"; die "shred approve by the clerk"; }
grep -q "^warrant $W1 shredded by order AUTO-78/2026 of 2026-12-02T00:00:00Z: requested by sup, approved by clerk$" \
	"$work/sa.out" || die "shred approve: $(cat "$work/sa.out")"
[ ! -e "$site/keystore/$W1.key" ] && [ -e "$site/keystore/$W1.shredded" ] ||
	die "the warrant's key is still in the keeper's keystore: $(ls "$site/keystore")"
tail -1 "$site/cases.log" | grep -q "^lacre-case-v1 [0-9]* shred-approve by=clerk .*id=S-000001 " ||
	die "cases.log: $(tail -1 "$site/cases.log")"
"$L" shred list --user "$CLERK_KEY" "${J[@]}" | grep -q "^S-000001 $W1 .*EXECUTED, approved by clerk$" ||
	die "shred list"
"$L" records --warrant "$W1" --user "$INV_KEY" "${J[@]}" > "$work/r1.out" 2>"$work/r1.err"
rc=$?
[ "$rc" = 1 ] && [ ! -s "$work/r1.out" ] &&
	grep -q "^lacre: warrant $W1 was shredded by order AUTO-78/2026 on .*: its records can no longer be read$" "$work/r1.err" ||
	die "records of a shredded warrant: exit $rc, $(wc -l < "$work/r1.out") lines, $(cat "$work/r1.err")"
ok "shred: requested by sup, the requester's approval refused (exit 1), a lying approver's client refused (exit 3, key kept), approved by clerk: key destroyed, $n0 records no longer read (exit $rc)"

# 6. the logs: own signatures, every attempt logged
"$L" audit --site "$site" > "$work/au.out" 2>&1 || die "audit --site: $(cat "$work/au.out")"
"$L" access-log --user "$AUDITOR_KEY" "${J[@]}" --json > "$work/al.jsonl" 2>"$work/al.err" ||
	{ cat "$work/al.err"; die "access-log"; }
grep -q " 0 failed verification" "$work/al.err" || die "access-log: $(cat "$work/al.err")"
python3 - "$work/al.jsonl" "$W1" <<'PY' || die "the access log misses attempts"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
w1 = sys.argv[2]
def has(**kw):
    return any(all(e.get(k) == v for k, v in kw.items()) for e in ev)
checks = {
    "admin user add": has(user="admin", action="user-admin", decision="allowed", request_signed=True),
    "inv user add refused": has(user="inv", action="user-admin", decision="refused"),
    "clerk court-state": has(user="clerk", action="court-state", warrant=w1, decision="allowed", request_signed=True),
    "inv court-state refused": has(user="inv", action="court-state", decision="refused"),
    "sup shred request": has(user="sup", action="shred", warrant=w1, decision="allowed", request_signed=True),
    "sup approval refused": has(user="sup", action="shred", warrant=w1, decision="refused"),
    "clerk approval": has(user="clerk", action="shred", warrant=w1, decision="allowed", request_signed=True),
    "inv2 disabled": has(user="inv2", action="keeper", decision="refused", reason="disabled user"),
}
bad = [k for k, v in checks.items() if not v]
if bad:
    print("missing:", bad); sys.exit(1)
print("%d events, all %d kinds present" % (len(ev), len(checks)))
PY
kill -TERM "$KPID"; wait "$KPID"; rc=$?; KPID=
[ "$rc" = 0 ] || { cat "$work/keeper.err"; die "keeper exit $rc on SIGTERM"; }
ok "users.log and cases.log verify (audit --site exit 0); every attempt in the access log, 0 failed verification"
echo "PASS keeper_admin"
