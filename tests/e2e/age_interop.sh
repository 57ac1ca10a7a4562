#!/usr/bin/env bash
# age_interop.sh - lacre's age v1 against Debian's age, both directions.
#   1. files lacre writes (X25519, one and three recipients; sizes 0, 1,
#      65535, 65536, 65537, 200000) open with `age -d -i`;
#   2. files `age -r` writes to an age-keygen identity and to a lacre
#      identity open with lacre; lacre's keyless fingerprint accepts them;
#   3. the known-answer file of tlog-formats.md §9.7 opens with `age -d`;
#   4. scrypt both ways (age reads passphrases from a terminal: `script`
#      gives it one);
#   5. a flipped byte in an age-written file is refused by lacre.
# age -o creates no file for an empty plaintext, so decryptions go to stdout.
# Exit 0 pass, 77 skip (no age or no build), 1 fail.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$top"
command -v age >/dev/null && command -v age-keygen >/dev/null || { echo "age not installed"; exit 77; }
[ -f build/liblacre.a ] || { echo "FAIL: build/liblacre.a missing: run make (a test run needs the build)"; exit 1; }
t=$(mktemp -d /tmp/lacre-age-XXXXXX)
trap 'rm -rf "$t"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
. "$top/tests/e2e/lib/check.bash"
EXPECT_DIR=$t

cc -std=c11 -O1 -Iinclude -o "$t/age_tool" tests/e2e/age_tool.c build/liblacre.a \
	$(pkg-config --libs libcrypto 2>/dev/null || echo -lcrypto) || { echo "cannot build age_tool"; exit 1; }
tool="$t/age_tool"
age --version 2>/dev/null | sed 's/^/age version: /'

mkplain() { # $1 size $2 file
	head -c "$1" /dev/urandom > "$2"
}

sizes="0 1 65535 65536 65537 200000"

# 1. lacre -> age
r1=$("$tool" keygen "$t/id1") || fail "keygen"
r2=$("$tool" keygen "$t/id2") || fail "keygen"
r3=$("$tool" keygen "$t/id3") || fail "keygen"
for n in $sizes; do
	mkplain "$n" "$t/p.$n"
	"$tool" enc "$r1" < "$t/p.$n" > "$t/l.$n.age" || { fail "lacre enc $n"; continue; }
	if age -d -i "$t/id1" "$t/l.$n.age" > "$t/l.$n.out" && cmp -s "$t/p.$n" "$t/l.$n.out"; then
		ok "lacre -> age -d, $n bytes"
	else
		fail "lacre -> age -d, $n bytes"
	fi
	"$tool" enc "$r1" "$r2" "$r3" < "$t/p.$n" > "$t/l3.$n.age" || { fail "lacre enc3 $n"; continue; }
	for k in 1 2 3; do
		if ! age -d -i "$t/id$k" "$t/l3.$n.age" > "$t/l3.$n.out" || ! cmp -s "$t/p.$n" "$t/l3.$n.out"; then
			fail "lacre (3 recipients) -> age -d with id$k, $n bytes"
		fi
	done
done
ok "lacre (3 recipients) -> age -d checked for every identity"

# 2. age -> lacre
age-keygen -o "$t/agekey" 2>/dev/null || fail "age-keygen"
ar=$(age-keygen -y "$t/agekey")
for n in $sizes; do
	age -r "$ar" -o "$t/a.$n.age" "$t/p.$n" || { fail "age -r $n"; continue; }
	if "$tool" dec "$t/agekey" < "$t/a.$n.age" > "$t/a.$n.out" && cmp -s "$t/p.$n" "$t/a.$n.out"; then
		ok "age -r (age-keygen key) -> lacre, $n bytes"
	else
		fail "age -r (age-keygen key) -> lacre, $n bytes"
	fi
	age -r "$r2" -r "$ar" -r "$r3" -o "$t/b.$n.age" "$t/p.$n" || { fail "age -r x3 $n"; continue; }
	if "$tool" dec "$t/id3" < "$t/b.$n.age" > "$t/b.$n.out" && cmp -s "$t/p.$n" "$t/b.$n.out"; then
		ok "age -r (3 recipients, lacre key) -> lacre, $n bytes"
	else
		fail "age -r (3 recipients, lacre key) -> lacre, $n bytes"
	fi
	"$tool" fp < "$t/a.$n.age" > /dev/null || fail "keyless fingerprint of an age file, $n bytes"
	# a lacre identity that is not a recipient is refused
	expect_exit 1 "age_tool: LACRE_E_AUTH" bash -c '"$0" dec "$1" < "$2"' "$tool" "$t/id1" "$t/b.$n.age" ||
		fail "wrong identity not refused, $n bytes"
