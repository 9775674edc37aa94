#!/usr/bin/env bash
# Every test of tandem, in the order that fails fastest:
#   1. Rasa's data validation (no warnings allowed),
#   2. the model, trained once per change of its inputs (cached in models/),
#   3. conversation tests through the trained assistant with the real action server,
#   4. pytest: unit, service and end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export TF_CPP_MIN_LOG_LEVEL=2 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

echo "== data validation (rasa data validate, warnings are errors)"
$PY -m bot validate

echo "== model"
TANDEM_MODEL=$($PY -m bot train --skip-validation | tail -n 1)  # validated just above
export TANDEM_MODEL
echo "$TANDEM_MODEL"

echo "== conversation tests"
$PY -m bot conversation-test --model "$TANDEM_MODEL"

echo "== pytest"
set +e
$PY -m pytest "$@"
code=$?
set -e
if [ "$code" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here" >&2
  exit 1
fi
exit "$code"
