# python3: asyncio (epoll, socketpair self-pipe, subprocess), socketpair
# streams, multiprocessing with fork and a connection pipe.
/usr/bin/python3 - <<'END'
import asyncio, multiprocessing, selectors, socket
print(type(selectors.DefaultSelector()).__name__)
async def main():
    p = await asyncio.create_subprocess_exec("/bin/echo", "hi", stdout=asyncio.subprocess.PIPE)
    out, _ = await p.communicate()
    q = asyncio.Queue()
    async def prod():
        for i in range(3):
            await asyncio.sleep(0.01)
            await q.put(i)
    asyncio.ensure_future(prod())
    got = [await q.get() for _ in range(3)]
    return out.decode().strip(), await p.wait(), got
print(asyncio.run(main()))
a, b = socket.socketpair()
a.sendall(b"x" * 100000)
a.close()
n = 0
while True:
    d = b.recv(65536)
    if not d:
        break
    n += len(d)
print("socketpair bytes", n)
def work(c):
    c.send(sum(range(1000)))
    c.close()
if __name__ == "__main__":
    ctx = multiprocessing.get_context("fork")
    r, w = ctx.Pipe()
    pr = ctx.Process(target=work, args=(w,))
    pr.start()
    print("multiprocessing", r.recv())
    pr.join()
    print("exit", pr.exitcode)
END
