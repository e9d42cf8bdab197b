# python3 over TCP/UDP on the loopback: http.server in a thread fetched with
# urllib, an asyncio stream echo server, a UDP exchange, and IPv6 ::1.
/usr/bin/python3 - <<'END'
import asyncio, hashlib, http.server, socket, threading, urllib.request

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("path=%s\n" % self.path).encode() * 2000
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass

srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=srv.serve_forever, daemon=True).start()
port = srv.server_address[1]
for path in ("/", "/a/b?c=d"):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path)) as r:
        data = r.read()
        print(r.status, r.headers["Content-Type"], len(data), hashlib.sha256(data).hexdigest()[:16])
srv.shutdown()
srv.server_close()

async def echo(reader, writer):
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()

async def main():
    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    payload = bytes(range(256)) * 4096
    writer.write(payload)
    await writer.drain()
    writer.write_eof()
    got = b""
    while chunk := await reader.read(65536):
        got += chunk
    writer.close()
    server.close()
    await server.wait_closed()
    return len(got), got == payload

print("asyncio echo", asyncio.run(main()))

u1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u1.bind(("127.0.0.1", 0))
u2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u2.sendto(b"ping", u1.getsockname())
data, addr = u1.recvfrom(100)
u1.sendto(b"pong:" + data, addr)
print("udp", u2.recvfrom(100)[0])

s6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s6.bind(("::1", 0))
s6.listen()
c6 = socket.create_connection(("::1", s6.getsockname()[1]))
a6, peer = s6.accept()
c6.sendall(b"over ipv6")
print("ipv6", a6.recv(100), peer[0])
try:
    socket.create_connection(("127.0.0.1", 1), timeout=5)
except ConnectionRefusedError as e:
    print("refused", e.errno)
END
