#!/bin/sh
# Debian's Chromium and a font for the browser test (tests/panel/test_panel_browser.py).
#
# Idempotent: does nothing when /usr/bin/chromium exists; otherwise (as root, with apt-get)
# installs chromium and fonts-dejavu-core (about 20 s, 500 MB). Playwright drives this Chromium
# through executable_path: never run `playwright install`, which downloads a browser.
# Where it cannot be installed (not root, no apt-get) it says so and exits 0, so the browser
# test skips; with CI set, that is an error instead.
set -eu

CHROMIUM=/usr/bin/chromium
PACKAGES="chromium fonts-dejavu-core"

say() { echo "browser-setup: $*" >&2; }

if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    if [ -n "${CI:-}" ]; then
        say "ERROR: $CHROMIUM is missing and cannot be installed here (CI is set)"
        exit 1
    fi
    say "$CHROMIUM is missing and cannot be installed here; the browser test will be skipped"
    exit 0
fi
say "installing $PACKAGES"
apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $PACKAGES >/dev/null
"$CHROMIUM" --version >&2
