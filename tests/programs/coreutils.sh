# Dynamically linked coreutils over the (read-only) host tree and /tmp.
set -e
d=$(mktemp -d)
ls -la /usr/share/common-licenses | awk '{print $1, $3, $4, $5, $9}'
cat /etc/os-release
sort -r /etc/services | head -20
sha256sum /usr/bin/ls /etc/passwd | awk '{print $1}'
find /usr/include/linux -name '*.h' | sort | head -50
find /usr/include/linux -type f | wc -l
cp -r /usr/include/linux "$d/linux"
tar -C "$d" -czf "$d/l.tgz" linux
mkdir "$d/out"
tar -C "$d/out" -xzf "$d/l.tgz"
diff -r "$d/linux" "$d/out/linux" && echo "tar+gzip round trip ok"
gzip -c /etc/services | gunzip | cmp - /etc/services && echo "gzip ok"
wc -l /etc/services
seq 1 1000 | paste -sd+ | bc 2>/dev/null || seq 1 1000 | awk '{s+=$1} END {print s}'
ln -s "$d/linux" "$d/link"; readlink "$d/link" | sed "s|$d|D|"
stat -c '%F %s' "$d/l.tgz" | cut -d' ' -f1-2
rm -rf "$d"
echo done
# tail -f follows a file on tmpfs with inotify (on overlayfs it polls).
f=$(mktemp -p /dev/shm)
echo one > "$f"
timeout 1 tail -f "$f" > "$f.out" &
sleep 0.3
echo two >> "$f"
sleep 0.3
echo three >> "$f"
wait
cat "$f.out"
rm -f "$f" "$f.out"
