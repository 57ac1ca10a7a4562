#!/usr/bin/env bash
# keeper.sh - the keeper is the only process that unlocks the master key
# (docs/keeper.md).  The keeper runs as a system user of its own, created
# here (CI runs as root), and owns the site; the test shows:
#   1. the key files are the keeper's alone: a program running as another
#      uid, given the master passphrase and every file it can read, gets
#      no key (exit 1, "cannot open master.age");
#   2. the CLI, as the investigator of the right unit and with NO
#      passphrase in its environment, reads records through the keeper
#      (LACRE_KEEPER and SITE/keeper.sock); another unit's warrant gets
#      the L8 answer (exit 1, the exact text of a missing warrant), also
#      for warrant show, and warrant list hides it;
#   3. a forged, a replayed, an unsigned and a stale request are refused
#      (exit frame 1 and the keeper's message), and so is a command the
#      keeper does not serve (user list) or an option it does not accept;
#   4. every attempt, allowed or refused, is in the access log, each
#      allowed one with the user's own verified signature;
#   5. SIGTERM stops the keeper (exit 0) and removes its socket;
#   6. SIGKILL mid-request: no handler or worker runs on, and the work
#      folder of the dead keeper (a request's output in /dev/shm) is
#      removed at the next start.
# Exit 0 pass, 77 skip, 1 fail.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-keeper-XXXXXX)
IPID= KPID= KUSER= OUSER= SGROUP=
cleanup() {
	[ -n "$IPID" ] && kill "$IPID" 2>/dev/null
	[ -n "$KPID" ] && kill "$KPID" 2>/dev/null && wait "$KPID" 2>/dev/null
	[ -n "$KUSER" ] && userdel "$KUSER" 2>/dev/null
	[ -n "$OUSER" ] && userdel "$OUSER" 2>/dev/null
	[ -n "$SGROUP" ] && groupdel "$SGROUP" 2>/dev/null
	if [ -n "${LACRE_KEEP_TMP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
. "$top/tests/e2e/lib/vault.bash"
[ -x "$B/lacre" ] || { echo "build/bin/lacre missing: run make"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "needs root to create the keeper's system user"; exit 77; }
for t in python3 openssl useradd groupadd setpriv age-keygen; do
	command -v $t >/dev/null || { echo "$t missing"; exit 77; }
done
ok() { echo "ok   $*"; }
L="$B/lacre"
chmod 755 "$work"

# --- a site with data, made the old way (the bootstrap needs the passphrase)
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
J=(--justification "Diligencias 12/2026: review of the intercepted calls")
"$L" records --warrant "$W1" --user "$INV_KEY" "${J[@]}" > "$work/inproc.out" 2>/dev/null ||
	die "in-process read before the keeper"
n_inproc=$(wc -l < "$work/inproc.out")
[ "$n_inproc" -gt 0 ] || die "no records for $W1"
"$L" pcap --warrant "$W1" -o "$work/inproc.pcap" --user "$INV_KEY" "${J[@]}" >/dev/null 2>&1 ||
	die "in-process pcap before the keeper"

# --- the keeper's system user owns the site, group: the site's group; the
# "site user" is another uid in that group (it reads what the site shares)
KUSER=lk$$; OUSER=lo$$; SGROUP=lg$$
groupadd --system "$SGROUP" || die "groupadd $SGROUP"
useradd --system --no-create-home --shell /usr/sbin/nologin -g "$SGROUP" "$KUSER" || die "useradd $KUSER"
useradd --system --no-create-home --shell /usr/sbin/nologin -g "$SGROUP" "$OUSER" || die "useradd $OUSER"
chown -R "$KUSER:$SGROUP" "$site"
chmod 755 "$site"
mkdir -m 700 "$work/run" && chown "$KUSER" "$work/run"
printf '%s\n' "$LACRE_PASSPHRASE" > "$work/run/pass"
chown "$KUSER" "$work/run/pass"; chmod 600 "$work/run/pass"
# keeper_start LOG: start the keeper as its user; sets KPID
keeper_start() {
	rm -f "$work/run/ready"
	env -u LACRE_PASSPHRASE setpriv --reuid="$KUSER" --regid="$SGROUP" --clear-groups \
		"$L" keeper --site "$site" --passphrase-file "$work/run/pass" \
		--ready-file "$work/run/ready" 2>"$work/$1" &
	KPID=$!
	for _ in $(seq 1 200); do [ -f "$work/run/ready" ] && break; sleep 0.05; done
	[ -f "$work/run/ready" ] || { cat "$work/$1"; die "the keeper did not start"; }
}
# a work folder left by a keeper that died (its pid is gone) is removed at start
sleep 0 & deadpid=$!; wait $deadpid
stale=/dev/shm/lacre-keeper-$deadpid
mkdir -p "$stale/0123" && echo plaintext > "$stale/0123/output" && chown -R "$KUSER" "$stale"
keeper_start keeper.err
[ ! -e "$stale" ] || die "the stale work folder $stale was not removed"
grep -q "removed $stale, left by a keeper that died" "$work/keeper.err" || die "no stale line"
SOCK=$(sed -n 's/^socket=//p' "$work/run/ready")
[ "$SOCK" = "$site/keeper.sock" ] || die "ready file: $(cat "$work/run/ready")"
[ "$(stat -c %a "$SOCK")" = 660 ] || die "socket mode $(stat -c %a "$SOCK")"
kuid=$(id -u "$KUSER")
[ "$(stat -c %u "$SOCK")" = "$kuid" ] || die "socket owner $(stat -c %u "$SOCK")"
ok "keeper listens on $SOCK (mode 660) as uid $kuid ($KUSER)"

# 1. the key files are the keeper's alone
for f in master.age keystore ledger/access.key; do
	[ "$(stat -c %u "$site/$f")" = "$kuid" ] || die "$f is not the keeper's"
	case "$(stat -c %a "$site/$f")" in 600|700) ;; *) die "$f mode $(stat -c %a "$site/$f")" ;; esac
