#!/bin/bash
# Runs a script natively and inside the sandbox and checks that both give
# the same stdout and exit status (stdin is fed the same to both).
#   compare.sh RUNSC PLATFORM SCRIPT [STDIN_FILE]
set -u
runsc=$1 platform=$2 script=$3 input=${4:-/dev/null}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
timeout 300 bash "$script" <"$input" >"$work/native.out" 2>"$work/native.err"
native_rc=$?
timeout 300 "$runsc" --platform="$platform" do /bin/bash "$script" <"$input" >"$work/sandbox.out" 2>"$work/sandbox.err"
sandbox_rc=$?
fail=0
if [ "$native_rc" != "$sandbox_rc" ]; then
  echo "exit status differs: native $native_rc, sandbox $sandbox_rc"
  fail=1
fi
if ! cmp -s "$work/native.out" "$work/sandbox.out"; then
  echo "stdout differs (native <, sandbox >):"
  diff "$work/native.out" "$work/sandbox.out" | head -40
  fail=1
fi
if [ $fail != 0 ]; then
  echo "--- sandbox stderr:"; head -40 "$work/sandbox.err"
  echo "--- native stderr:"; head -20 "$work/native.err"
  exit 1
fi
echo "same output ($(wc -c <"$work/native.out") bytes) and exit status $native_rc"
