#!/usr/bin/env bash
# Mutation tests of the money and decision code (issue 16): mutmut mutates bot/money.py, bot/invoices.py,
# bot/diagnosis.py, bot/acting.py and bot/ledger.py ([tool.mutmut] in pyproject.toml) and runs their fast
# unit tests against every mutant. Exits non-zero when a mutant survives that tests/mutation/equivalent.txt
# does not list (see tests/mutation/survivors.py). Always starts from an empty mutants/ folder: mutmut's
# cache keeps stale copies and stale test-to-function maps when other files change.
#
#   bench/mutation.sh                 # the whole run, then the check
#   bench/mutation.sh --update-lock   # after reviewing equivalent.txt: record what each listed mutant changes
#   bench/mutation.sh --if-changed    # only when the modules differ from the last verified run (CI)
#   VENV=/path/to/venv bench/mutation.sh
#
# A passing run records a digest of the five modules and their tests in tests/mutation/verified.sha256;
# CI runs the mutation tests whenever the code differs from that digest.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${VENV:-.venv}/bin
mutmut=$bin/mutmut
python=$bin/python
if [ ! -x "$mutmut" ]; then mutmut=mutmut; python=python3; fi

MODULES="bot/money.py bot/invoices.py bot/diagnosis.py bot/acting.py bot/ledger.py"
TESTS="tests/bot/test_money.py tests/bot/test_invoices.py tests/bot/test_diagnosis.py tests/bot/test_acting.py tests/bot/test_ledger.py tests/bot/test_settle_races.py"
digest=$(cat $MODULES $TESTS tests/mutation/equivalent.txt | sha256sum | cut -d' ' -f1)
if [ "${1:-}" = "--if-changed" ]; then
    shift
    if [ "$digest" = "$(cat tests/mutation/verified.sha256 2>/dev/null)" ]; then
        echo "mutation tests: money modules unchanged since their last verified run; skipped"
        exit 0
    fi
fi

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
echo "$digest" >tests/mutation/verified.sha256
