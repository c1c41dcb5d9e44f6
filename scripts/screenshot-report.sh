#!/usr/bin/env bash
# Renders an HTML report in headless Chromium and saves a screenshot, to check that it shows its tables and plots.
# Installs Debian's chromium when it is missing.
#   scripts/screenshot-report.sh            run the report test that renders a test run's report (artifacts/report.png)
#   scripts/screenshot-report.sh DIR        screenshot DIR/index.html (written by stepforge report --html DIR) to DIR/screenshot.png
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing Debian's chromium (once)..." >&2
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium
fi
if [ $# -eq 0 ]; then
  dotnet test --filter "FullyQualifiedName~HtmlReportTests"
  echo "screenshot: artifacts/report.png"
else
  dir="$(cd "$1" && pwd)"
  # Tall enough for a whole report; HEIGHT=N for a longer page.
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="1400,${HEIGHT:-6000}" \
    --screenshot="$dir/screenshot.png" "file://$dir/index.html" 2>/dev/null
  echo "screenshot: $dir/screenshot.png"
fi
