// Micro-benchmarks of the Sentry's hot paths, runnable without a sandbox:
// syscall dispatch, copy-in/out, path walk, tmpfs I/O, futex wake and the
// MemoryFile allocator.
#include <fcntl.h>
#include <sys/syscall.h>

#include "benchmark/benchmark.h"
#include "fs/tmpfs/tmpfs.h"
#include "fs/vfs/iosequence.h"
#include "fs/vfs/vfs.h"
#include "sentry/kernel/futex.h"
#include "sentry/mm/memory_file.h"
#include "sentry/mm/mm.h"
#include "syscalls/table.h"

namespace sentry {
namespace {

MemoryFile* Mf() {
  static MemoryFile* mf = MemoryFile::Create(1ull << 36)->release();
  return mf;
}

void BM_SyscallTableLookup(benchmark::State& state) {
  uint64_t nr = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(LookupSyscall(nr));
    nr = (nr + 1) % 450;
  }
}
BENCHMARK(BM_SyscallTableLookup);

struct MmFixture {
  MmFixture() : mm(nullptr, Mf()) {
    MMapOpts o;
    o.length = 1 << 20;
    o.prot = PROT_READ | PROT_WRITE;
    mm.SetMmapBase(0x7f0000000000);
    addr = *mm.MMap(o);
    std::vector<uint8_t> z(1 << 20, 1);
    (void)mm.CopyOut(addr, z.data(), z.size());  // populate
  }
  MemoryManager mm;
  UserAddr addr;
};

void BM_CopyOut(benchmark::State& state) {
  MmFixture f;
  std::vector<uint8_t> buf(static_cast<size_t>(state.range(0)), 7);
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.mm.CopyOut(f.addr, buf.data(), buf.size()));
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_CopyOut)->Arg(8)->Arg(4096)->Arg(65536);

void BM_CopyIn(benchmark::State& state) {
  MmFixture f;
  std::vector<uint8_t> buf(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.mm.CopyIn(f.addr, buf.data(), buf.size()));
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_CopyIn)->Arg(8)->Arg(4096)->Arg(65536);

void BM_CopyInString(benchmark::State& state) {
  MmFixture f;
  const char path[] = "/usr/lib/x86_64-linux-gnu/libc.so.6";
  (void)f.mm.CopyOut(f.addr, path, sizeof(path));
  for (auto _ : state) benchmark::DoNotOptimize(f.mm.CopyInString(f.addr, 4096));
}
BENCHMARK(BM_CopyInString);

struct FsFixture {
  FsFixture() {
    fs = tmpfs::NewTmpfs(Mf(), tmpfs::TmpfsOptions{});
    vfs.SetRoot(vfs.NewMount(fs, tmpfs::TmpfsRoot(fs.get()), 0, "tmpfs"));
    ctx.root = ctx.cwd = vfs.Root();
    std::string p;
    for (const char* d : {"usr", "lib", "x86_64-linux-gnu", "deep"}) {
      p += "/";
      p += d;
      (void)vfs.Mkdir(ctx, ctx.root, p, 0755);
    }
    file = p + "/file.so";
    auto f = vfs.Open(ctx, ctx.root, file, O_CREAT | O_RDWR, 0644);
    fd = *f;
  }
  std::shared_ptr<vfs::Filesystem> fs;
  vfs::VFS vfs;
  vfs::PathContext ctx;
  std::string file;
  std::shared_ptr<vfs::FileDescription> fd;
};

void BM_PathWalk(benchmark::State& state) {
  FsFixture f;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.vfs.Resolve(f.ctx, f.ctx.root, f.file, vfs::kFollow));
  }
}
BENCHMARK(BM_PathWalk);

void BM_OpenClose(benchmark::State& state) {
  FsFixture f;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.vfs.Open(f.ctx, f.ctx.root, f.file, O_RDONLY, 0));
  }
}
BENCHMARK(BM_OpenClose);

void BM_TmpfsWrite(benchmark::State& state) {
  FsFixture f;
  std::vector<uint8_t> buf(static_cast<size_t>(state.range(0)), 3);
  int64_t off = 0;
  for (auto _ : state) {
    BufferIOSequence io(buf.data(), buf.size());
    benchmark::DoNotOptimize(f.fd->PWrite(nullptr, io, off));
    off = (off + state.range(0)) % (64 << 20);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_TmpfsWrite)->Arg(4096)->Arg(1 << 20);

void BM_TmpfsRead(benchmark::State& state) {
  FsFixture f;
  std::vector<uint8_t> buf(static_cast<size_t>(state.range(0)), 3);
  for (int64_t off = 0; off < (16 << 20); off += state.range(0)) {
    BufferIOSequence io(buf.data(), buf.size());
    (void)f.fd->PWrite(nullptr, io, off);
  }
  int64_t off = 0;
  for (auto _ : state) {
    BufferIOSequence io(buf.data(), buf.size());
    benchmark::DoNotOptimize(f.fd->PRead(nullptr, io, off));
    off = (off + state.range(0)) % (16 << 20);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_TmpfsRead)->Arg(4096)->Arg(1 << 20);

void BM_FutexWakeNoWaiters(benchmark::State& state) {
  Futexes fx;
  FutexKey k{reinterpret_cast<void*>(1), 0x1000};
  for (auto _ : state) benchmark::DoNotOptimize(fx.WakeKey(k, ~0u, 1));
}
BENCHMARK(BM_FutexWakeNoWaiters);

void BM_MemoryFileAllocFree(benchmark::State& state) {
  uint64_t len = static_cast<uint64_t>(state.range(0));
  for (auto _ : state) {
    auto off = Mf()->Allocate(len);
    Mf()->DecRef({*off, *off + len});
  }
}
BENCHMARK(BM_MemoryFileAllocFree)->Arg(4096)->Arg(2 << 20);

}  // namespace
}  // namespace sentry

BENCHMARK_MAIN();
