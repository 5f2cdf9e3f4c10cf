#!/bin/sh
# Instructions per audited and unaudited pipeline update (issue 16), counted by valgrind's
# callgrind: a count the machine's load cannot move. bench/audit-cpu.ts --marks calls
# process.resourceUsage() before each run of calls; callgrind dumps its counts there, so each
# dump after the first is one side's run. Only the main thread's counts are read (the update runs
# there; V8's compiler and GC helper threads work in bursts that land in any run, and made the
# whole process's count per update vary 2.2-7.9 million in one run). Prints each run and the
# median of the rounds' ratios.
#
#   sh bench/audit-callgrind.sh [rounds=4] [calls=20] [warmup=100] [sides=without,with]
set -eu
rounds=${1:-4}
calls=${2:-20}
warmup=${3:-100}
sides=${4:-without,with}
out=$(mktemp -d /tmp/ansflow-callgrind-XXXXXX)
cd "$(dirname "$0")/.."
valgrind --tool=callgrind --smc-check=all-non-file --separate-threads=yes --dump-before='node::ResourceUsage*' \
  --callgrind-out-file="$out/cg.out" \
  node --import tsx bench/audit-cpu.ts --marks --rounds "$rounds" --calls "$calls" --warmup "$warmup" --sides "$sides" >"$out/log" 2>&1
marks=$(grep '^marks: ' "$out/log" | cut -d' ' -f2-)
node -e '
const fs = require("fs"), path = require("path");
const [dir, marks] = process.argv.slice(1);
const [calls, order] = marks.split(" ");
const sides = order.split(",");
// Dumps are cg.out.1, cg.out.2 ... in order; the first ends at the first mark (start-up, warm-up).
const files = fs.readdirSync(dir).filter((f) => /^cg\.out\.\d+-01$/.test(f)).sort((a, b) => parseInt(a.split(".").pop()) - parseInt(b.split(".").pop()));
const totals = files.map((f) => Number(/^(?:summary|totals): (\d+)/m.exec(fs.readFileSync(path.join(dir, f), "utf8"))[1]));
const runs = totals.slice(1, 1 + sides.length);
if (runs.length !== sides.length) throw new Error(`${runs.length} dumps for ${sides.length} runs`);
const per = {};
sides.forEach((s, i) => (per[s] ??= []).push(runs[i] / Number(calls)));
for (const [s, v] of Object.entries(per)) console.log(`${s}: instructions per update ${v.map((x) => Math.round(x)).join(" ")}`);
const names = Object.keys(per);
const base = per[names[0]];
for (const s of names.slice(1)) {
  const r = per[s].map((x, i) => x / base[i] - 1).sort((a, b) => a - b);
  const med = r.length % 2 ? r[r.length >> 1] : (r[r.length / 2 - 1] + r[r.length / 2]) / 2;
  console.log(`${s} vs ${names[0]}: round ratios ${r.map((x) => (x * 100).toFixed(2) + " %").join(", ")}; median ${(med * 100).toFixed(2)} %`);
}
' "$out" "$marks"
echo "dumps and log in $out"
