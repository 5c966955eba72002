#!/usr/bin/env bash
# Mutation tests of the money and decision code (issue 16): mutmut mutates bot/money.py, bot/invoices.py,
# bot/diagnosis.py, bot/acting.py and bot/ledger.py ([tool.mutmut] in pyproject.toml) and runs their fast
# unit tests against every mutant. Exits non-zero when a mutant survives that tests/mutation/equivalent.txt
# does not list (see tests/mutation/survivors.py). Always starts from an empty mutants/ folder: mutmut's
# cache keeps stale copies and stale test-to-function maps when other files change.
#
#   bench/mutation.sh                 # the whole run, then the check
#   bench/mutation.sh --update-lock   # after reviewing equivalent.txt: record what each listed mutant changes
#   VENV=/path/to/venv bench/mutation.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${VENV:-.venv}/bin
mutmut=$bin/mutmut
python=$bin/python
if [ ! -x "$mutmut" ]; then mutmut=mutmut; python=python3; fi

rm -rf mutants
log=$(mktemp -t mutmut-run.XXXXXX)
start=$(date +%s)
if ! "$mutmut" run >"$log" 2>&1; then
    tr '\r' '\n' <"$log" | grep -v '^\s*$' | tail -40
    echo "mutmut run failed (full log: $log)" >&2
    exit 2
fi
end=$(date +%s)
echo "mutmut run: $((end - start)) s on $(nproc) cores (log: $log)"
"$python" tests/mutation/survivors.py --mutmut "$mutmut" "$@"
