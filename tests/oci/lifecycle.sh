#!/bin/bash
# The OCI lifecycle through runsc's runc-compatible CLI, on a bundle whose
# root file system is busybox: run, create/start/state/kill/delete, errors,
# mounts from config.json, exit statuses, and nothing left running.
#   lifecycle.sh RUNSC PLATFORM
set -u
RUNSC=$1
PLATFORM=$2
BUSYBOX=$(command -v busybox || echo /bin/busybox)
WORK=$(mktemp -d)
STATE=$WORK/state
R=("$RUNSC" --platform="$PLATFORM" --root="$STATE")
failures=0
trap 'for id in $("${R[@]}" list -q 2>/dev/null); do "${R[@]}" delete -f "$id" >/dev/null 2>&1; done; rm -rf "$WORK"' EXIT

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
expect_eq() {  # what got want
  if [ "$2" != "$3" ]; then fail "$1: got [$2], want [$3]"; else echo "ok: $1"; fi
}
state_of() { "${R[@]}" state "$1" 2>/dev/null | sed -n 's/.*"status": "\(.*\)".*/\1/p'; }
pid_of() { "${R[@]}" state "$1" 2>/dev/null | sed -n 's/.*"pid": \([0-9]*\).*/\1/p'; }
wait_state() {  # id want
  for _ in $(seq 100); do [ "$(state_of "$1")" = "$2" ] && return 0; sleep 0.1; done
  return 1
}

# --- the bundle -------------------------------------------------------------
B=$WORK/bundle
mkdir -p "$B/rootfs/bin" "$B/rootfs/etc"
cp "$BUSYBOX" "$B/rootfs/bin/busybox"
for a in sh echo cat sleep ls true false mkdir id hostname wc grep chmod; do ln -s busybox "$B/rootfs/bin/$a"; done
echo "from-the-image" > "$B/rootfs/etc/motd"
echo "127.0.0.1 injected.example" > "$WORK/hosts"
mkdir -p "$WORK/vol/sub" "$WORK/ro"
echo "from-the-host" > "$WORK/vol/sub/hostfile"
echo "read-only" > "$WORK/ro/file"
config() {  # args-json
  cat > "$B/config.json" <<EOF
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0},
    "args": $1,
    "env": ["PATH=/bin", "GREETING=hello"],
    "cwd": "/",
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 512}]
  },
  "root": {"path": "rootfs"},
  "hostname": "oci-box",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs"},
    {"destination": "/data", "type": "tmpfs", "source": "tmpfs"},
    {"destination": "/etc/hosts", "type": "bind", "source": "$WORK/hosts", "options": ["rbind", "ro"]},
    {"destination": "/vol", "type": "bind", "source": "$WORK/vol", "options": ["rbind", "rw"]},
    {"destination": "/mnt/ro", "type": "bind", "source": "$WORK/ro", "options": ["bind", "ro"]}
  ]
}
EOF
}

# --- run: output, environment, mounts, exit status ---------------------------
config '["sh", "-c", "echo $GREETING; hostname; cat /etc/motd /etc/hosts; ulimit -n; echo x > /data/f && cat /data/f; echo $$; echo changed > /etc/motd; exit 7"]'
out=$("${R[@]}" run --bundle "$B" c-run 2>"$WORK/err")
rc=$?
expect_eq "run exit status" "$rc" 7
expect_eq "run output" "$out" "$(printf 'hello\noci-box\nfrom-the-image\n127.0.0.1 injected.example\n512\nx\n1')"
expect_eq "the image on the host is unchanged" "$(cat "$B/rootfs/etc/motd")" "from-the-image"

# root.readonly: writes to the root fail; tmpfs and rw bind mounts still work.
sed -i 's/"root": {"path": "rootfs"}/"root": {"path": "rootfs", "readonly": true}/' "$B/config.json"
out=$("${R[@]}" run --bundle "$B" c-ro 2>&1)
expect_eq "read-only root: the write fails" "$(echo "$out" | grep -c "Read-only file system")" 1
sed -i 's/"root": {"path": "rootfs", "readonly": true}/"root": {"path": "rootfs"}/' "$B/config.json"
config '["sh", "-c", "echo x > /data/f && cat /data/f; echo y > /vol/ro-root-ok; (echo z > /etc/motd) 2>&1"]'
sed -i 's/"root": {"path": "rootfs"}/"root": {"path": "rootfs", "readonly": true}/' "$B/config.json"
out=$("${R[@]}" run --bundle "$B" c-ro2 2>&1)
expect_eq "read-only root: tmpfs and rw bind still writable" "$out" "$(printf 'x\nsh: can'"'"'t create /etc/motd: Read-only file system')"
expect_eq "read-only root: the bind write reached the host" "$(cat "$WORK/vol/ro-root-ok" 2>&1)" y

