#!/usr/bin/env bash
# Builds the Linux onedir (dist/wardview/) with PyInstaller and self-tests it before anything uses it.
# Usage: packaging/build_linux.sh [PYTHON]   (default: .venv/bin/python; the [packaging] extra is
# installed into it when PyInstaller is missing). Prints the build time and the folder's size.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-.venv/bin/python}
if ! "$python" -c "import PyInstaller" 2>/dev/null; then
  "$python" -m pip install -q -e ".[packaging]"
fi
started=$(date +%s)
"$python" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/wardview.spec
echo "build: onedir built in $(( $(date +%s) - started )) s, $(du -sh dist/wardview | cut -f1)," \
  "$(find dist/wardview -type f | wc -l) files"
# The frozen self-test: imports, data files, SQLCipher, keyring, TLS trust store, an offscreen window.
# A build machine has no desktop session, so the keyring check gets a real Secret Service of its own
# (gnome-keyring in a private D-Bus session, throwaway home); without those tools it fails, and says why.
selftest=(env QT_QPA_PLATFORM=offscreen dist/wardview/wardview-cli --self-test "${SELF_TEST_FORMAT:-table}")
if command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  mkdir -m 700 "$scratch/run"
  HOME="$scratch" XDG_RUNTIME_DIR="$scratch/run" XDG_DATA_HOME="$scratch/data" dbus-run-session -- sh -c \
    'echo -n build | gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec "$@"' sh "${selftest[@]}"
else
  echo "build: no dbus-run-session/gnome-keyring-daemon: the keyring check runs against this session"
  "${selftest[@]}"
fi
