#!/usr/bin/env bash
# The printed forms' tests read PDFs with poppler-utils (pdftotext, pdffonts, pdftoppm); the ranking page's test
# drives Debian's chromium headless through chromedriver (no browser is downloaded). CI installs them; elsewhere
# we say how, and those tests are skipped (on CI they fail instead: tests/pdf_tools.py, tests/e2e/browser.py).
set -euo pipefail
missing=()
for tool in pdftotext pdffonts pdftoppm; do command -v "$tool" >/dev/null 2>&1 || missing+=(poppler-utils); done
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
if [ "${CI:-}" = "true" ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${packages}(CI)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${packages} >/dev/null
  exit 0
fi
echo "missing: ${packages}. The PDF and browser tests are skipped without them. On Debian/Ubuntu run:" >&2
echo "    apt-get install -y ${packages}" >&2
exit 0