done
ok "wrong identity refused for every size (LACRE_E_AUTH)"

# 3. the known-answer file
printf 'age-encryption.org/v1\n-> X25519 D6poTtKIZ7l/Smot7l34zpdOdrcBjj8iocTPJnhXDyA\n2LId3GQ0YtbQ4+slEoWz7xD6tvQet84wp3CRK+Lq+WU\n--- pFP/slvSI6adTG9gbIMUkMteHLo8g+jxduOT//W6sLU\n' > "$t/kat.age"
printf '44444444444444444444444444444444d1d97190dfb9a43b424dac63840492996b3e4241956868603bc78aa85a3256101581fe0f1352' \
	| xxd -r -p >> "$t/kat.age"
echo "AGE-SECRET-KEY-1ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYGSUZRZYL" > "$t/katkey"
if [ "$(age -d -i "$t/katkey" "$t/kat.age")" = "lacre age test vector" ] &&
   [ "$("$tool" dec "$t/katkey" < "$t/kat.age")" = "lacre age test vector" ]; then
	ok "known-answer file opens with age and lacre"
else
	fail "known-answer file"
fi

# 4. scrypt, both ways, through a pseudo-terminal
# (tests/e2e/lib/tty_answer.py types each passphrase once age's prompt is up)
TTY="python3 $top/tests/e2e/lib/tty_answer.py 60"
pw="lacre interop passphrase"
AGE_TOOL_PASS="$pw" "$tool" enc-scrypt 15 < "$t/p.65537" > "$t/s.age" || fail "lacre enc-scrypt"
$TTY "Enter passphrase:" "$pw" -- age -d -o "$t/s.out" "$t/s.age" > /dev/null || fail "age -d of lacre's scrypt file: exit $?"
if cmp -s "$t/p.65537" "$t/s.out"; then ok "lacre scrypt -> age -d"; else fail "lacre scrypt -> age -d"; fi
$TTY "Enter passphrase" "$pw" "Confirm passphrase" "$pw" -- age -p -o "$t/sa.age" "$t/p.200000" > /dev/null ||
	fail "age -p: exit $?"
if [ -s "$t/sa.age" ] && AGE_TOOL_PASS="$pw" "$tool" dec-scrypt < "$t/sa.age" > "$t/sa.out" &&
   cmp -s "$t/p.200000" "$t/sa.out"; then
	ok "age -p -> lacre (work factor $(sed -n '2s/.* //p' "$t/sa.age"))"
else
	fail "age -p -> lacre"
fi
expect_exit 1 "age_tool: LACRE_E_PASSPHRASE" bash -c 'AGE_TOOL_PASS="not it" "$0" dec-scrypt < "$1"' "$tool" "$t/sa.age" &&
	ok "wrong passphrase refused" || fail "wrong passphrase not refused"

# 5. tampering with an age-written file
cp "$t/a.200000.age" "$t/x.age"
# flip one bit (writing a fixed byte left the file unchanged when it already held it: 1 in 256)
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[100000]^=1; open(p,"wb").write(b)' "$t/x.age"
expect_exit 1 "age_tool: LACRE_E_AUTH" bash -c '"$0" dec "$1" < "$2"' "$tool" "$t/agekey" "$t/x.age" &&
	ok "tampered age file refused ($(cat "$t/expect.err"))" || fail "tampered file not refused"
head -c 65736 "$t/a.200000.age" > "$t/y.age"
expect_exit 1 "age_tool: LACRE_E_TRUNCATED" bash -c '"$0" dec "$1" < "$2"' "$tool" "$t/agekey" "$t/y.age" &&
	ok "truncated age file refused ($(cat "$t/expect.err"))" || fail "truncated file not refused"

echo "age interop: $fails failure(s)"
[ "$fails" -eq 0 ]
