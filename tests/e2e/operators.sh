#!/usr/bin/env bash
# operators.sh - operators as first-class (issue 11) end to end, on loopback.
# lacre.conf names two operators: opa by the SHA-256 fingerprint of its
# self-signed client certificate, opb by its CA and its certificate's
# subject; TLS (certificate, key, mandatory client certificates) comes from
# lacre.conf too.  Warrant W1 (LIID0001) names opa.
#   - lacre-mediator as opa over mutual TLS: every record sealed to W1;
#   - lacre-mediator as opb, same LIID: every record quarantined with reason
#     operator-not-bound, an ALERT on stderr naming both operators, and not
#     one of them in W1 (told apart by the PSHeader operatorIdentifier each
#     mediator writes);
#   - a certificate of no configured operator (self-signed; and one of
#     opb's CA with another subject) is refused: operator-refused event,
#     ALERT line, nothing sealed;
#   - a plain-TCP site warns at start, authenticates by source address
#     (127.0.0.0/8: any loopback source), refuses an address of no
#     operator, and quarantines a bound warrant's LIID sent by another.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-operators-XXXXXX)
IPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
command -v python3 >/dev/null || { echo "python3 missing"; exit 77; }
command -v openssl >/dev/null || { echo "openssl missing"; exit 77; }
MED=$B/lacre-mediator