# Directory bind mounts: read-write reaches the host, read-only refuses.
config '["sh", "-c", "cat /vol/sub/hostfile; echo from-the-container > /vol/new; mkdir /vol/d; cat /mnt/ro/file; (echo x > /mnt/ro/file) 2>&1; ls /mnt/ro"]'
out=$("${R[@]}" run --bundle "$B" c-binds 2>&1)
expect_eq "bind mounts: output" "$out" "$(printf 'from-the-host\nread-only\nsh: can'"'"'t create /mnt/ro/file: Read-only file system\nfile')"
expect_eq "rw bind mount: the host sees the write" "$(cat "$WORK/vol/new" 2>&1)" from-the-container
[ -d "$WORK/vol/d" ] || fail "rw bind mount: mkdir reached the host"
expect_eq "ro bind mount: the host file is unchanged" "$(cat "$WORK/ro/file")" read-only
expect_eq "run leaves no state" "$("${R[@]}" list -q)" ""

# The process is pid 1: like a pid namespace's init it ignores signals it
# has no handler for, even SIGKILL, when they come from inside.
config '["sh", "-c", "kill -9 $$; echo survived"]'
out=$("${R[@]}" run --bundle "$B" c-init 2>&1)
expect_eq "pid 1 survives its own SIGKILL" "$?/$out" "0/survived"

# Killed from outside: run reports 128+9.
config '["sh", "-c", "while true; do sleep 0.1; done"]'
"${R[@]}" run --bundle "$B" c-killed >/dev/null 2>&1 &
run_pid=$!
wait_state c-killed running
"${R[@]}" kill c-killed TERM
sleep 0.3
expect_eq "SIGTERM without a handler does not stop pid 1" "$(state_of c-killed)" running
"${R[@]}" kill c-killed KILL
wait "$run_pid"
expect_eq "killed container status" "$?" 137

# --- create / start / state / kill / delete ----------------------------------
config '["sh", "-c", "trap \"echo got-term; exit 3\" TERM; echo started; while true; do sleep 0.1; done"]'
"${R[@]}" create --bundle "$B" --pid-file "$WORK/pid" c1 >"$WORK/c1.out" 2>&1
expect_eq "create" "$?" 0
expect_eq "state after create" "$(state_of c1)" created
expect_eq "pid file is the state's pid" "$(cat "$WORK/pid")" "$(pid_of c1)"
"${R[@]}" create --bundle "$B" c1 >/dev/null 2>&1
expect_eq "create of an existing id fails" "$?" 1
expect_eq "created container has not run yet" "$(cat "$WORK/c1.out")" ""
"${R[@]}" start c1
expect_eq "start" "$?" 0
expect_eq "state after start" "$(state_of c1)" running
"${R[@]}" start c1 >/dev/null 2>&1
expect_eq "second start fails" "$?" 1
for _ in $(seq 50); do grep -q started "$WORK/c1.out" && break; sleep 0.1; done
expect_eq "the program runs" "$(head -1 "$WORK/c1.out")" started
"${R[@]}" delete c1 >/dev/null 2>&1
expect_eq "delete of a running container fails" "$?" 1