done
asuser() { setpriv --reuid="$OUSER" --regid="$SGROUP" --clear-groups "$@"; }
asuser cat "$site/lacre.conf" >/dev/null || die "the site user cannot read lacre.conf"
asuser cat "$site/master.age" >/dev/null 2>&1 && die "the site user read master.age"
asuser ls "$site/keystore" >/dev/null 2>&1 && die "the site user listed the keystore"
# given the passphrase, a program linked against the library in another
# uid's process unlocks nothing (tests/e2e/keeper_probe.c: 0 = no key)
cc -std=c11 -O1 -I"$top/include" -I"$top/lib" -o "$work/probe" "$top/tests/e2e/keeper_probe.c" "$top/build/liblacre.a" \
	$(pkg-config --libs libcrypto 2>/dev/null || echo -lcrypto) || die "cannot build keeper_probe"
LACRE_PASSPHRASE=e2e-master-passphrase "$work/probe" "$site" "$W1" > "$work/p0.out" 2>&1
[ $? = 3 ] && grep -q "keystore_get $W1: IDENTITY" "$work/p0.out" ||
	die "the probe cannot read the key even as root: $(cat "$work/p0.out")"
asuser env LACRE_PASSPHRASE=e2e-master-passphrase "$work/probe" "$site" "$W1" > "$work/p1.out" 2>&1
rc=$?
[ "$rc" = 0 ] && grep -q "site_master_unlock: LACRE_E_IO" "$work/p1.out" ||
	die "the probe as another uid: exit $rc, $(cat "$work/p1.out")"
# and the CLI's in-process path (LACRE_KEEPER=off), as that uid, with the passphrase
cp "$SUP_KEY" "$work/run-sup.key"; chown "$OUSER" "$work/run-sup.key"
asuser env LACRE_KEEPER=off LACRE_PASSPHRASE=e2e-master-passphrase "$L" warrant identity "$W1" \
	--site "$site" --user "$work/run-sup.key" "${J[@]}" > "$work/o1.out" 2>"$work/o1.err"
rc=$?
[ "$rc" = 1 ] && [ ! -s "$work/o1.out" ] && grep -q "access log could not record it first" "$work/o1.err" ||
	die "identity in-process as another uid: exit $rc, $(cat "$work/o1.err")"
