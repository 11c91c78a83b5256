#!/bin/sh
# Provisions what the tests need and nothing else, so `pnpm test` works on a fresh machine:
#   libonnx-testdata  the ONNX backend test corpus (/usr/share/libonnx-testdata/data)
#   chromium          headless browser for the report's browser test (/usr/bin/chromium)
#   python3-torch, python3-onnx, python3-numpy under /usr/bin/python3 (float64 reference, numpy interop)
# Each is checked by what the tests actually use (a folder, an executable, an importable module), so a
# machine that provides them some other way is left alone. When something is missing:
#   root and apt-get  -> apt-get update && apt-get install (Debian package names above);
#   otherwise         -> stop at once (exit 1) and print the one command that installs them.
# ONNXKIT_SKIP_TEST_DEPS=1 skips the check (each test then fails on its own and names its package).
set -u
[ "${ONNXKIT_SKIP_TEST_DEPS:-}" = "1" ] && exit 0

missing=""
[ -d /usr/share/libonnx-testdata/data ] || missing="$missing libonnx-testdata"
[ -x /usr/bin/chromium ] || missing="$missing chromium"
for mod in torch onnx numpy; do
  # find_spec locates a module without importing it (importing torch takes seconds).
  if ! [ -x /usr/bin/python3 ] || ! /usr/bin/python3 -c "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('$mod') else 1)" 2>/dev/null; then
    missing="$missing python3-$mod"
  fi
done
[ -z "$missing" ] && exit 0
missing=${missing# }

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup-test-deps: installing $missing (apt-get; needs the network, a few minutes the first time)" >&2
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086 # $missing is a space-separated package list
  if apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends $missing >/dev/null; then
    exit 0
  fi
  echo "setup-test-deps: apt-get install $missing failed; run it yourself and retry" >&2
  exit 1
fi

if command -v apt-get >/dev/null 2>&1; then
  echo "setup-test-deps: the tests need $missing; install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends $missing" >&2
else
  echo "setup-test-deps: the tests need Debian's $missing (no apt-get here): install the equivalents, or set ONNXKIT_SKIP_TEST_DEPS=1 to run anyway" >&2
fi
exit 1
