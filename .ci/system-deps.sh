#!/usr/bin/env bash
# Debian packages the test suite drives for real: chromium (dashboard and locker-screen browser tests), postgresql
# (the Postgres runs), mosquitto + mosquitto-clients (the external broker with its dynamic-security plugin), socat
# (Modbus RTU emulator) and redis-server (multi-process broker state). Run by .ci/run and
# before `npm test` (pretest). Costs a few `test -x` when everything is there; installs what is missing otherwise
# (apt-get update first) and stops loudly when it cannot: those tests would fail, never skip.
set -euo pipefail

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
missing=()
[ -x "$CHROMIUM" ] || missing+=(chromium)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
{ command -v mosquitto >/dev/null && compgen -G '/usr/lib/*/mosquitto_dynamic_security.so' >/dev/null; } || missing+=(mosquitto)
command -v mosquitto_ctrl >/dev/null || missing+=(mosquitto-clients)
# socat: the Modbus RTU board emulator's pseudo-terminal pair; redis-server: the shared broker state of a
# multi-process deployment (aedes clustering).
command -v socat >/dev/null || missing+=(socat)
command -v redis-server >/dev/null || missing+=(redis-server)
# deploy: systemd-analyze checks the service unit (test/deploy/deploy-files.test.ts).
command -v systemd-analyze >/dev/null || missing+=(systemd)
# screen: Chinese text on the locker screen's pages in Chromium (screenshots, test/screen) needs a CJK font.
dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || missing+=(fonts-wqy-microhei)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "system-deps: installing ${missing[*]} with apt-get" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if ! $SUDO apt-get update; then
  echo "ERROR: apt-get update failed; cannot install ${missing[*]} (needed by the test suite)" >&2
  exit 1
fi
# Debian may start a default cluster and broker on 5432/1883; the tests start their own on free ports.
if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"; then
  echo "ERROR: apt-get install -y ${missing[*]} failed; the test suite needs them" >&2
  exit 1
fi
if [ ! -x "$CHROMIUM" ]; then
  echo "ERROR: chromium installed but not at $CHROMIUM; set CHROMIUM_PATH" >&2
  exit 1
fi