ok "another uid with the passphrase: probe exit 0 ($(tr '\n' ';' < "$work/p1.out")); identity exit 1"

# 2. reads through the keeper, no passphrase in the client's environment
unset LACRE_PASSPHRASE LACRE_USER
LACRE_KEEPER=$SOCK "$L" records --warrant "$W1" --user "$INV_KEY" "${J[@]}" \
	> "$work/k.out" 2>"$work/k.err" || { cat "$work/k.err"; die "records through the keeper"; }
cmp -s "$work/k.out" "$work/inproc.out" ||
	die "records through the keeper differ from the in-process read"
"$L" records --warrant "$W1" --user "$INV_KEY" "${J[@]}" --json > "$work/k2.out" 2>/dev/null ||
	die "records through SITE/keeper.sock"
[ "$(wc -l < "$work/k2.out")" = "$n_inproc" ] || die "json records: $(wc -l < "$work/k2.out")"
ok "investigator of UCO-1 reads $W1 through the keeper, no passphrase: $n_inproc records"
age-keygen -o "$work/court.key" 2>/dev/null || die "age-keygen"
R=$(grep -o 'age1[a-z0-9]*' "$work/court.key")
"$L" export --warrant "$W1" --recipient "$R" -o "$work/k.age" --user "$CLERK_KEY" "${J[@]}" \
	> "$work/ke.out" 2>"$work/ke.err" || { cat "$work/ke.err"; die "export through the keeper"; }
"$B/lacre-verify" "$work/k.age" -i "$work/court.key" --log-vkey "$site/ledger/ingest/vkey" \
	> "$work/kv.out" 2>&1 || { cat "$work/kv.out"; die "the package exported through the keeper"; }
grep -q '^VERIFIED' "$work/kv.out" || die "lacre-verify: $(cat "$work/kv.out")"
! grep -q /dev/shm "$work/ke.out" && grep -q "sealed to .* in $work/k.age\$" "$work/ke.out" &&
	grep -q "^package   $work/k.age " "$work/ke.out" ||
	{ cat "$work/ke.out"; die "the export's summary or self-check names the keeper's private copy, not $work/k.age"; }
ok "clerk's export through the keeper verifies with lacre-verify ($(stat -c %s "$work/k.age") bytes); its summary and self-check name the client's file"
# a record's proof through the keeper: a v2 record needs its segment proof
# and its entry's receipt, and a request returns one file: one record proof
# (docs/FORMATS.md §6.2) that lacre proof verify reads
rec=$(python3 -c 'import json,sys; r=json.loads(open(sys.argv[1]).readline()); print("%s:%d" % (r["segment"], r["index"]))' \
	"$work/k2.out") || die "no record in the JSON lines"
"$L" proof record --warrant "$W1" --record "$rec" -o "$work/one.proof" --user "$INV_KEY" "${J[@]}" \
	2>"$work/pr.err" || { cat "$work/pr.err"; die "proof record through the keeper"; }
c=$(sed -n 's/.*leaf [0-9]*, commitment \([0-9a-f]\{64\}\)$/\1/p' "$work/pr.err")
[ -n "$c" ] && [ "$(head -1 "$work/one.proof")" = "lacre-segment-proof/v1" ] &&
	[ "$(grep -c '^c2sp.org/tlog-proof@v1$' "$work/one.proof")" = 1 ] && [ ! -e "$work/one.proof.segment-proof" ] ||
	die "proof record through the keeper: $(cat "$work/pr.err"; head -3 "$work/one.proof")"
expect_exit 0 "" "$L" proof verify --vkey "$(cat "$site/ledger/ingest/vkey")" --entry-hex "$c" "$work/one.proof" ||
	die "proof verify of the record proof"
grep -q "^ok: record [0-9]* of [0-9]* of seg/[0-9a-f]*, entry [0-9]*, is in lacre/" "$EXPECT_DIR/expect.out" ||
	die "proof verify: $(cat "$EXPECT_DIR/expect.out")"
expect_exit 3 "segment proof does not take the commitment to the records root" "$L" proof verify \
	--vkey "$(cat "$site/ledger/ingest/vkey")" --entry-hex "$(printf '%064d' 0)" "$work/one.proof" ||
	die "a record proof proved another commitment"
