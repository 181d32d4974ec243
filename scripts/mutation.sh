#!/usr/bin/env bash
# Mutation testing of the domain core with mutmut (configured in pyproject.toml [tool.mutmut]).
# Not part of CI: a module takes minutes. See docs/testing.md for the latest table.
#   scripts/mutation.sh                        every module listed in [tool.mutmut] only_mutate
#   scripts/mutation.sh course/ratelimit.py    one module (a path, or a dotted name: course.ratelimit)
#   MUTATION_KEEP=1 scripts/mutation.sh ...    keep mutants/ and mutmut's stats from the last invocation
#   MUTATION_CHILDREN=2 scripts/mutation.sh ...  at most 2 mutants at a time (mutmut's default: one per core)
# mutmut copies the code and tests to mutants/ (git-ignored, rebuilt unless MUTATION_KEEP=1) and runs,
# per mutant, the fast tests (-m "not e2e and not system", minus memory and at_size) that called the
# mutated function. The first module of an invocation pays for one traced run of those tests (which
# test calls which function; 5-40 minutes on a shared machine). MUTATION_KEEP=1 keeps mutants/ and
# that trace: mutmut then re-mutates only changed source files, traces only tests it has not seen,
# and re-runs every mutant of the modules named. A test that was edited (not added) keeps its old
# trace, so start without MUTATION_KEEP after editing tests or after pulling other people's changes.
# Afterwards `.venv/bin/mutmut show <mutant>` prints a mutant's diff.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_venv requirements-dev.txt
export SESSION_COOKIE_SECURE=0
unset TEST_DATABASE_URL  # SQLite: the mutants run in parallel, each with its own database

if [ "$#" -eq 0 ]; then
  mapfile -t modules < <(.venv/bin/python -c '
import tomllib
print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["tool"]["mutmut"]["only_mutate"]))')
else
  modules=("$@")
fi

if [ "${MUTATION_KEEP:-0}" = 1 ] && [ -d mutants ]; then
  echo "==> MUTATION_KEEP=1: reusing mutants/ and mutmut's trace of the tests"
else
  rm -rf mutants  # no results or copies left over from older code
fi
for module in "${modules[@]}"; do
  dotted="${module%.py}"
  dotted="${dotted//\//.}"
  echo "==> mutmut: $dotted"
  start=$(date +%s)
  # The first module also pays for one traced run of the fast suite (which tests call which function).
  # The whole output goes to a log: when the clean run fails, its pytest report is there to read.
  mkdir -p mutants
  # Node packages the tests start (the OpenID provider of tests/oidc, vnu) are looked up next to the
  # tests, so the copy in mutants/ needs them too: a link, not a copy.
  [ -e mutants/node_modules ] || ln -s "$PWD/node_modules" mutants/node_modules
  if ! .venv/bin/mutmut run ${MUTATION_CHILDREN:+--max-children "$MUTATION_CHILDREN"} "$dotted.*" > "mutants/$dotted.log" 2>&1; then
    grep -E "FAILED|Error|failed" "mutants/$dotted.log" | head -n 20
    echo "mutmut failed on $dotted: see mutants/$dotted.log" >&2
    exit 1
  fi
  tail -n 3 "mutants/$dotted.log"
  echo "    $(($(date +%s) - start)) s"
done

echo "==> mutants per module: total killed survived other (other: no test, timeout, ...)"
.venv/bin/python - "${modules[@]}" <<'PY'
import json, sys
from pathlib import Path
from mutmut.stats import status_by_exit_code
for module in sys.argv[1:]:
    path = module if module.endswith(".py") else module.replace(".", "/") + ".py"
    codes = json.loads(Path("mutants", path + ".meta").read_text())["exit_code_by_key"]
    statuses = [status_by_exit_code[code] for code in codes.values()]
    killed, survived = statuses.count("killed"), statuses.count("survived")
    print(f"{path:40} {len(statuses):5} {killed:6} {survived:8} {len(statuses) - killed - survived:5}")
    for name, code in sorted(codes.items()):
        if status_by_exit_code[code] != "killed":
            print(f"    {status_by_exit_code[code]:9} {name}")
PY