# exec: a second process in the running container.
out=$("${R[@]}" exec c1 sh -c 'echo $GREETING $EXTRA; pwd; id -u; echo $$ $PPID; cat /proc/1/cmdline | wc -c; exit 4' 2>&1)
expect_eq "exec: exit status" "$?" 4
expect_eq "exec: output" "$(echo "$out" | head -3)" "$(printf 'hello\n/\n0')"
read -r epid eppid < <(echo "$out" | sed -n 4p)
[ "$epid" -gt 1 ] && [ "$eppid" = 0 ] || fail "exec: pid $epid ppid $eppid (want >1 and 0: no parent inside)"
[ "$(echo "$out" | sed -n 5p)" -gt 0 ] || fail "exec: sees the container's pid 1"
out=$("${R[@]}" exec --cwd /etc --env EXTRA=more --user 1000:1000 c1 sh -c 'echo $EXTRA; pwd; id -u; id -g')
expect_eq "exec: --cwd --env --user" "$out" "$(printf 'more\n/etc\n1000\n1000')"
echo '{"args": ["sh", "-c", "echo from-process-json; exit 2"], "cwd": "/bin", "env": ["PATH=/bin"]}' > "$WORK/process.json"
out=$("${R[@]}" exec --process "$WORK/process.json" c1)
expect_eq "exec --process" "$?/$out" "2/from-process-json"
"${R[@]}" exec c1 /bin/no-such-program >/dev/null 2>&1
expect_eq "exec: missing program" "$?" 127
"${R[@]}" exec -d --pid-file "$WORK/exec.pid" c1 sh -c 'sleep 0.3; exit 6'
expect_eq "exec -d" "$?" 0
epid=$(cat "$WORK/exec.pid")
while kill -0 "$epid" 2>/dev/null && [ "$(awk '{print $3}' /proc/$epid/stat 2>/dev/null)" != Z ]; do sleep 0.05; done
# The pid-file process is not our child: check that it ended, not its status.
kill -0 "$epid" 2>/dev/null && [ "$(awk '{print $3}' /proc/$epid/stat 2>/dev/null)" != Z ] \
  && fail "exec -d: the pid-file process outlived the exec'd process"
echo -n in | "${R[@]}" exec -e X=1 c1 sh -c 'cat; echo' > "$WORK/exec.out"
expect_eq "exec: stdin passes through" "$(cat "$WORK/exec.out")" in
"${R[@]}" kill c1 TERM
expect_eq "kill TERM" "$?" 0
wait_state c1 stopped
expect_eq "state after the program exits" "$(state_of c1)" stopped
expect_eq "the program saw SIGTERM" "$(tail -1 "$WORK/c1.out")" got-term
"${R[@]}" kill c1 KILL >/dev/null 2>&1
expect_eq "kill of a stopped container fails" "$?" 1
"${R[@]}" exec c1 true >/dev/null 2>&1
expect_eq "exec in a stopped container fails" "$?" 1
sentry=$(cat "$WORK/pid")
"${R[@]}" delete c1
expect_eq "delete" "$?" 0
"${R[@]}" state c1 >/dev/null 2>&1
expect_eq "state of a deleted container fails" "$?" 1

# delete --force of a running container, and kill of a created one.
"${R[@]}" create --bundle "$B" c2 >/dev/null 2>&1 && "${R[@]}" start c2
p2=$(pid_of c2)
"${R[@]}" delete --force c2
expect_eq "delete --force" "$?" 0
sleep 0.2
if kill -0 "$p2" 2>/dev/null && [ "$(awk '{print $3}' /proc/$p2/stat)" != Z ]; then
  fail "the sandbox of c2 still runs after delete --force"
fi
"${R[@]}" create --bundle "$B" c3 >/dev/null 2>&1
"${R[@]}" kill c3 KILL
wait_state c3 stopped
expect_eq "kill of a created container stops it" "$(state_of c3)" stopped
"${R[@]}" delete c3