ok "proof record through the keeper: one record proof (segment proof + receipt) that proof verify accepts (exit 0), not for another commitment (exit 3)"
"$L" pcap --warrant "$W1" -o "$work/k.pcap" --user "$INV_KEY" "${J[@]}" >/dev/null 2>"$work/kp.err" ||
	{ cat "$work/kp.err"; die "pcap through the keeper"; }
cmp -s "$work/k.pcap" "$work/inproc.pcap" || die "pcap through the keeper differs from in-process"
[ "$(stat -c %a "$work/k.pcap")" = 600 ] || die "pcap file mode $(stat -c %a "$work/k.pcap")"
[ ! -e "$work/k.pcap.part" ] || die "pcap .part left behind"
"$L" pcap --warrant "$W1" -o "$work/k.pcap" --user "$INV_KEY" "${J[@]}" >/dev/null 2>"$work/kp2.err"
rc=$?
[ "$rc" = 1 ] && grep -q "k.pcap exists; give a new file name" "$work/kp2.err" ||
	die "pcap over an existing file: exit $rc, $(cat "$work/kp2.err")"
# this keeper's own work folder only (other keepers may run on the machine)
[ -d "/dev/shm/lacre-keeper-$KPID" ] || die "the keeper has no work folder in /dev/shm"
[ -z "$(ls -A "/dev/shm/lacre-keeper-$KPID" 2>/dev/null)" ] || die "a request's output stayed in /dev/shm"
ok "pcap through the keeper: $(stat -c %s "$work/k.pcap") bytes, identical to in-process, 0600; no copy left in /dev/shm; an existing file is refused (exit 1)"

"$L" records --warrant "$W1" --user "$INV2_KEY" "${J[@]}" > "$work/o.out" 2>"$work/o.err"
rc=$?
[ "$rc" = 1 ] || die "other unit's records: exit $rc, expected 1"
[ ! -s "$work/o.out" ] || die "other unit got records"
[ "$(cat "$work/o.err")" = "lacre: no warrant '$W1' (see 'lacre warrant list')" ] ||
	die "other unit: '$(cat "$work/o.err")'"
"$L" records --warrant W-999999 --user "$INV2_KEY" "${J[@]}" > /dev/null 2>"$work/n.err"
rc=$?
[ "$rc" = 1 ] && [ "$(cat "$work/n.err")" = "lacre: no warrant 'W-999999' (see 'lacre warrant list')" ] ||
	die "missing warrant: exit $rc, '$(cat "$work/n.err")'"
"$L" warrant show "$W1" --user "$INV2_KEY" "${J[@]}" > "$work/ws.out" 2>"$work/ws.err"
rc=$?
[ "$rc" = 1 ] && [ ! -s "$work/ws.out" ] &&
	[ "$(cat "$work/ws.err")" = "lacre: no warrant '$W1' (see 'lacre warrant list')" ] ||
	die "warrant show of another unit: exit $rc, '$(cat "$work/ws.err")'"
"$L" warrant show "$W1" --user "$INV_KEY" "${J[@]}" > "$work/ws1.out" 2>&1 ||
	die "warrant show by its unit: $(cat "$work/ws1.out")"
