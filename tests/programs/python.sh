# python3: threads, subprocess, json, hashlib, os, signals.
/usr/bin/python3 - <<'END'
import hashlib, json, os, signal, subprocess, sys, threading, tempfile
results = []
lock = threading.Lock()
def work(n):
    h = hashlib.sha256(str(n).encode()).hexdigest()
    with lock:
        results.append((n, h[:8]))
threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print(sorted(results))
out = subprocess.run(["sh", "-c", "echo from child; exit 5"], capture_output=True, text=True)
print(repr(out.stdout), out.returncode)
p = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
print(p.communicate(b"piped data")[0])
print(json.dumps({"a": [1, 2, {"b": None}], "c": "d"}, sort_keys=True))
d = tempfile.mkdtemp()
with open(os.path.join(d, "f"), "w") as f: f.write("x" * 10000)
print(os.path.getsize(os.path.join(d, "f")), sorted(os.listdir(d)))
got = []
signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
os.kill(os.getpid(), signal.SIGUSR1)
print("signal", got)
print(hashlib.md5(open("/etc/services", "rb").read()).hexdigest())
r, w = os.pipe()
if os.fork() == 0:
    os.write(w, b"forked"); os._exit(9)
pid, st = os.wait()
print(os.read(r, 10), os.WEXITSTATUS(st))
END
