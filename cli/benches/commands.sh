#!/usr/bin/env bash
# End-to-end timings of the `roteiro` binary, the figures criterion cannot
# take from inside one process (issue 11):
#
#   - replay: `roteiro diff` over 5,000 situation files (the corpus copied
#     over and over), every file decided with both bundles;
#   - cold start: `roteiro decide` on an example with the embedded bundle,
#     a new process each time;
#   - a large bundle: `roteiro decide` on the 10,000-rule synthetic bundle
#     (engine/benches/synthetic.rs writes it), in one procedure file and in
#     a hundred, with the peak memory when /usr/bin/time is there.
#
# Usage: cli/benches/commands.sh [RUNS]   (from the repository root;
# builds the release binary first; prints medians and the fastest run).
set -euo pipefail

runs=${1:-15}
cd "$(dirname "$0")/../.."
cargo build --release -q -p roteiro
roteiro=target/release/roteiro

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Milliseconds (to the tenth) taken by a command, output discarded; the
# clock is bash's own, so no process is started to read it.
millis() {
    local start end
    start=${EPOCHREALTIME/[.,]/}
    "$@" >/dev/null 2>&1
    end=${EPOCHREALTIME/[.,]/}
    awk -v us=$((end - start)) 'BEGIN { printf "%.1f\n", us / 1000 }'
}

# "median N ms, fastest M ms" of the numbers on stdin.
summary() {
    sort -n | awk '{ v[NR] = $1 } END { printf "median %.1f ms, fastest %.1f ms (%d runs)\n", v[int((NR + 1) / 2)], v[1], NR }'
}

files=5000
corpus=(tests/situations/*.yaml)
mkdir "$work/replay"
for ((i = 0; i < files; i++)); do
    cp "${corpus[i % ${#corpus[@]}]}" "$work/replay/s$i.yaml"
done
# Each file is decided by the base bundle and by the edited one.
decisions=$((2 * files))

echo "replay: roteiro diff over $files files ($decisions decisions, both bundles the shipped one)"
times=$(for ((r = 0; r < runs; r++)); do
    millis "$roteiro" diff "$work/replay" --base policies --policies policies
done)
echo "  $(summary <<<"$times")"
sort -n <<<"$times" | awk -v n="$decisions" '{ v[NR] = $1 } END { m = v[int((NR + 1) / 2)]; printf "  %d decisions/s at the median (target: 20,000)\n", n * 1000 / (m > 0 ? m : 1) }'

example=policies/examples/004-cenario1-treinamento.yaml
echo "cold start: roteiro decide $example (embedded bundle)"
# The embedded bundle is used when no ./policies folder is found.
cp "$example" "$work/situation.yaml"
times=$(cd "$work" && for ((r = 0; r < runs; r++)); do
    millis "$OLDPWD/$roteiro" decide situation.yaml
done)
echo "  $(summary <<<"$times") (target: 10 ms)"
echo "  for scale: roteiro --version $(for ((r = 0; r < runs; r++)); do millis "$roteiro" --version; done | summary)"

echo "large bundle: roteiro decide --policies <10,000 synthetic rules> (load, validate, decide)"
ROTEIRO_WRITE_SYNTHETIC="$work/synthetic" cargo bench -q -p roteiro-engine --bench synthetic >/dev/null
printf 'now: 2026-12-08T10:15:00-03:00\ncaso: {topic: t7, a: a2, n: 40, flag: false}\n' >"$work/synthetic.yaml"
for shape in one-file per-100; do
    times=$(for ((r = 0; r < runs; r++)); do
        millis "$roteiro" decide --policies "$work/synthetic/$shape" "$work/synthetic.yaml"
    done)
    peak=""
    if [[ -x /usr/bin/time ]]; then
        peak=", peak RSS $(/usr/bin/time -f '%M' "$roteiro" decide --policies "$work/synthetic/$shape" "$work/synthetic.yaml" 2>&1 >/dev/null | tail -1) KB"
    fi
    echo "  $shape: $(summary <<<"$times")$peak (target: 150 ms, 60 MB)"
done
