#!/bin/bash
# Runs canary.sh in the sandbox, then checks that nothing it wrote reached
# the host.
set -u
runsc=$1 platform=$2 dir=$(dirname "$0")
before=$(sha256sum /etc/hostname /etc/os-release)
[ -e /etc/sandbox-canary ] && { echo "canary exists before the test"; exit 1; }
out=$(timeout 120 "$runsc" --platform="$platform" do /bin/bash "$dir/canary.sh" 2>&1)
rc=$?
expected=$(printf 'inside\nchanged\nNo such file or directory\nf')
if [ "$rc" != 0 ] || [ "$out" != "$expected" ]; then
  echo "unexpected output inside (rc $rc):"; echo "$out"; exit 1
fi
after=$(sha256sum /etc/hostname /etc/os-release)
if [ "$before" != "$after" ]; then echo "host files changed!"; exit 1; fi
if [ -e /etc/sandbox-canary ] || [ -e /usr/sandbox-dir ]; then echo "sandbox writes reached the host!"; exit 1; fi
echo "host unchanged"
