#!/usr/bin/env bash
# The browser tests: installs playwright-core from the lockfile (never a
# browser: Debian's chromium is used), then runs every *.test.mjs here.
# Needs a built signald (scripts/build.sh release, or SIGNALD_BIN).
set -euo pipefail
cd "$(dirname "$0")"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
# npm ci wipes and reinstalls: only when the installed copy is not the
# locked one, so that a second run works offline.
installed=$(node -p 'require("./node_modules/playwright-core/package.json").version' 2>/dev/null || true)
locked=$(node -p 'require("./package-lock.json").packages["node_modules/playwright-core"].version')
if [ "$installed" != "$locked" ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
# Bounded as a whole too: a hung browser must not hang CI.
exec timeout --kill-after=10 240 node --test ./*.test.mjs
