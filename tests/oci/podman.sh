#!/bin/bash
# podman driving runsc as its OCI runtime (--runtime): run, exit statuses,
# environment/user/workdir, detached containers, stop, kill, rm. Skipped
# (exit 77) where podman is not installed or we are not root.
#   podman.sh RUNSC PLATFORM
set -u
RUNSC=$1
PLATFORM=$2
if ! command -v podman >/dev/null || [ "$(id -u)" != 0 ]; then
  echo "SKIP: podman is not installed or not running as root"
  exit 77
fi
BUSYBOX=$(command -v busybox || echo /bin/busybox)
WORK=$(mktemp -d)
# The runtime flags podman passes through: a wrapper picks the platform.
cat > "$WORK/runtime" <<EOF2
#!/bin/sh
exec "$RUNSC" --platform=$PLATFORM "\$@"
EOF2
chmod +x "$WORK/runtime"
P=(podman --root "$WORK/storage" --runroot "$WORK/run" --storage-driver vfs
   --cgroup-manager cgroupfs --events-backend file --runtime "$WORK/runtime")
failures=0
cleanup() {
  "${P[@]}" rm -a -f >/dev/null 2>&1
  "${P[@]}" rmi -a -f >/dev/null 2>&1
  rm -rf "$WORK" 2>/dev/null || { umount -R "$WORK"/* 2>/dev/null; rm -rf "$WORK"; }
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
expect_eq() { if [ "$2" != "$3" ]; then fail "$1: got [$2], want [$3]"; else echo "ok: $1"; fi; }

mkdir -p "$WORK/rootfs/bin" "$WORK/rootfs/etc"
cp "$BUSYBOX" "$WORK/rootfs/bin/busybox"
for a in sh echo cat sleep ls id pwd wc true mkdir grep; do ln -s busybox "$WORK/rootfs/bin/$a"; done
echo image > "$WORK/rootfs/etc/motd"
tar -C "$WORK/rootfs" -cf "$WORK/rootfs.tar" .
"${P[@]}" import "$WORK/rootfs.tar" localhost/oci-test:latest >/dev/null 2>&1 || { echo "podman import failed"; exit 1; }
IMG=localhost/oci-test:latest
RUN=("${P[@]}" run --network none)

out=$("${RUN[@]}" --rm -e FOO=bar -w /bin --user 1000:1000 "$IMG" \
      sh -c 'echo $FOO; pwd; id; echo $$; (echo x > /not-mine) 2>/dev/null || echo not-writable-by-uid-1000; exit 5' 2>&1)
rc=$?
expect_eq "run: exit status" "$rc" 5
expect_eq "run: output" "$out" "$(printf 'bar\n/bin\nuid=1000 gid=1000 groups=1000\n1\nnot-writable-by-uid-1000')"

out=$("${RUN[@]}" --rm "$IMG" sh -c 'echo changed > /etc/motd; cat /etc/motd' 2>&1)
expect_eq "run: the container writes its own root" "$out" changed
out=$("${RUN[@]}" --rm "$IMG" cat /etc/motd 2>&1)
expect_eq "run: a new container starts from the image" "$out" image

mkdir -p "$WORK/vol"
echo host > "$WORK/vol/f"
out=$("${RUN[@]}" --rm -v "$WORK/vol:/data" "$IMG" sh -c 'cat /data/f; echo container > /data/g' 2>&1)
expect_eq "run -v: reads the host directory" "$out" host
expect_eq "run -v: writes reach the host" "$(cat "$WORK/vol/g" 2>&1)" container
"${RUN[@]}" --rm -v "$WORK/vol:/data:ro" "$IMG" sh -c 'echo x > /data/h' >/dev/null 2>&1
expect_eq "run -v :ro refuses writes" "$?/$(ls "$WORK/vol")" "1/$(printf 'f\ng')"

# podman's default seccomp profile is in force in every run (one filter);
# a custom one denying mkdir makes mkdir fail with EPERM inside the sandbox.
out=$("${RUN[@]}" --rm "$IMG" grep Seccomp: /proc/self/status 2>&1)
expect_eq "run: podman's default seccomp profile is installed" "$out" "$(printf 'Seccomp:\t2')"
cat > "$WORK/seccomp.json" <<'EOF2'
{"defaultAction": "SCMP_ACT_ALLOW",
 "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
EOF2
out=$("${RUN[@]}" --rm --security-opt seccomp="$WORK/seccomp.json" "$IMG" \
      sh -c 'mkdir /d 2>&1; echo $?; grep Seccomp: /proc/self/status' 2>&1)
expect_eq "run --security-opt seccomp=profile.json: mkdir gets EPERM" "$out" \
  "$(printf "mkdir: can't create directory '/d': Operation not permitted\n1\nSeccomp:\t2")"
out=$("${RUN[@]}" --rm --security-opt seccomp=unconfined "$IMG" sh -c 'mkdir /d && echo made; grep Seccomp: /proc/self/status' 2>&1)
expect_eq "run --security-opt seccomp=unconfined: no filter" "$out" "$(printf 'made\nSeccomp:\t0')"

"${RUN[@]}" --rm "$IMG" /bin/no-such-command >/dev/null 2>&1
expect_eq "run: missing command" "$?" 127

cid=$("${RUN[@]}" -d "$IMG" sh -c 'trap "exit 9" TERM; while true; do sleep 0.1; done')
expect_eq "run -d" "$?" 0
sleep 0.5
expect_eq "ps shows it running" "$("${P[@]}" inspect -f '{{.State.Status}}' "$cid")" running
out=$("${P[@]}" exec "$cid" sh -c 'echo from exec; exit 3')
expect_eq "exec: output and status" "$?/$out" "3/from exec"
out=$("${P[@]}" exec -e A=b -w /bin -u 1000 "$cid" sh -c 'echo $A; pwd; id -u')
expect_eq "exec: env, workdir, user" "$out" "$(printf 'b\n/bin\n1000')"
out=$(echo piped | "${P[@]}" exec -i "$cid" cat)
expect_eq "exec -i: stdin" "$out" piped
"${P[@]}" stop -t 5 "$cid" >/dev/null
expect_eq "stop: SIGTERM reaches the handler" "$("${P[@]}" inspect -f '{{.State.ExitCode}}' "$cid")" 9
expect_eq "stop: exited" "$("${P[@]}" inspect -f '{{.State.Status}}' "$cid")" exited
"${P[@]}" rm "$cid" >/dev/null
expect_eq "rm" "$?" 0

cid=$("${RUN[@]}" -d "$IMG" sh -c 'while true; do sleep 0.1; done')
sleep 0.5
"${P[@]}" kill "$cid" >/dev/null
"${P[@]}" wait "$cid" >/dev/null
expect_eq "kill: status of a container killed by SIGKILL" \
  "$("${P[@]}" inspect -f '{{.State.ExitCode}}' "$cid")" 137
"${P[@]}" rm "$cid" >/dev/null

# Resource limits land on the sandbox's host cgroup; pause freezes it.
cid=$("${RUN[@]}" -d --memory 300m --pids-limit 77 "$IMG" sh -c 'while true; do sleep 0.1; done')
sleep 0.5
cg=$("${P[@]}" inspect -f '{{.State.CgroupPath}}' "$cid")
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  mem=$(cat "/sys/fs/cgroup$cg/memory.max" 2>&1); pids=$(cat "/sys/fs/cgroup$cg/pids.max" 2>&1)
else
  mem=$(cat "/sys/fs/cgroup/memory$cg/memory.limit_in_bytes" 2>&1); pids=$(cat "/sys/fs/cgroup/pids$cg/pids.max" 2>&1)
fi
expect_eq "--memory and --pids-limit in the cgroup $cg" "$mem/$pids" "314572800/77"
"${P[@]}" pause "$cid" >/dev/null
expect_eq "pause" "$?/$("${P[@]}" inspect -f '{{.State.Status}}' "$cid")" 0/paused
"${P[@]}" unpause "$cid" >/dev/null
expect_eq "unpause" "$?/$("${P[@]}" inspect -f '{{.State.Status}}' "$cid")" 0/running
"${P[@]}" rm -f -t 0 "$cid" >/dev/null

sleep 0.3
left=$(pgrep -f "runsc .*gofer --root=$WORK/storage" || true)
[ -z "$left" ] || fail "sandbox processes left running: $left"
if [ "$failures" -ne 0 ]; then echo "$failures failure(s)"; exit 1; fi
echo "all podman checks passed"