# ---------------------------------------------------------- certificates
ec() { printf '%s' "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"; }
# self-signed: $1 name, $2 subject, [$3 extension]
mk_self() {
	openssl req -x509 $(ec) -subj "$2" ${3:+-addext "$3"} -keyout "$work/$1.key" \
		-out "$work/$1.crt" 2>/dev/null || die "openssl req $1"
}
# signed by CA $2: $1 name, $3 subject, $4 extension
mk_signed() {
	openssl req $(ec) -subj "$3" -keyout "$work/$1.key" -out "$work/$1.csr" 2>/dev/null &&
	printf '%s\n' "$4" > "$work/$1.ext" &&
	openssl x509 -req -in "$work/$1.csr" -CA "$work/$2.crt" -CAkey "$work/$2.key" \
		-CAcreateserial -days 2 -extfile "$work/$1.ext" -out "$work/$1.crt" 2>/dev/null ||
		die "openssl x509 $1"
}
mk_self srvca "/CN=lacre test server CA"
mk_signed srv srvca "/CN=lacre" "subjectAltName=IP:127.0.0.1"
mk_self opa "/O=Operator A/CN=opa-mediator" "extendedKeyUsage=clientAuth"
mk_self opbca "/O=Operator B/CN=Operator B devices CA"
mk_signed opb opbca "/O=Operator B/CN=opb-mediator" "extendedKeyUsage=clientAuth"
mk_signed opbx opbca "/O=Operator B/CN=someone-else" "extendedKeyUsage=clientAuth"
mk_self rogue "/O=Operator A/CN=opa-mediator" "extendedKeyUsage=clientAuth"
fpa=$(openssl x509 -in "$work/opa.crt" -noout -fingerprint -sha256 | sed 's/.*=//')
subj_b=$(openssl x509 -in "$work/opb.crt" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
fp_rogue=$(openssl x509 -in "$work/rogue.crt" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' |
	tr 'A-F' 'a-f')
[ "$subj_b" = "CN=opb-mediator,O=Operator B" ] || die "unexpected RFC 2253 subject '$subj_b'"

# ------------------------------------------------------------ TLS site
site=$work/site
vault_init "$site"
conf=$site/lacre.conf
# TLS from lacre.conf (init wrote the keys: change them in place)
sed -i -e "s|^tls.enable =.*|tls.enable = yes|" -e "s|^tls.cert =.*|tls.cert = $work/srv.crt|" \
	-e "s|^tls.key =.*|tls.key = $work/srv.key|" \
	-e "s|^tls.require_client_cert =.*|tls.require_client_cert = yes|" "$conf"
cat >> "$conf" <<EOF
operator.opa.cert_sha256 = $fpa
operator.opb.ca = $work/opbca.crt
operator.opb.subject = $subj_b
EOF

# configuration checks name the key at fault
cp "$conf" "$work/conf.good"
echo "operator.opc.subject = CN=x" >> "$conf"
expect_exit 2 "operator.opc.ca: needed with operator.opc.subject" \
	"$B/lacre" ingest --site "$site" -n || die "a subject without a CA not refused"
cp "$work/conf.good" "$conf"
echo "operator.opa.addresses = 10.0.0.1/8" >> "$conf"
expect_exit 1 "operator.opa.addresses: '10.0.0.1/8' has bits set past its prefix" \
	"$B/lacre" ingest --site "$site" -n || die "a CIDR with host bits not refused"
cp "$work/conf.good" "$conf"
echo "operator.opc.cert_sha256 = $fpa" >> "$conf"
expect_exit 2 "operator.opc.cert_sha256: a fingerprint also belongs to operator opa" \
	"$B/lacre" ingest --site "$site" -n || die "a shared fingerprint not refused"
cp "$work/conf.good" "$conf"
expect_exit 0 "" "$B/lacre" ingest --site "$site" -n || die "ingest -n on the good configuration"
grep -q "hi2 127.0.0.1:7 tls" "$work/expect.out" || die "ingest -n: TLS from lacre.conf not used: $(cat "$work/expect.out")"

# warrants: W1 bound to opa; an unknown operator is refused
add_warrant() { # LIID [--operator NAME...]
	local liid=$1; shift
	"$B/lacre" warrant add --site "$site" --user "$ADMIN_KEY" --case "CASE-$liid" --unit UCO-1 \
		--court JI-5-Madrid --order "ORD-$liid" --order-date 2026-01-01 --from 2026-01-01 \
		--to 2026-03-31 --categories content,iri,location --target "target-$liid" --liid "$liid" \
		"$@" --json
}
expect_exit 2 "operator 'opz' is not configured in lacre.conf" \
	add_warrant LIID0001 --operator opz || die "a warrant naming an unknown operator"
W1=$(add_warrant LIID0001 --operator opa | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') ||
	die "warrant add --operator opa"
W2=$(add_warrant LIID0002 | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') ||
	die "warrant add without operator"
"$B/lacre" warrant show "$W1" --site "$site" > "$work/show1" || die "warrant show $W1"
grep -qx "operator    opa" "$work/show1" || die "warrant show: no 'operator opa': $(cat "$work/show1")"
"$B/lacre" warrant show "$W2" --site "$site" > "$work/show2" || die "warrant show $W2"
grep -q "^operator    any (none named" "$work/show2" || die "warrant show: W2 does not say any operator"
"$B/lacre" warrant show "$W1" --site "$site" --json |
	python3 -c 'import json,sys; assert json.load(sys.stdin)["operators"] == ["opa"]' ||
	die "warrant show --json: operators"
grep -q " operators=opa " "$site/warrants.log" || die "warrants.log: no operators= token"
[ "$(grep -c ' operators=' "$site/warrants.log")" = 1 ] || die "warrants.log: operators= on an unbound warrant"

# the window is in the past: traffic intercepted inside it (a backlog)
mediate() { # NAME CERT OPERATOR-ID [more mediator args]
	local name=$1 cert=$2 opid=$3; shift 3
	"$MED" --hi2 127.0.0.1:$HI2 --hi3 127.0.0.1:$HI3 --tls --tls-ca "$work/srvca.crt" \
		--tls-cert "$work/$cert.crt" --tls-key "$work/$cert.key" --operator "$opid" \
		--targets 1 --calls 2 --sessions 1 --seed 7 --start-time 2026-02-01T10:00:00Z \
		--keepalive 0 --summary "$work/sum-$name.json" "$@"
}
vault_ingest_start "$site" tls
mediate a opa OPA-DEVICE 2>"$work/med-a.err" || { cat "$work/med-a.err"; die "mediator as opa"; }
mediate b opb OPB-DEVICE 2>"$work/med-b.err" || { cat "$work/med-b.err"; die "mediator as opb"; }
# ETSI handover has no application acknowledgement: the mediator may count
# a PDU written into the socket as sent (exit 0 or 1 by timing); the proof
# of refusal is on lacre's side (events, ALERT, nothing sealed) and in the
# mediator's own report that the receiver hung up
for who in rogue opbx; do
	mediate "$who" "$who" ROGUE-DEVICE --connect-timeout 2 >"$work/med-$who.out" 2>"$work/med-$who.err"
	# (by timing: EOF on read, ECONNRESET, or EPIPE on the next write)
	grep -qE "the receiver closed the connection|Connection reset by peer|write failed \(Broken pipe\)" "$work/med-$who.err" ||
		die "the mediator with the $who certificate was not hung up on: $(tail -3 "$work/med-$who.err")"
done
wait_log 30 "$work/ingest-tls.err" "ALERT refused connection .*opb-mediator|ALERT refused connection .*someone-else" ||
	die "no ALERT for the refused certificates"
vault_ingest_stop tls
cat "$work/ingest-tls.err"

"$B/lacre" records --site "$site" --warrant "$W1" --justification "e2e: operators" --json \
	> "$work/rec1.jsonl" 2>"$work/rec1.err" || { cat "$work/rec1.err"; die "records $W1"; }
"$B/lacre" quarantine --site "$site" --user "$CLERK_KEY" --justification "e2e: oversight" --json \
	--events > "$work/q.jsonl" 2>"$work/q.err" || { cat "$work/q.err"; die "quarantine"; }

python3 - "$work" "$fp_rogue" <<'PY' || die "operator binding not enforced as expected"
import base64, json, sys
work, fp_rogue = sys.argv[1:3]
load = lambda p: [json.loads(l) for l in open(p)]
rec1, q = load(f'{work}/rec1.jsonl'), load(f'{work}/q.jsonl')
sa, sb = (json.load(open(f'{work}/sum-{n}.json')) for n in 'ab')
ok = True
def check(cond, what):
    global ok
    print(('ok   ' if cond else 'FAIL ') + what)
    ok = ok and cond
pdu = lambda r: base64.b64decode(r['pdu'])
events = [json.loads(r['event']) for r in q if r.get('kind') == 'event']
recs = [r for r in q if r.get('kind') != 'event']
opconn = {e['conn']: e.get('operator') for e in events if e['event'] == 'tls'}
data_a = sa['pdus_sent'] - sa['keepalives_sent']
data_b = sb['pdus_sent'] - sb['keepalives_sent']
check(data_a > 0 and len(rec1) == data_a, f'W1 holds all {data_a} records opa sent (has {len(rec1)})')
check(all(b'OPA-DEVICE' in pdu(r) for r in rec1), 'every W1 record carries opa\'s operatorIdentifier')
check(not any(b'OPB-DEVICE' in pdu(r) or b'ROGUE-DEVICE' in pdu(r) for r in rec1),
      'nothing of opb (or of a refused sender) in W1')
check(all(opconn.get(r['conn_id']) == 'opa' for r in rec1), 'W1 records came on connections authenticated as opa')
nb = [r for r in recs if r.get('reason') == 'operator-not-bound']
check(data_b > 0 and len(nb) == data_b, f'all {data_b} records opb sent quarantined operator-not-bound (got {len(nb)})')
check(all(b'OPB-DEVICE' in pdu(r) and r['liid'] == 'LIID0001' for r in nb), 'those are opb\'s LIID0001 records')
check(all(opconn.get(r['conn_id']) == 'opb' for r in nb), 'on connections authenticated as opb (tls event)')
if any('operator' in r for r in rec1 + nb):    # records --json names the operator (lib/access)
    check(all(r.get('operator') == 'opa' for r in rec1) and all(r.get('operator') == 'opb' for r in nb),
          'records --json shows operator opa / opb')
check(not any(b'ROGUE-DEVICE' in pdu(r) for r in recs), 'no record of a refused sender anywhere')
ref = [e for e in events if e['event'] == 'operator-refused']
check(any(e.get('client_cert_sha256') == fp_rogue and e.get('alert') is True for e in ref),
      'operator-refused event (alert) for the self-signed certificate of no operator')
check(any(e.get('client_subject') == 'CN=someone-else,O=Operator B' for e in ref),
      "operator-refused event for opb's CA with another subject")
check(all(e['event'] != 'tls' or e.get('operator') in ('opa', 'opb') for e in events),
      'every accepted TLS connection names its operator')
sys.exit(0 if ok else 1)
PY
grep -q "ALERT quarantined records of LIID LIID0001: operator-not-bound: warrant $W1 binds operator opa, but connection [0-9]* from 127.0.0.1:[0-9]* is operator opb" \
	"$work/ingest-tls.err" || die "no operator-not-bound ALERT naming both operators"
grep -q "ALERT refused connection [0-9]* from 127.0.0.1:[0-9]* (hi[23]): the client certificate (sha256 ${fp_rogue:0:16}" \
	"$work/ingest-tls.err" || die "no ALERT naming the refused certificate"
grep -q "plain TCP" "$work/ingest-tls.err" && die "a TLS site warned about plain TCP"

# ------------------------------------------------------- plain TCP site
site2=$work/plain
vault_init "$site2"
cat >> "$site2/lacre.conf" <<EOF
operator.opl.addresses = 127.0.0.1
operator.opx.addresses = 127.0.0.2/32, 10.9.0.0/16
EOF
site=$site2
W3=$(add_warrant LIID0001 --operator opx | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') ||
	die "warrant add --operator opx"
"$MED" --output "$work/s" --targets 1 --calls 1 --sessions 1 --seed 3 \
	--start-time 2026-02-01T10:00:00Z >/dev/null 2>&1 || die "mediator --output"
vault_ingest_start "$site2" plain
grep -q "warning: hi2 and hi3 are plain TCP: senders are identified by address only" \
	"$work/ingest-plain.err" || die "no plain-TCP warning: $(cat "$work/ingest-plain.err")"
send() { # SOURCE-IP: sends s.hi2 and s.hi3 from that loopback address; prints bytes acknowledged
	python3 - "$1" "$HI2" "$HI3" "$work/s.hi2" "$work/s.hi3" <<'PY'
import socket, sys
src, p2, p3, f2, f3 = sys.argv[1:6]
for port, f in ((p2, f2), (p3, f3)):
    s = socket.socket()
    s.bind((src, 0))
    s.connect(('127.0.0.1', int(port)))
    try:
        s.sendall(open(f, 'rb').read())
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536):
            pass
    except OSError as e:
        print('send from %s: %s' % (src, e))
    s.close()
PY
}
send 127.0.0.1 || die "sending from 127.0.0.1"
send 127.0.0.3 || die "sending from 127.0.0.3"
wait_log 30 "$work/ingest-plain.err" "ALERT refused connection .* from 127.0.0.3:" ||
	die "no ALERT for 127.0.0.3"
vault_ingest_stop plain
"$B/lacre" quarantine --site "$site2" --user "$CLERK_KEY" --justification "e2e: oversight" --json \
	--events > "$work/q2.jsonl" 2>"$work/q2.err" || { cat "$work/q2.err"; die "quarantine (plain)"; }
"$B/lacre" records --site "$site2" --warrant "$W3" --justification "e2e: operators" --json \
	> "$work/rec3.jsonl" 2>"$work/rec3.err" || { cat "$work/rec3.err"; die "records $W3"; }
"$B/lacre" decode "$work/s.hi2" > "$work/d.hi2.jsonl" || die "decode hi2"
"$B/lacre" decode "$work/s.hi3" > "$work/d.hi3.jsonl" || die "decode hi3"
python3 - "$work" <<'PY' || die "address-only operators not enforced as expected"
import json, os, sys
sys.path.insert(0, os.environ['LACRE_E2E_LIB'])
from sent import sent_pdus, load, pdus
work = sys.argv[1]
sent = sorted(b for _, _, b in sent_pdus(work)['LIID0001'])
q = load(f'{work}/q2.jsonl')
events = [json.loads(r['event']) for r in q if r.get('kind') == 'event']
nb = [r for r in q if r.get('kind') != 'event' and r.get('reason') == 'operator-not-bound']
ok = True
def check(cond, what):
    global ok
    print(('ok   ' if cond else 'FAIL ') + what)
    ok = ok and cond
check(len(sent) > 0 and pdus(nb) == sent, f'every one of the {len(sent)} PDUs from 127.0.0.1 (opl) quarantined operator-not-bound')
check(len(load(f'{work}/rec3.jsonl')) == 0, 'nothing in the warrant of opx')
ref = [e for e in events if e['event'] == 'operator-refused']
check(len(ref) == 2 and all(e['peer'].startswith('127.0.0.3:') for e in ref),
      'both connections from 127.0.0.3 (no operator) refused with an operator-refused event')
check(not any(r.get('peer', '').startswith('127.0.0.3:') for r in q if r.get('kind') != 'event'),
      'no record from 127.0.0.3')
sys.exit(0 if ok else 1)
PY
grep -q "is operator opl" "$work/ingest-plain.err" || die "no operator-not-bound ALERT naming opl"

# a warrant in force naming an operator lacre.conf no longer configures:
# ingest says so at start (its records could only be quarantined)
today=$(date -u +%F) later=$(date -u -d '+60 days' +%F)
"$B/lacre" warrant add --site "$site2" --user "$ADMIN_KEY" --case CASE-9 --unit UCO-1 \
	--court JI-5-Madrid --order ORD-9 --order-date "$today" --to "$later" --categories iri \
	--target t9 --liid LIID0009 --operator opl >/dev/null || die "warrant add (in force)"
sed -i '/^operator.opl.addresses/d' "$site2/lacre.conf"
expect_exit 0 "warning: warrant W-000002 names operator opl, which lacre.conf does not configure" \
	"$B/lacre" ingest --site "$site2" -n || die "no warning for a warrant naming an unconfigured operator"
echo "operators: ok"
