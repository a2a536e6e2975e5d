#!/usr/bin/env bash
# Runs every fuzz target of build-fuzz for FUZZ_SECONDS each against a
# temporary copy of its seed corpus (tests/fuzz/corpus/<target> is never
# written), FUZZ_JOBS targets at a time. A crash, leak, timeout or memory
# blow-up fails the target: its input is printed as a hexdump with its
# path, and the script exits 1 after the others finish.
#
#   tests/fuzz/run.sh [BUILD_DIR] [TARGET...]
set -uo pipefail
cd "$(dirname "$0")/../.."

BUILD=${1:-build-fuzz}
shift || true
TARGETS=${*:-record export frame handshake negentropy dispatch}
SECONDS_EACH=${FUZZ_SECONDS:-60}
JOBS=${FUZZ_JOBS:-2}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/muster-fuzz-run.XXXXXX")

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_one() {
	local t=$1 exe="$BUILD/tests/fuzz/fuzz_$1" dir="$WORK/$1"
	mkdir -p "$dir/corpus" "$dir/crash"
	cp tests/fuzz/corpus/"$t"/* "$dir/corpus/"
	if [ ! -x "$exe" ]; then
		echo "fuzz $t: FAILED: $exe is missing (make fuzz builds it)"
		return 1
	fi
	# Msgpack names help the targets whose inputs hold records.
	local dict=()
	case $t in
	record | export) dict=(-dict=tests/fuzz/record.dict) ;;
	dispatch) dict=(-dict=tests/fuzz/dispatch.dict) ;;
	esac
	# -timeout: one input may take 10 s; -rss_limit_mb: the process
	# may not grow past 2 GiB; -malloc_limit_mb: nor one allocation.
	"$exe" "${dict[@]}" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
		-malloc_limit_mb=512 -max_len=70000 -print_final_stats=1 \
		-artifact_prefix="$dir/crash/" "$dir/corpus" >"$dir/log" 2>&1
	local rc=$?
	local stats
	stats=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$dir/log" | tail -1)
	local execs
	execs=$(grep -E 'stat::number_of_executed_units' "$dir/log" | awk '{print $2}')
	local speed
	speed=$(grep -E 'stat::average_exec_per_sec' "$dir/log" | awk '{print $2}')
	if [ $rc -ne 0 ] || ls "$dir"/crash/* >/dev/null 2>&1; then
		echo "fuzz $t: FAILED (exit $rc) after ${SECONDS_EACH}s"
		grep -E 'ERROR|SUMMARY|invariant|runtime error|#[0-9]+ 0x' "$dir/log" | head -40
		for f in "$dir"/crash/*; do
			[ -e "$f" ] || continue
			echo "crashing input: $f ($(stat -c %s "$f") bytes); first 4 KiB:"
			head -c 4096 "$f" | od -A x -t x1z -v
			echo "the whole input in base64 (base64 -d > input to replay it):"
			base64 -w 0 "$f"
			echo
		done
		echo "full log: $dir/log"
		return 1
	fi
	echo "fuzz $t: ok, ${SECONDS_EACH}s, $execs runs, $speed exec/s; $stats"
}

for t in $TARGETS; do
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
		wait -n || true
	done
	echo "fuzz $t: running for ${SECONDS_EACH}s"
	(run_one "$t" >"$WORK/$t.report" 2>&1; echo $? >"$WORK/$t.rc") &
done
wait
fail=0
for t in $TARGETS; do
	cat "$WORK/$t.report"
	[ "$(cat "$WORK/$t.rc" 2>/dev/null)" = 0 ] || fail=1
done
if [ $fail -ne 0 ]; then
	echo "fuzz: FAILED; the inputs and logs stay in $WORK"
	exit 1
fi
rm -rf "$WORK"
echo "fuzz: every target ran ${SECONDS_EACH}s without a failure"