# --- linux.seccomp: the profile is compiled on the host, the Sentry runs it ----
seccomp_config() {  # args-json seccomp-json
  config "$1"
  python3 -c "import json,sys; c=json.load(open(sys.argv[1])); c.setdefault('linux', {})['seccomp']=json.loads(sys.argv[2]); c['process']['noNewPrivileges']=True; json.dump(c,open(sys.argv[1],'w'))" "$B/config.json" "$2"
}
DENY_MKDIR='{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
  "syscalls": [{"names": ["mkdir", "mkdirat", "no_such_syscall"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
               {"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
                "args": [{"index": 1, "value": 511, "op": "SCMP_CMP_EQ"}]},
               {"names": ["fchmodat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
                "args": [{"index": 2, "value": 511, "op": "SCMP_CMP_EQ"}]}]}'
seccomp_config '["sh", "-c", "mkdir /data/d 2>&1; echo $?; echo x > /data/f && cat /data/f; chmod 777 /data/f 2>&1; chmod 700 /data/f && echo chmod-700-ok; grep Seccomp: /proc/self/status"]' "$DENY_MKDIR"
out=$("${R[@]}" run --bundle "$B" c-seccomp 2>&1)
expect_eq "seccomp: mkdir fails with EPERM, the rest works" "$out" \
  "$(printf "mkdir: can't create directory '/data/d': Operation not permitted\n1\nx\nchmod: /data/f: Permission denied\nchmod-700-ok\nSeccomp:\t2")"
seccomp_config '["sh", "-c", "while true; do sleep 0.1; done"]' "$DENY_MKDIR"
"${R[@]}" create --bundle "$B" c-seccomp2 >/dev/null 2>&1 && "${R[@]}" start c-seccomp2
out=$("${R[@]}" exec c-seccomp2 sh -c 'mkdir /tmp/d 2>&1; echo $?' 2>&1)
expect_eq "seccomp: exec'd processes get the profile too" "$out" \
  "$(printf "mkdir: can't create directory '/tmp/d': Operation not permitted\n1")"
"${R[@]}" delete --force c-seccomp2 >/dev/null 2>&1
seccomp_config '["true"]' '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}'
"${R[@]}" create --bundle "$B" c-notify >/dev/null 2>"$WORK/err"
expect_eq "seccomp: SCMP_ACT_NOTIFY is refused at create" "$?" 1
grep -q "SCMP_ACT_NOTIFY is not supported" "$WORK/err" || fail "the NOTIFY error says why: $(cat "$WORK/err")"
KILL_MKDIR='{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL_PROCESS"}]}'
seccomp_config '["sh", "-c", "mkdir /data/d; echo status $?; exec mkdir /data/d"]' "$KILL_MKDIR"
out=$("${R[@]}" run --bundle "$B" c-seccomp-kill 2>/dev/null)
expect_eq "seccomp: KILL_PROCESS kills with SIGSYS, pid 1 too" "$?/$out" "159/status 159"

# --- bad input ----------------------------------------------------------------
"${R[@]}" create --bundle "$WORK/nowhere" c4 >/dev/null 2>&1
expect_eq "missing bundle" "$?" 1
"${R[@]}" --log "$WORK/log.json" --log-format json create --bundle "$WORK/nowhere" c4 >/dev/null 2>&1
grep -q '"level":"error".*"msg":"bundle .*nowhere' "$WORK/log.json" \
  || fail "the JSON log holds the error: $(cat "$WORK/log.json" 2>&1)"
# A sandbox that cannot come up: create reports it and leaves nothing.
echo '{"process": {"args": ["true"]}, "root": {"path": "rootfs"},
       "mounts": [{"destination": "/etc/motd/below-a-file", "type": "tmpfs"}]}' > "$B/config.json"
"${R[@]}" create --bundle "$B" c-bad >/dev/null 2>"$WORK/err"
expect_eq "create of a sandbox that fails to boot" "$?" 1
grep -q "failed to start" "$WORK/err" || fail "create says the sandbox failed: $(cat "$WORK/err")"
expect_eq "a failed create leaves no state" "$("${R[@]}" list -q)" ""
echo '{"process": {"args": []}, "root": {"path": "rootfs"}}' > "$B/config.json"
"${R[@]}" create --bundle "$B" c5 >/dev/null 2>"$WORK/err"
expect_eq "empty args" "$?" 1
grep -q "process.args" "$WORK/err" || fail "empty args error names the field: $(cat "$WORK/err")"
"${R[@]}" create --bundle "$B" "../escape" >/dev/null 2>&1
expect_eq "an id with a slash" "$?" 1
expect_eq "no container left" "$("${R[@]}" list -q)" ""

# spec writes a config.json this runtime (and runc) can run; it refuses
# to overwrite one; features is JSON.
S=$WORK/specbundle
mkdir -p "$S"
cp -a "$B/rootfs" "$S/rootfs"
"${R[@]}" spec --bundle "$S"
expect_eq "spec" "$?" 0
"${R[@]}" spec --bundle "$S" >/dev/null 2>&1
expect_eq "spec refuses to overwrite" "$?" 1
python3 -c "import json,sys; c=json.load(open(sys.argv[1])); c['process']['args']=['echo','from-spec']; json.dump(c,open(sys.argv[1],'w'))" "$S/config.json"
expect_eq "run of a spec-made bundle" "$("${R[@]}" run --bundle "$S" c-spec 2>&1)" from-spec
expect_eq "features" "$("${R[@]}" features | python3 -c 'import json,sys; print(json.load(sys.stdin)["ociVersionMax"])')" 1.0.2

# --- cgroups: the spec's limits, pause/resume, ps, events ---------------------
if [ -d /sys/fs/cgroup/freezer ] || [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  config '["sh", "-c", "echo started; while true; do sleep 0.1; done"]'
  CG="/runsc-test/lifecycle-$PLATFORM-$$"
  python3 - "$B/config.json" "$CG" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["linux"] = {"cgroupsPath": sys.argv[2],
              "resources": {"memory": {"limit": 805306368},
                            "cpu": {"quota": 150000, "period": 100000},
                            "pids": {"limit": 512}}}
json.dump(c, open(sys.argv[1], "w"))
PY
  "${R[@]}" create --bundle "$B" c-cg >/dev/null 2>&1
  expect_eq "create with a cgroupsPath" "$?" 0
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    expect_eq "memory limit" "$(cat /sys/fs/cgroup$CG/memory.max)" 805306368
    expect_eq "cpu quota" "$(cat /sys/fs/cgroup$CG/cpu.max)" "150000 100000"
    expect_eq "pids limit" "$(cat /sys/fs/cgroup$CG/pids.max)" 512
  else
    expect_eq "memory limit" "$(cat /sys/fs/cgroup/memory$CG/memory.limit_in_bytes)" 805306368
    expect_eq "cpu quota" "$(cat /sys/fs/cgroup/cpu$CG/cpu.cfs_quota_us)" 150000
    expect_eq "pids limit" "$(cat /sys/fs/cgroup/pids$CG/pids.max)" 512
  fi
  sentry_pid=$(pid_of c-cg)
  expect_eq "ps lists the sandbox's processes" \
    "$("${R[@]}" ps --format json c-cg | python3 -c "import json,sys; print($sentry_pid in json.load(sys.stdin))")" True
  "${R[@]}" start c-cg
  wait_state c-cg running
  "${R[@]}" pause c-cg
  expect_eq "pause" "$?/$(state_of c-cg)" 0/paused
  "${R[@]}" pause c-cg >/dev/null 2>&1
  expect_eq "pause of a paused container fails" "$?" 1
  "${R[@]}" resume c-cg
  expect_eq "resume" "$?/$(state_of c-cg)" 0/running
  "${R[@]}" resume c-cg >/dev/null 2>&1
  expect_eq "resume of a running container fails" "$?" 1
  expect_eq "events --stats" "$("${R[@]}" events --stats c-cg | python3 -c 'import json,sys; e=json.load(sys.stdin); print(e["type"], e["data"]["memory"]["usage"]["usage"] > 0, e["data"]["pids"]["current"] > 0)')" "stats True True"
  # A paused container can still be deleted.
  "${R[@]}" pause c-cg
  "${R[@]}" delete -f c-cg
  expect_eq "delete of a paused container" "$?" 0
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then cgdir=/sys/fs/cgroup$CG; else cgdir=/sys/fs/cgroup/memory$CG; fi
  [ ! -d "$cgdir" ] || fail "the cgroup was removed with the container"
  rmdir /sys/fs/cgroup/*/runsc-test /sys/fs/cgroup/runsc-test 2>/dev/null
else
  echo "skip: no cgroup freezer here"
fi

# Nothing of ours left running (sentry or gofer of these containers).
sleep 0.2
# (Other sandboxes may run on this machine: look only at ours.)
left=$(pgrep -f "runsc .*gofer --root=$B" || true)
for pid in $sentry $p2; do
  if kill -0 "$pid" 2>/dev/null && [ "$(awk '{print $3}' /proc/$pid/stat 2>/dev/null)" != Z ]; then
    left="$left $pid"
  fi
done
[ -z "$left" ] || fail "processes left running: $left"

if [ "$failures" -ne 0 ]; then echo "$failures failure(s)"; exit 1; fi
echo "all OCI lifecycle checks passed"