grep -q "LIID0001" "$work/ws1.out" || die "warrant show: $(cat "$work/ws1.out")"
"$L" warrant list --user "$INV2_KEY" "${J[@]}" > "$work/wl2.out" 2>&1 || die "warrant list inv2"
grep -q "$W1" "$work/wl2.out" && die "warrant list shows another unit's warrant: $(cat "$work/wl2.out")"
"$L" warrant list --user "$INV_KEY" "${J[@]}" > "$work/wl1.out" 2>&1 || die "warrant list inv"
grep -q "^$W1 " "$work/wl1.out" || die "warrant list of UCO-1: $(cat "$work/wl1.out")"
# a warrant of UCO-2 added through the keeper (the admin's gate, the
# keeper's keystore): its unit sees it, UCO-1 does not
W2=$("$L" warrant add --user "$ADMIN_KEY" --case CASE-2 --unit UCO-2 --court JI-5-Madrid \
	--order ORD-2 --order-date 2026-11-01 --to 2027-01-31 --categories iri --target t2 \
	--liid LIID0009 --json 2>"$work/wa.err" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') ||
	die "warrant add through the keeper: $(cat "$work/wa.err")"
[ -n "$W2" ] && [ "$(stat -c %u "$site/keystore/$W2.key")" = "$kuid" ] ||
	die "warrant $W2's key is not in the keeper's keystore"
"$L" warrant list --user "$INV2_KEY" "${J[@]}" | grep -q "^$W2 " || die "UCO-2 does not see $W2"
"$L" warrant list --user "$INV_KEY" "${J[@]}" | grep -q "^$W2 " && die "UCO-1 sees $W2"
"$L" warrant list --user "$INV_KEY" > /dev/null 2>"$work/wl0.err"
rc=$?
[ "$rc" = 2 ] && grep -q "justification is required" "$work/wl0.err" ||
	die "warrant list without justification: exit $rc, $(cat "$work/wl0.err")"
ok "another unit: exit 1 '$(cat "$work/o.err")' (records and warrant show); warrant list hides it; $W2 added through the keeper"

"$L" warrant identity "$W1" --user "$SUP_KEY" "${J[@]}" > "$work/id.out" 2>/dev/null ||
	die "the supervisor's identity read through the keeper"
grep -q '^AGE-SECRET-KEY-1' "$work/id.out" || die "identity output"
"$L" audit --site "$site" --deep --user "$AUDITOR_KEY" --justification "quarterly deep audit" \
	> "$work/deep.out" 2>"$work/deep.err" || { cat "$work/deep.err"; die "audit --deep via the keeper"; }
grep -q "^deep: .* segments decrypted" "$work/deep.out" || die "deep: $(cat "$work/deep.out")"
"$L" audit --site "$site" --deep --user "$INV_KEY" --justification "x" > /dev/null 2>"$work/deep2.err"
rc=$?
[ "$rc" = 1 ] && grep -q "may not use 'audit-deep'" "$work/deep2.err" ||
	die "investigator's deep audit: exit $rc, $(cat "$work/deep2.err")"
"$L" audit --site "$site" > "$work/ka.out" 2>&1 || die "keyless audit with a keeper running: $(cat "$work/ka.out")"
grep -q "^audited ingest log" "$work/ka.out" || die "keyless audit: $(cat "$work/ka.out")"
ok "supervisor reads the identity; audit --deep through the keeper (auditor yes, investigator exit 1)"

# 3. forged, replayed, unsigned, stale requests (a client written from docs/keeper.md)
cat > "$work/kc.py" <<'PY'
import base64, os, socket, struct, subprocess, sys, time
sock, keyfile, mode, tmp = sys.argv[1:5]
args = sys.argv[5:]
def pct(s):
    raw = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/@+"
    return "".join(chr(c) if c in raw else "%%%02X" % c for c in s.encode())
line = open(keyfile).read().strip()
parts = line.split("+", 4); name = parts[2]
seed = base64.b64decode(parts[4])[1:33]
der = bytes.fromhex("302e020100300506032b657004220420") + seed
pem = "-----BEGIN PRIVATE KEY-----\n" + base64.b64encode(der).decode() + "\n-----END PRIVATE KEY-----\n"
kp = os.path.join(tmp, "k.pem"); open(kp, "w").write(pem); os.chmod(kp, 0o600)
t = int(time.time() * 1e6) - (300 * 10**6 if mode == "stale" else 0)
body = "lacre-keeper-request/v1\nuser %s\ntime %d\nnonce %s\n" % (name, t, os.urandom(16).hex())
body += "".join("arg %s\n" % pct(a) for a in args)
def sign(m):
    mp = os.path.join(tmp, "m"); open(mp, "wb").write(m)
    sig = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", kp, "-rawin", "-in", mp],
                         capture_output=True, check=True).stdout
    assert len(sig) == 64
    return sig
req = body.encode() + b"sig " + sign(body.encode()).hex().encode() + b"\n"
if mode == "forged":   # signed, then the warrant changed
    req = req.replace(("arg " + pct(args[2]) + "\n").encode(),
                      ("arg " + pct(args[2][:-1] + "2") + "\n").encode(), 1)
