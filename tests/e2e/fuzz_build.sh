#!/usr/bin/env bash
# fuzz_build.sh - the libFuzzer harnesses still build and run (docs/fuzzing.md):
# fuzz/build compiles every fuzz/fuzz_*.c with clang (ASan+UBSan+libFuzzer)
# straight from the library sources it names, so a library file a parser
# comes to need must be added there too - for several stops it was not
# (simd.c, receiver.c, copy_pool.c) and `make fuzz` failed unnoticed,
# because the unit tests replay the corpora through liblacre.a, not through
# these binaries.  Here: every harness builds, and each replays its whole
# seed corpus (fuzz/corpus/NAME, -runs=0) and exits 0.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-fuzz-XXXXXX)
trap 'rm -rf "$work"' EXIT
die() { echo "FAIL fuzz_build: $*" >&2; exit 1; }
ok() { echo "ok   $*"; }
command -v "${CLANG:-clang}" >/dev/null || die "clang missing (scripts/deps installs it)"

FUZZ_OUT=$work/bin "$top/fuzz/build" >"$work/build.log" 2>&1 || { tail -20 "$work/build.log"; die "fuzz/build failed"; }
n=0
for src in "$top"/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	[ -x "$work/bin/$name" ] || die "$name: fuzz/build made no binary for $src"
	corpus=$top/fuzz/corpus/${name#fuzz_}
	[ -d "$corpus" ] && [ -n "$(ls -A "$corpus")" ] || die "$name: no seed corpus in $corpus"
	"$work/bin/$name" "$corpus" -runs=0 >"$work/$name.log" 2>&1 ||
		{ tail -20 "$work/$name.log"; die "$name exited $? on its own corpus"; }
	grep -q "^#[0-9]*[[:space:]]*DONE" "$work/$name.log" || { tail -5 "$work/$name.log"; die "$name did not finish its corpus"; }
	n=$((n + 1))
done
[ "$n" -ge 19 ] || die "only $n harnesses (19 at least: fuzz/fuzz_*.c)"
ok "fuzz/build: $n harnesses built with ASan+UBSan+libFuzzer; each replayed its seed corpus and exited 0"
