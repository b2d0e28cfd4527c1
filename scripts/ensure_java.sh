#!/usr/bin/env bash
# DynamoDB Local needs a Java runtime (17 works). CI installs it; elsewhere we say how.
set -euo pipefail
if command -v java >/dev/null 2>&1; then exit 0; fi
if [ "${CI:-}" = "true" ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "java is missing: installing openjdk-17-jre-headless (CI)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
  exit 0
fi
echo "java is missing. DynamoDB Local needs it. On Debian/Ubuntu run:" >&2
echo "    apt-get install -y openjdk-17-jre-headless" >&2
exit 1
