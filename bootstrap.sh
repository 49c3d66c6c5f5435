#!/usr/bin/env bash
# bootstrap.sh - install spfcheck's build dependencies (Debian 12 or newer)
# and build it in ./build.  Safe to run again: it reconfigures and rebuilds.
set -euo pipefail
cd "$(dirname "$0")"

packages=(gcc pkg-config meson ninja-build
          libldns-dev libidn2-dev libc-ares-dev libevent-dev libjansson-dev
          libxml2-dev libarchive-dev libpsl-dev
          libyaml-dev libcmocka-dev
          graphviz libxml2-utils    # tests/dot.sh renders the dot output to SVG
          chromium)                 # tests/html.sh loads the HTML pages
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "bootstrap: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ -f build/build.ninja ]; then
  meson setup --reconfigure build >/dev/null
else
  meson setup build >/dev/null
fi
ninja -C build >/dev/null
echo "bootstrap: built build/cmd/spfcheck" >&2
