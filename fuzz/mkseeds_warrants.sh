#!/usr/bin/env bash
# fuzz/mkseeds_warrants.sh - (re)create fuzz/corpus/warrants: warrant logs
# written by `lacre warrant add/extend/confirm/cease` on a throwaway site.
# Each seed is: 1 byte (the harness's split choice), the site's 32-byte
# warrants.signer public key, then a prefix of DIR/warrants.log.
# Usage: make && fuzz/mkseeds_warrants.sh
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
L=$top/build/bin/lacre
out=$top/fuzz/corpus/warrants
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
export LACRE_SCRYPT_LOG2N=10
unset LACRE_PASSPHRASE LACRE_SITE
S=$t/site
printf 'fuzz seeds\n' > "$t/pass"
P=(--site "$S" --passphrase-file "$t/pass")
"$L" init "$S" --passphrase-file "$t/pass" > /dev/null
pub=$(sed -n 's/^warrants.signer = //p' "$S/lacre.conf")
mkdir -p "$out"
# the 32 key bytes of the hex in $pub
key() { python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' "$pub"; }
# seed NAME: the log as it is now
seed() { { printf '\x03'; key; cat "$S/warrants.log"; } > "$out/$1"; }
add() { "$L" warrant add "${P[@]}" --case "DP 7/2026" --unit "UDEF Central" --court "Juzgado nº 3" "$@" > /dev/null; }
seed empty
add --order "Auto 1/2026" --order-date 2026-01-10 --to 2026-04-10 --categories iri,content \
	--target "Persona A" --liid LIID-1 --liid LIID-1B
seed one
add --order "Auto 2/2026" --order-date 2026-01-10 --to 2026-04-10 --categories iri,location \
	--target "Persona B" --target "Persona B2" --liid LIID-2
add --order "Urgente 1" --order-date 2026-05-01T10:00:00Z --to 2026-06-01 --categories iri,content,location \
	--target "Persona C" --liid LIID-3 --emergency --authority "Secretario de Estado"
seed three
"$L" warrant extend W-000001 "${P[@]}" --order "Auto 8/2026" --order-date 2026-04-01 --to 2026-07-10 > /dev/null
"$L" warrant confirm W-000003 "${P[@]}" --order "Auto conf" --order-date 2026-05-03T10:00:00Z > /dev/null
"$L" warrant cease W-000002 "${P[@]}" --order "Auto cese" --order-date 2026-02-15 > /dev/null
seed all-events
# a torn last line and a changed byte
{ printf '\x05'; key; head -c -7 "$S/warrants.log"; } > "$out/torn"
{ printf '\x01'; key; sed '2s/LIID-1B/LIID-1C/' "$S/warrants.log"; } > "$out/tampered"
ls -la "$out"