if mode == "unsigned":
    req = body.encode()
def recv_exact(s, n):
    b = b""
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d: raise EOFError
        b += d
    return b
def send(r):
    s = socket.socket(socket.AF_UNIX); s.connect(sock)
    s.sendall(struct.pack(">I", len(r)) + r)
    out, err, st = b"", b"", None
    while st is None:
        h = recv_exact(s, 5)
        p = recv_exact(s, struct.unpack(">I", h[1:5])[0])
        ty = h[0:1]
        if ty == b"O": out += p
        elif ty == b"E": err += p
        elif ty == b"X": st = p[0]
        elif ty == b"S":   # the user's signature over its access-log request
            if mode == "stall":
                open(os.path.join(tmp, "stalled"), "w").write("S\n")
                time.sleep(60)
            g = sign(p)
            s.sendall(b"G" + struct.pack(">I", len(g)) + g)
    return (out, err, st)
res = [send(req)]
if mode == "replay":
    res.append(send(req))
for out, err, st in res:
    sys.stdout.write("status=%s out=%d err=%s\n" % (st, len(out), err.decode().strip().replace("\n", " | ")))
PY
RJ="Diligencias 12/2026: review"
kc() { python3 "$work/kc.py" "$SOCK" "$1" "$2" "$work" "${@:3}"; }
kc "$INV_KEY" forged records --warrant "$W1" --justification "$RJ" > "$work/f.out" || die "kc forged"
grep -q "^status=1 out=0 err=lacre: keeper: refused: the request's signature does not verify with the key of user 'inv'$" \
	"$work/f.out" || die "forged: $(cat "$work/f.out")"
kc "$INV_KEY" unsigned records --warrant "$W1" --justification "$RJ" > "$work/u.out" || die "kc unsigned"
grep -q "^status=1 out=0 err=lacre: keeper: refused: unsigned request (no sig line)" "$work/u.out" ||
	die "unsigned: $(cat "$work/u.out")"
kc "$INV_KEY" stale records --warrant "$W1" --justification "$RJ" > "$work/s.out" || die "kc stale"
grep -q "^status=1 out=0 err=lacre: keeper: refused: the request's time is more than 120 s" "$work/s.out" ||
	die "stale: $(cat "$work/s.out")"
# a replay: the first copy is served (this client signs its access-log
# request when asked), the second is refused before anything runs
kc "$INV_KEY" replay records --warrant "$W1" --justification "$RJ" > "$work/r.out" || die "kc replay"
sed -n 1p "$work/r.out" | grep -q "^status=0 out=[1-9]" || die "replay's first copy: $(cat "$work/r.out")"
sed -n 2p "$work/r.out" | grep -q "^status=1 out=0 err=lacre: keeper: refused: replayed request" ||
	die "replay: $(cat "$work/r.out")"
kc "$INV_KEY" ok user list > "$work/sh.out" || die "kc user list"
grep -q "^status=1 out=0 err=lacre: keeper: refused: the keeper does not serve 'user list' (user list reads users.log: run it without the keeper)$" "$work/sh.out" ||
	die "user list: $(cat "$work/sh.out")"
kc "$INV_KEY" ok records --warrant "$W1" --justification "$RJ" --site /tmp > "$work/st.out" || die "kc site"
grep -q "^status=1 out=0 err=lacre: keeper: refused: the keeper does not accept --site" "$work/st.out" ||
	die "--site: $(cat "$work/st.out")"
kc "$INV_KEY" ok audio x --out /etc/x --justification "$RJ" > "$work/ab.out" || die "kc abbrev"
grep -q "^status=1 out=0 err=lacre: keeper: refused: the keeper does not accept the option '--out'" \
	"$work/ab.out" || die "abbreviation: $(cat "$work/ab.out")"
ok "refused with exit 1: forged, unsigned, stale (300 s), replayed, user list (not served), --site, --out"

# 4. every attempt is in the access log; allowed ones carry the user's verified signature
"$L" access-log --user "$AUDITOR_KEY" --justification "oversight review" --json \
	> "$work/al.jsonl" 2>"$work/al.err" || { cat "$work/al.err"; die "access-log through the keeper"; }
