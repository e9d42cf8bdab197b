# Pseudo-terminals with real programs: util-linux script(1) and python3's
# pty module run commands on a pty; stty, tty and an interactive shell see
# a terminal. Output that names the pty number is normalised (the host may
# have other ptys open).
norm() { sed -e 's|/dev/pts/[0-9]*|/dev/pts/N|g' -e 's/\r$//'; }
script -qec 'tty; stty -a | head -1; stty size; test -t 0 && echo stdin-is-a-tty' /dev/null </dev/null | norm
script -qec 'stty rows 30 cols 100; stty size' /dev/null </dev/null | norm
echo "exit: $(script -qec 'exit 7' /dev/null </dev/null >/dev/null; echo $?)"
/usr/bin/python3 - <<'END' | norm
import os, pty, sys, termios, signal, time, select, struct, fcntl
def read_all(fd, until=b"", timeout=5.0):
    out = b""
    end = time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], max(0, end - time.time()))
        if not r:
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
        if until and until in out:
            break
    return out
m, s = os.openpty()
print("isatty", os.isatty(m), os.isatty(s), os.ttyname(s))
attrs = termios.tcgetattr(s)
print("icanon", bool(attrs[3] & termios.ICANON), "echo", bool(attrs[3] & termios.ECHO))
os.write(m, b"hello\r")
print("line", os.read(s, 100))
print("echo", read_all(m, b"\r\n"))
fcntl.ioctl(m, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
print("winsize", struct.unpack("HHHH", fcntl.ioctl(s, termios.TIOCGWINSZ, b"\0" * 8)))
os.close(s)
os.close(m)
# pty.fork: the child runs on the pty as a session leader with it as its
# controlling terminal; ^C interrupts it.
pid, fd = pty.fork()
if pid == 0:
    print("child tty", os.ttyname(0), "sid==pid", os.getsid(0) == os.getpid(),
          "fg", os.tcgetpgrp(0) == os.getpgrp())
    sys.stdout.flush()
    line = sys.stdin.readline()
    print("got", repr(line))
    sys.stdout.flush()
    # KeyboardInterrupt ends the loop and python re-raises SIGINT; pause()
    # would miss a ^C that came before it.
    while True:
        time.sleep(0.05)
def lines(b):
    # Output comes in pieces (a line and its newline may be read apart).
    return "\n".join(l for l in b.decode().replace("\r", "").splitlines() if l)
print(lines(read_all(fd, b"fg True")))
os.write(fd, b"typed text\n")
print(lines(read_all(fd, b"got 'typed text\\n'")))
os.write(fd, b"\x03")
_, st = os.waitpid(pid, 0)
print("child signalled", os.WIFSIGNALED(st), os.WTERMSIG(st) == signal.SIGINT)
os.close(fd)
END
# An interactive shell on a pty, driven through it: job control works.
/usr/bin/python3 - <<'END' | norm
import os, pty, time, select
pid, fd = pty.fork()
if pid == 0:
    os.execv("/bin/sh", ["sh", "-i"])
def expect(marker, timeout=10.0):
    out = b""
    end = time.time() + timeout
    while marker not in out and time.time() < end:
        r, _, _ = select.select([fd], [], [], max(0, end - time.time()))
        if not r:
            break
        try:
            c = os.read(fd, 4096)
        except OSError:
            break
        if not c:
            break
        out += c
    return out
# Markers are typed split ("RE""ADY") so that their echo does not match.
os.write(fd, b"PS1='$ '; echo RE\"\"ADY\n")
expect(b"READY\r\n")
os.write(fd, b"tty; echo do\"\"ne1\n")
print("tty:", [l[l.index("/dev/"):] for l in expect(b"done1\r\n").decode().replace("\r", "").splitlines()
               if "/dev/" in l])
os.write(fd, b"sleep 30\n")
time.sleep(1)  # until sleep runs in the foreground
os.write(fd, b"\x03")
os.write(fd, b"echo after in\"\"terrupt $?\n")
print("interrupted:", b"after interrupt 130" in expect(b"after interrupt 130"))
os.write(fd, b"exit 3\n")
_, st = os.waitpid(pid, 0)
print("shell exit", os.WEXITSTATUS(st))
END
