#!/usr/bin/env bash
# Every command example in README.md runs as written (in a scratch copy of the repository whose
# build/ is the tested build): the examples are extracted from the README itself, so an example
# that is edited, added or broken is caught. They run after the demo's model fits (which the
# README says the demo writes to out/), fits first, then in README order, with
# `source tools/mpi-env.sh` as the README asks for mpirun in a root shell.
# Usage: readme_examples.sh <repo> <build dir> <workdir>
set -euo pipefail
repo=$1 build=$2 root=$3
rm -rf "$root" && mkdir -p "$root" && cd "$root"
cp -r "$repo/README.md" "$repo/data" "$repo/jobs" "$repo/tools" .
ln -s "$build" build
source tools/mpi-env.sh
export OMP_NUM_THREADS=1
# The demo's fits, which the README's examples use (tools/demo.sh runs these).
mpirun -np 2 build/scorematch fit --config jobs/faithful-gaussian.toml >/dev/null
mpirun -np 2 build/scorematch fit --config jobs/faithful-poly4.toml >/dev/null
# Examples: code spans that start with build/ or mpirun and have arguments; fits and data makers
# first (others read what they write), then README order.
mapfile -t examples < <(/usr/bin/python3 - <<'PY'
import re
text = re.sub(r"```.*?```", "", open("README.md", encoding="utf-8").read(), flags=re.S)
spans = re.findall(r"`([^`]+)`", text)
cmds = []
for s in spans:
    s = s.replace("\\|", "|")
    if re.match(r"^(mpirun -np \d+ )?build/(scorematch|make_decoder) \S", s) and s not in cmds:
        cmds.append(s)
first = [c for c in cmds if re.search(r"scorematch (fit|gen) |make_decoder", c)]
print("\n".join(first + [c for c in cmds if c not in first]))
PY
)
[ "${#examples[@]}" -ge 10 ] || { echo "FAIL: only ${#examples[@]} examples found in README.md"; exit 1; }
for cmd in "${examples[@]}"; do
  # the shell's word splitting is what a user's shell does with these (no quotes in them)
  read -r -a argv <<<"$cmd"
  "${argv[@]}" >"$root/last.log" 2>&1 || { cat "$root/last.log"; echo "FAIL: README example: $cmd"; exit 1; }
  echo "ok: $cmd"
done
echo "all ${#examples[@]} README examples ran"
