# python3: Unix domain sockets by name: a threaded socketserver on a path,
# an asyncio server on an abstract name, datagrams, passing a file
# descriptor (socket.send_fds), and a multiprocessing Manager, whose
# server process answers on a Unix socket.
/usr/bin/python3 - <<'END'
import asyncio, multiprocessing, os, socket, socketserver, tempfile, threading
d = tempfile.mkdtemp()
path = os.path.join(d, "srv.sock")

class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(line.upper())

srv = socketserver.ThreadingUnixStreamServer(path, Echo)
threading.Thread(target=srv.serve_forever, daemon=True).start()
for i in range(3):
    with socket.socket(socket.AF_UNIX) as c:
        c.connect(path)
        f = c.makefile("rwb")
        f.write(b"hello %d\n" % i)
        f.flush()
        print(f.readline().decode().strip())
        f.close()
srv.shutdown()
srv.server_close()
print("is socket", os.path.exists(path))

async def amain():
    name = "\0pyabstract-%d" % os.getpid()
    async def handle(r, w):
        data = await r.read(100)
        w.write(data[::-1])
        await w.drain()
        w.close()
    server = await asyncio.start_unix_server(handle, name)
    r, w = await asyncio.open_unix_connection(name)
    w.write(b"abcdef")
    await w.drain()
    print("asyncio", (await r.read(100)).decode())
    w.close()
    server.close()
    await server.wait_closed()
asyncio.run(amain())

a = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
a.bind(os.path.join(d, "a"))
b = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
b.bind(os.path.join(d, "b"))
for m in (b"one", b"two", b"three"):
    b.sendto(m, os.path.join(d, "a"))
for _ in range(3):
    data, addr = a.recvfrom(100)
    print("dgram", data.decode(), os.path.basename(addr))

x, y = socket.socketpair()
r, w = os.pipe()
socket.send_fds(x, [b"fd"], [w])
os.close(w)
msg, fds, flags, _ = socket.recv_fds(y, 10, 1)
os.write(fds[0], b"through a passed fd")
os.close(fds[0])
print(msg.decode(), os.read(r, 100).decode())

if __name__ == "__main__":
    with multiprocessing.Manager() as m:
        l = m.list([1, 2])
        l.append(3)
        print("manager", list(l))
    import shutil
    shutil.rmtree(d)
END
