#!/usr/bin/env bash
# mediator_tls.sh - lacre-mediator over TLS with a client certificate: the
# minimal LEMF requires a client certificate from the test CA; every stream
# arrives as the summary says.  A server certificate from an unknown CA is
# refused with a clear error and a non-zero exit.
set -u
. "$(dirname "$0")/mediator_common.bash"
command -v openssl >/dev/null || { echo "openssl missing"; exit 77; }

mk_ca() { # $1 name
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj "/CN=$1" -keyout "$T/$1.key" -out "$T/$1.crt" 2>/dev/null
}
mk_cert() { # $1 name $2 ca $3 extension
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$1" \
		-keyout "$T/$1.key" -out "$T/$1.csr" 2>/dev/null
	printf '%s\n' "$3" > "$T/$1.ext"
	openssl x509 -req -in "$T/$1.csr" -CA "$T/$2.crt" -CAkey "$T/$2.key" -CAcreateserial -days 2 \
		-extfile "$T/$1.ext" -out "$T/$1.crt" 2>/dev/null
}
mk_ca ca
mk_ca otherca
mk_cert server ca "subjectAltName=IP:127.0.0.1"
mk_cert client ca "extendedKeyUsage=clientAuth"
[ -s "$T/server.crt" ] && [ -s "$T/client.crt" ] || { echo "cannot make test certificates"; exit 1; }

lemf_start --cert "$T/server.crt" --key "$T/server.key" --ca "$T/ca.crt"
"$MED" --hi2 127.0.0.1:$HI2 --hi3 127.0.0.1:$HI3 --tls-ca "$T/ca.crt" --tls-cert "$T/client.crt" \
	--tls-key "$T/client.key" --targets 4 --calls 2 --sessions 2 --connections 2 --split-writes \
	--keepalive 0.2 --keepalive-wait 2 --summary "$T/s.json" 2>"$T/med.err" \
	|| { echo "mediator over TLS failed"; cat "$T/med.err" "$T/lemf.err"; exit 1; }
lemf_stop
compare_summary "$T/s.json" "$T/lemf.json" || exit 1

lemf_start --cert "$T/server.crt" --key "$T/server.key" --ca "$T/ca.crt"
expect_exit 1 "TLS handshake failed" "$MED" --hi2 127.0.0.1:$HI2 --hi3 127.0.0.1:$HI3 --tls-ca "$T/otherca.crt" \
	--tls-cert "$T/client.crt" --tls-key "$T/client.key" --targets 1 --calls 1 --call-seconds 0.1 --connect-timeout 2 ||
	{ echo "untrusted server not refused"; exit 1; }
lemf_stop
echo "mediator_tls: ok"