grep -q " 0 failed verification" "$work/al.err" || die "access-log: $(cat "$work/al.err")"
python3 - "$work/al.jsonl" "$W1" <<'PY' || die "the access log misses attempts"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
w1 = sys.argv[2]
def has(**kw):
    return any(all(e.get(k) == v if not callable(v) else v(e.get(k)) for k, v in kw.items()) for e in ev)
checks = {
    "inv read allowed, signed": has(user="inv", action="records", warrant=w1, decision="allowed", request_signed=True),
    "inv2 refused (L8)": has(user="inv2", action="records", warrant=w1, decision="refused", request_signed=True),
    "inv2 warrant-show refused": has(user="inv2", action="warrant-show", decision="refused"),
    "inv2 warrant-list allowed": has(user="inv2", action="warrant-list", decision="allowed"),
    "sup identity allowed": has(user="sup", action="identity", decision="allowed", request_signed=True),
    "forged": has(user="inv", action="keeper", decision="refused", reason=lambda r: r.startswith("forged")),
    "unsigned": has(user="inv", action="keeper", reason=lambda r: r.startswith("unsigned")),
    "stale": has(user="inv", action="keeper", reason="stale request"),
    "replayed": has(user="inv", action="keeper", reason="replayed request"),
    "not served": has(user="inv", action="keeper", reason=lambda r: "does not serve 'user list'" in r),
    "deep audit": has(user="auditor", action="audit-deep", decision="allowed"),
}
bad = [k for k, v in checks.items() if not v]
if bad:
    print("missing:", bad); sys.exit(1)
print("%d events, all %d kinds present" % (len(ev), len(checks)))
PY
ok "access log: every attempt, allowed and refused, with the user's verified signature on each gate event"

# 5. SIGTERM
kill -TERM "$KPID"; wait "$KPID"; rc=$?; KPID=
[ "$rc" = 0 ] || { cat "$work/keeper.err"; die "keeper exit $rc on SIGTERM"; }
[ ! -e "$SOCK" ] || die "the socket stayed after SIGTERM"
"$L" records --warrant "$W1" --user "$INV_KEY" "${J[@]}" --keeper "$SOCK" > /dev/null 2>"$work/down.err"
rc=$?
[ "$rc" = 1 ] && grep -q "cannot reach the keeper at $SOCK" "$work/down.err" ||
	die "keeper down: exit $rc, $(cat "$work/down.err")"
ok "SIGTERM: keeper exits 0, socket removed; a client then gets exit 1 'cannot reach the keeper'"

# kprocs: the pids of processes running as the keeper's uid
kprocs() { for p in /proc/[0-9]*; do [ "$(stat -c %u "$p" 2>/dev/null)" = "$kuid" ] && echo "${p#/proc/}"; done; }
# 6. SIGKILL mid-request: the handler and worker die with the keeper; the
# request's work folder goes at the next start
keeper_start keeper2.err
rm -f "$work/stalled"
kc "$INV_KEY" stall records --warrant "$W1" --justification "$RJ" > /dev/null 2>&1 &
cpid=$!
for _ in $(seq 1 200); do [ -f "$work/stalled" ] && break; sleep 0.05; done
[ -f "$work/stalled" ] || die "the stalled request never reached its access-log signature"
[ "$(kprocs | wc -l)" -ge 3 ] || die "no handler and worker running: $(kprocs)"
kpid_dead=$KPID
kill -KILL "$KPID"; wait "$KPID" 2>/dev/null; KPID=
for _ in $(seq 1 60); do [ -z "$(kprocs)" ] && break; sleep 0.05; done
[ -z "$(kprocs)" ] || die "processes of the keeper survived SIGKILL: $(kprocs)"
kill "$cpid" 2>/dev/null; wait "$cpid" 2>/dev/null
keeper_start keeper3.err
[ ! -e "/dev/shm/lacre-keeper-$kpid_dead" ] || die "the killed keeper's work folder stayed"
kill -TERM "$KPID"; wait "$KPID" || die "keeper exit $? on SIGTERM (after SIGKILL)"; KPID=
ok "SIGKILL mid-request: no handler or worker survives; the next start removes the work folder"
echo "PASS keeper"
