// Moving data between descriptors without user buffers: splice(2),
// tee(2), vmsplice(2), copy_file_range(2), and sync_file_range(2).
//
// The Sentry copies through its own buffer (64 KiB a round); what matters
// to programs is the semantics: which ends must be pipes, which offsets
// are allowed, what blocks, and that no byte is lost or duplicated.
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>

#include <optional>
#include <vector>

#include "fs/pipe/pipe.h"
#include "fs/vfs/iosequence.h"
#include "syscalls/handlers.h"
#include "syscalls/util.h"

namespace sentry::sys {
namespace {

constexpr size_t kChunk = 1 << 16;
constexpr uint64_t kSpliceFlags = SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE | SPLICE_F_GIFT;

// An optional loff_t* argument; a negative one is `negative_errno`.
ErrorOr<std::optional<int64_t>> CopyInOffset(Task& t, uint64_t addr, int negative_errno = EINVAL) {
  if (addr == 0) return std::optional<int64_t>();
  int64_t off;
  TRY(t.CopyIn(UserPtr<int64_t>(addr), &off));
  if (off < 0) return Err(negative_errno);
  return std::optional<int64_t>(off);
}

// Waits until `f` is ready for `events` (or reports EAGAIN when it must
// not wait).
Errno WaitReady(Task& t, vfs::FileDescription* f, uint32_t events, bool nonblock) {
  auto ready = [&]() -> SysRet {
    if (f->Readiness(events | POLLHUP | POLLERR) != 0) return 0;
    return SysRet::Err(EAGAIN);
  };
  if (nonblock || f->nonblocking()) return ready().ok() ? 0 : EAGAIN;
  SysRet r = t.BlockOnFile(f, events, ready);
  return r.ok() ? 0 : r.error();
}

// Reads from a non-pipe source at `off` (its position when unset) at most
// `n` bytes, without moving a file position yet.
SysRet ReadSource(Task& t, vfs::FileDescription* f, std::optional<int64_t> off,
                  std::vector<uint8_t>& buf, size_t n, bool nonblock) {
  buf.resize(n);
  BufferIOSequence io(buf.data(), n);
  if (off) return DoRead(t, f, io, *off, nonblock);
  if (f->seekable()) {
    // Seek(0, SEEK_CUR) rather than pos(): host-backed files keep their
    // position themselves.
    int64_t pos = TRY_ASSIGN(f->Seek(0, SEEK_CUR));
    return DoRead(t, f, io, pos, nonblock);
  }
  return DoRead(t, f, io, -1, nonblock);
}

// Moves a source's position past what was consumed (the reads above were
// positional for seekable files).
void Advance(vfs::FileDescription* f, std::optional<int64_t>& off, int64_t n) {
  if (off) {
    *off += n;
  } else if (f->seekable()) {
    (void)f->Seek(n, SEEK_CUR);
  }
}

}  // namespace

SysRet Splice(Task& t, const SyscallArgs& a) {
  uint64_t len = std::min(a[4], kMaxRwCount);
  uint64_t flags = a[5];
  if (flags & ~kSpliceFlags) return SysRet::Err(EINVAL);
  FilePtr in = TRY_ASSIGN(GetIOFile(t, static_cast<int>(a[0])));
  FilePtr out = TRY_ASSIGN(GetIOFile(t, static_cast<int>(a[2])));
  if (!in->readable() || !out->writable()) return SysRet::Err(EBADF);
  // do_splice: O_NONBLOCK on either end makes the whole call non-blocking.
  const bool nonblock = (flags & SPLICE_F_NONBLOCK) || in->nonblocking() || out->nonblocking();
  vfs::Pipe* pin = vfs::AsPipe(in.get());
  vfs::Pipe* pout = vfs::AsPipe(out.get());
  if (pin == nullptr && pout == nullptr) return SysRet::Err(EINVAL);
  if ((pin && a[1] != 0) || (pout && a[3] != 0)) return SysRet::Err(ESPIPE);
  if (pin != nullptr && pin == pout) return SysRet::Err(EINVAL);
  if (!pout && (out->flags() & O_APPEND)) return SysRet::Err(EINVAL);
  std::optional<int64_t> off_in = TRY_ASSIGN(CopyInOffset(t, a[1]));
  std::optional<int64_t> off_out = TRY_ASSIGN(CopyInOffset(t, a[3]));
  if (len == 0) return 0;
  std::vector<uint8_t> buf;
  int64_t moved = 0;
  if (pin != nullptr) {
    // From a pipe: the first byte may be waited for; the bytes taken are
    // then written out whole.
    if (pout != nullptr) TRY(WaitReady(t, out.get(), POLLOUT, nonblock));
    size_t n = std::min<uint64_t>(len, kChunk);
    if (pout != nullptr) n = std::min(n, std::max<size_t>(pout->Room(), 1));
    buf.resize(n);
    BufferIOSequence rio(buf.data(), n);
    SysRet r = DoRead(t, in.get(), rio, -1, nonblock);
    if (!r.ok() || r.value() == 0) return r;
    BufferIOSequence wio(buf.data(), static_cast<size_t>(r.value()));
    int64_t pos = off_out ? *off_out : -1;
    SysRet w = DoWrite(t, out.get(), wio, pos);
    if (!w.ok()) return w;
    moved = w.value();
    if (off_out) *off_out += moved;
  } else {
    // Into a pipe: as much as the pipe takes now (waiting for room first).
    TRY(WaitReady(t, out.get(), POLLOUT, nonblock));
    size_t n = std::min<uint64_t>({len, kChunk, std::max<size_t>(pout->Room(), 1)});
    SysRet r = ReadSource(t, in.get(), off_in, buf, n, nonblock);
    if (!r.ok() || r.value() == 0) return r;
    BufferIOSequence wio(buf.data(), static_cast<size_t>(r.value()));
    SysRet w = DoWrite(t, out.get(), wio, -1, /*nowait=*/true);
    if (!w.ok()) return w;
    moved = w.value();
    Advance(in.get(), off_in, moved);
  }
  if (off_in) TRY(t.CopyOut(UserPtr<int64_t>(a[1]), *off_in));
  if (off_out) TRY(t.CopyOut(UserPtr<int64_t>(a[3]), *off_out));
  return moved;
}

SysRet Tee(Task& t, const SyscallArgs& a) {
  uint64_t len = std::min(a[2], kMaxRwCount);
  if (a[3] & ~kSpliceFlags) return SysRet::Err(EINVAL);
  FilePtr in = TRY_ASSIGN(GetIOFile(t, static_cast<int>(a[0])));
  FilePtr out = TRY_ASSIGN(GetIOFile(t, static_cast<int>(a[1])));
  if (!in->readable() || !out->writable()) return SysRet::Err(EBADF);
  const bool nonblock = (a[3] & SPLICE_F_NONBLOCK) || in->nonblocking() || out->nonblocking();
  vfs::Pipe* pin = vfs::AsPipe(in.get());
  vfs::Pipe* pout = vfs::AsPipe(out.get());
  if (pin == nullptr || pout == nullptr || pin == pout) return SysRet::Err(EINVAL);
  if (len == 0) return 0;
  // Data to copy (or end of file), then room for it.
  auto has_data = [&]() -> SysRet {
    uint8_t b;
    BufferIOSequence probe(&b, 1);
    return pin->Peek(probe);
  };
  SysRet d = nonblock ? has_data() : t.BlockOnFile(in.get(), POLLIN, has_data);
  if (!d.ok() || d.value() == 0) return d;
  TRY(WaitReady(t, out.get(), POLLOUT, nonblock));
  std::vector<uint8_t> buf(std::min<uint64_t>({len, kChunk, std::max<size_t>(pout->Room(), 1)}));
  BufferIOSequence pio(buf.data(), buf.size());
  SysRet n = pin->Peek(pio);
  if (!n.ok() || n.value() == 0) return n;
  BufferIOSequence wio(buf.data(), static_cast<size_t>(n.value()));
  return DoWrite(t, out.get(), wio, -1, /*nowait=*/true);
}

SysRet Vmsplice(Task& t, const SyscallArgs& a) {
  if (a[3] & ~kSpliceFlags) return SysRet::Err(EINVAL);
  const bool nonblock = a[3] & SPLICE_F_NONBLOCK;
  FilePtr f = TRY_ASSIGN(GetIOFile(t, static_cast<int>(a[0])));
  if (vfs::AsPipe(f.get()) == nullptr) return SysRet::Err(EBADF);
  std::vector<IoVec> iovs = TRY_ASSIGN(CopyInIovecs(t, a[1], a[2]));
  UserIOSequence io(t.mm(), std::move(iovs));
  // Into the pipe from user memory, or (from the read end) out of it.
  if (f->writable()) return DoWrite(t, f.get(), io, -1, nonblock);
  if (f->readable()) return DoRead(t, f.get(), io, -1, nonblock);
  return SysRet::Err(EBADF);
}

SysRet CopyFileRange(Task& t, const SyscallArgs& a) {
  if (a[5] != 0) return SysRet::Err(EINVAL);
  FilePtr in = TRY_ASSIGN(GetIOFile(t, static_cast<int>(a[0])));
  FilePtr out = TRY_ASSIGN(GetIOFile(t, static_cast<int>(a[2])));
  if (!in->readable() || !out->writable() || (out->flags() & O_APPEND)) return SysRet::Err(EBADF);
  vfs::Attr ia = TRY_ASSIGN(in->Stat());
  vfs::Attr oa = TRY_ASSIGN(out->Stat());
  if (ia.IsDir() || oa.IsDir()) return SysRet::Err(EISDIR);
  if (!ia.IsRegular() || !oa.IsRegular()) return SysRet::Err(EINVAL);
  // Linux reports a negative offset here as an overflow.
  std::optional<int64_t> off_in = TRY_ASSIGN(CopyInOffset(t, a[1], EOVERFLOW));
  std::optional<int64_t> off_out = TRY_ASSIGN(CopyInOffset(t, a[3], EOVERFLOW));
  int64_t pin = off_in ? *off_in : TRY_ASSIGN(in->Seek(0, SEEK_CUR));
  int64_t pout = off_out ? *off_out : TRY_ASSIGN(out->Seek(0, SEEK_CUR));
  uint64_t len = std::min(a[4], kMaxRwCount);
  if (pin > INT64_MAX - static_cast<int64_t>(len) || pout > INT64_MAX - static_cast<int64_t>(len)) {
    return SysRet::Err(EOVERFLOW);
  }
  // The same file with overlapping ranges is refused.
  if (ia.dev == oa.dev && ia.ino == oa.ino && pin < pout + static_cast<int64_t>(len) &&
      pout < pin + static_cast<int64_t>(len)) {
    return SysRet::Err(EINVAL);
  }
  std::vector<uint8_t> buf(std::min<uint64_t>(len, 1 << 20));
  int64_t total = 0;
  while (static_cast<uint64_t>(total) < len) {
    size_t n = std::min<uint64_t>(buf.size(), len - static_cast<uint64_t>(total));
    BufferIOSequence rio(buf.data(), n);
    SysRet r = DoRead(t, in.get(), rio, pin + total);
    if (!r.ok()) {
      if (total > 0) break;
      return r;
    }
    if (r.value() == 0) break;
    BufferIOSequence wio(buf.data(), static_cast<size_t>(r.value()));
    SysRet w = DoWrite(t, out.get(), wio, pout + total);
    if (!w.ok()) {
      if (total > 0) break;
      return w;
    }
    total += w.value();
    if (w.value() < r.value()) break;
  }
  if (off_in) {
    TRY(t.CopyOut(UserPtr<int64_t>(a[1]), pin + total));
  } else {
    (void)in->Seek(pin + total, SEEK_SET);
  }
  if (off_out) {
    TRY(t.CopyOut(UserPtr<int64_t>(a[3]), pout + total));
  } else {
    (void)out->Seek(pout + total, SEEK_SET);
  }
  return total;
}

SysRet SyncFileRange(Task& t, const SyscallArgs& a) {
  int64_t off = static_cast<int64_t>(a[1]), n = static_cast<int64_t>(a[2]);
  uint64_t flags = a[3];
  constexpr uint64_t kKnown =
      SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;
  if (flags & ~kKnown) return SysRet::Err(EINVAL);
  if (off < 0 || n < 0 || off > INT64_MAX - n) return SysRet::Err(EINVAL);
  FilePtr f = TRY_ASSIGN(GetFile(t, static_cast<int>(a[0])));
  vfs::Attr attr = TRY_ASSIGN(f->Stat());
  if (!attr.IsRegular() && !attr.IsDir() && !S_ISBLK(attr.mode) && !S_ISLNK(attr.mode)) {
    return SysRet::Err(ESPIPE);
  }
  // Writing back is the file's business; a range flush is a whole flush.
  if (flags & SYNC_FILE_RANGE_WRITE) return f->Sync();
  return 0;
}

}  // namespace sentry::sys
