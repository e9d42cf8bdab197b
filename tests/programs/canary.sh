# Writes everywhere inside; the test driver checks the host is unchanged.
c=${CANARY:-/etc/sandbox-canary}
echo inside > "$c" && cat "$c"
echo changed >> /etc/hostname && tail -1 /etc/hostname
rm -f /etc/os-release && ls /etc/os-release 2>&1 | sed 's/.*: //'
mkdir -p /usr/sandbox-dir && touch /usr/sandbox-dir/f && ls /usr/sandbox-dir
