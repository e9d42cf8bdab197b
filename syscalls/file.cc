// read/write, open/close, dup, fcntl, ioctl, getdents: the fd-based I/O.
#include <linux/openat2.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <cstring>
#include <optional>

#include "fs/pipe/pipe.h"
#include "fs/vfs/iosequence.h"
#include "sentry/base/log.h"
#include "syscalls/handlers.h"
#include "syscalls/util.h"

namespace sentry::sys {
namespace {

// Where a read or write happens, besides an offset >= 0.
constexpr int64_t kFilePosition = -1;  // the descriptor's position (O_APPEND: the end)
constexpr int64_t kAppendOnly = -2;    // the end, position untouched (RWF_APPEND)

// RWF_* flags of preadv2/pwritev2.
constexpr uint64_t kRwfHipri = 0x1, kRwfDsync = 0x2, kRwfSync = 0x4, kRwfNowait = 0x8,
                   kRwfAppend = 0x10;

// Linux's rw_verify_area: offset + count must stay a valid file offset.
Errno CheckRange(vfs::FileDescription* f, int64_t off, size_t count) {
  if (off >= 0 && f->seekable() && off > INT64_MAX - static_cast<int64_t>(count)) return EINVAL;
  return 0;
}

SysRet ReadCommon(Task& t, const SyscallArgs& a, bool positional, int64_t off) {
  FilePtr f = TRY_ASSIGN(GetIOFile(t, static_cast<int>(a[0])));
  if (positional && off < 0) return SysRet::Err(EINVAL);
  UserIOSequence io(t.mm(), UserAddr(a[1]), std::min(a[2], kMaxRwCount));
  return DoRead(t, f.get(), io, positional ? off : kFilePosition);
}

SysRet WriteCommon(Task& t, const SyscallArgs& a, bool positional, int64_t off) {
  FilePtr f = TRY_ASSIGN(GetIOFile(t, static_cast<int>(a[0])));
  if (positional && off < 0) return SysRet::Err(EINVAL);
  UserIOSequence io(t.mm(), UserAddr(a[1]), std::min(a[2], kMaxRwCount));
  return DoWrite(t, f.get(), io, positional ? off : kFilePosition);
}

// readv/writev/preadv/pwritev and the *v2 forms (offset -1: the position).
SysRet VectorIO(Task& t, const SyscallArgs& a, bool write, bool positional, int64_t off,
                uint64_t flags) {
  FilePtr f = TRY_ASSIGN(GetIOFile(t, static_cast<int>(a[0])));
  // HIPRI/DSYNC/SYNC are hints here: every write is as durable as it gets
  // (tmpfs), or the gofer's host file system decides.
  if (flags & ~(kRwfHipri | kRwfDsync | kRwfSync | kRwfNowait | kRwfAppend)) {
    return SysRet::Err(EOPNOTSUPP);
  }
  if (positional && off < -1) return SysRet::Err(EINVAL);
  auto iovs = TRY_ASSIGN(CopyInIovecs(t, a[1], a[2]));
  UserIOSequence io(t.mm(), std::move(iovs));
  int64_t where = (positional && off != -1) ? off : kFilePosition;
  bool nowait = flags & kRwfNowait;
  if (!write) return DoRead(t, f.get(), io, where, nowait);
  // RWF_APPEND: this one write goes to the end; the position stays.
  // With offset -1 the position then follows the end, as for O_APPEND.
  if ((flags & kRwfAppend) && f->seekable()) {
    SysRet r = DoWrite(t, f.get(), io, kAppendOnly, nowait);
    if (r.ok() && where == kFilePosition) (void)f->Seek(0, SEEK_END);
    return r;
  }
  return DoWrite(t, f.get(), io, where, nowait);
}

int64_t PosArg(uint64_t lo, uint64_t hi) {
  // preadv/pwritev pass the offset split in two registers (pos_l, pos_h).
  (void)hi;
  return static_cast<int64_t>(lo);
}

SysRet DoOpen(Task& t, int dirfd, uint64_t path_addr, uint64_t flags, uint64_t mode,
              uint32_t resolve) {
  std::string path = TRY_ASSIGN(CopyInPath(t, path_addr));
  vfs::VirtualDentry start =
      TRY_ASSIGN(StartDir(t, dirfd, path, resolve & (vfs::kBeneath | vfs::kInRoot)));
  auto f = TRY_ASSIGN(t.kernel().vfs()->Open(t.PathCtx(), start, path, static_cast<uint32_t>(flags),
                                             static_cast<uint32_t>(mode & 07777), resolve));
  return InstallFile(t, std::move(f), flags & O_CLOEXEC);
}

}  // namespace

// One read attempt loop: waits while the file is not ready unless it is
// non-blocking or `nowait` (RWF_NOWAIT); `off` may be kFilePosition.
SysRet DoRead(Task& t, vfs::FileDescription* f, IOSequence& io, int64_t off, bool nowait) {
  if (!f->readable()) return SysRet::Err(EBADF);
  TRY(CheckRange(f, off, io.remaining()));
  auto attempt = [&] { return off < 0 ? f->Read(&t, io) : f->PRead(&t, io, off); };
  // read(fd, buf, 0) still reports errors of the file type, never waits.
  SysRet r = (nowait || (io.remaining() == 0 && off < 0)) ? attempt()
                                                           : t.BlockOnFile(f, POLLIN, attempt);
  if (r.ok() && r.value() > 0 && vfs::AnyWatches() && f->vd().dentry) {
    vfs::NotifyDentry(*f->vd().dentry, IN_ACCESS, false);
  }
  return r;
}

// How much of a write to a regular file RLIMIT_FSIZE lets through:
// nullopt for all of it, 0 for none (EFBIG after SIGXFSZ).
static ErrorOr<std::optional<size_t>> FsizeAllowance(Task& t, vfs::FileDescription* f, int64_t off,
                                             size_t count) {
  uint64_t lim = t.tg()->limits.Cur(RLIMIT_FSIZE);
  if (lim == RLIM_INFINITY) return std::optional<size_t>();
  ErrorOr<vfs::Attr> a = f->Stat();
  if (!a.ok() || !S_ISREG(a->mode)) return std::optional<size_t>();
  uint64_t pos;
  if (off >= 0) {
    pos = static_cast<uint64_t>(off);
  } else if (off == kAppendOnly || (f->flags() & O_APPEND)) {
    pos = a->size;
  } else {
    pos = static_cast<uint64_t>(TRY_ASSIGN(f->Seek(0, SEEK_CUR)));
  }
  if (pos >= lim) return std::optional<size_t>(0);
  if (count > lim - pos) return std::optional<size_t>(lim - pos);
  return std::optional<size_t>();
}

SysRet DoWrite(Task& t, vfs::FileDescription* f, IOSequence& io, int64_t off, bool nowait) {
  if (!f->writable()) return SysRet::Err(EBADF);
  TRY(CheckRange(f, off, io.remaining()));
  // pwrite on an O_APPEND descriptor appends: Linux ignores the offset.
  if (off >= 0 && (f->flags() & O_APPEND) && f->seekable()) off = kAppendOnly;
  IOSequence* src = &io;
  std::optional<LimitedIOSequence> limited;
  if (io.remaining() > 0) {
    std::optional<size_t> allowed = TRY_ASSIGN(FsizeAllowance(t, f, off, io.remaining()));
    if (allowed == 0u) {
      RaiseOnSelf(t, SIGXFSZ);
      return SysRet::Err(EFBIG);
    }
    if (allowed) src = &limited.emplace(io, *allowed);
  }
  auto attempt = [&] {
    if (off == kFilePosition) return f->Write(&t, *src);
    return f->PWrite(&t, *src, off == kAppendOnly ? -1 : off);
  };
  SysRet r = nowait ? attempt() : t.BlockOnFile(f, POLLOUT, attempt);
  // A blocking write to a pipe or socket goes on until everything is
  // written (or a signal or error cuts it short, returning what was done).
  if (!nowait && r.ok() && r.value() > 0 && src->remaining() > 0 && !f->nonblocking() &&
      !f->seekable()) {
    int64_t total = r.value();
    while (src->remaining() > 0) {
      SysRet more = t.BlockOnFile(f, POLLOUT, [&] { return f->Write(&t, *src); });
      if (!more.ok() || more.value() == 0) break;
      total += more.value();
    }
    r = total;
  }
  // Writing to a pipe or socket with no reader raises SIGPIPE.
  if (r.error() == EPIPE) RaiseOnSelf(t, SIGPIPE);
  if (r.ok() && r.value() > 0 && vfs::AnyWatches() && f->vd().dentry) {
    vfs::NotifyDentry(*f->vd().dentry, IN_MODIFY, false);
  }
  return r;
}


SysRet Read(Task& t, const SyscallArgs& a) { return ReadCommon(t, a, false, 0); }
SysRet Write(Task& t, const SyscallArgs& a) { return WriteCommon(t, a, false, 0); }
SysRet Pread64(Task& t, const SyscallArgs& a) {
  return ReadCommon(t, a, true, static_cast<int64_t>(a[3]));
}
SysRet Pwrite64(Task& t, const SyscallArgs& a) {
  return WriteCommon(t, a, true, static_cast<int64_t>(a[3]));
}
SysRet Readv(Task& t, const SyscallArgs& a) { return VectorIO(t, a, false, false, 0, 0); }
SysRet Writev(Task& t, const SyscallArgs& a) { return VectorIO(t, a, true, false, 0, 0); }
SysRet Preadv(Task& t, const SyscallArgs& a) {
  int64_t off = PosArg(a[3], a[4]);
  if (off < 0) return SysRet::Err(EINVAL);
  return VectorIO(t, a, false, true, off, 0);
}
SysRet Pwritev(Task& t, const SyscallArgs& a) {
  int64_t off = PosArg(a[3], a[4]);
  if (off < 0) return SysRet::Err(EINVAL);
  return VectorIO(t, a, true, true, off, 0);
}
SysRet Preadv2(Task& t, const SyscallArgs& a) {
  return VectorIO(t, a, false, true, PosArg(a[3], a[4]), a[5]);
}
SysRet Pwritev2(Task& t, const SyscallArgs& a) {
  return VectorIO(t, a, true, true, PosArg(a[3], a[4]), a[5]);
}

SysRet Lseek(Task& t, const SyscallArgs& a) {
  FilePtr f = TRY_ASSIGN(GetIOFile(t, static_cast<int>(a[0])));
  int whence = static_cast<int>(a[2]);
  if (whence < SEEK_SET || whence > SEEK_HOLE) return SysRet::Err(EINVAL);
  return TRY_ASSIGN(f->Seek(static_cast<int64_t>(a[1]), whence));
}

SysRet Open(Task& t, const SyscallArgs& a) { return DoOpen(t, AT_FDCWD, a[0], a[1], a[2], 0); }
SysRet Openat(Task& t, const SyscallArgs& a) {
  return DoOpen(t, static_cast<int>(a[0]), a[1], a[2], a[3], 0);
}
SysRet Creat(Task& t, const SyscallArgs& a) {
  return DoOpen(t, AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, a[1], 0);
}

SysRet Openat2(Task& t, const SyscallArgs& a) {
  uint64_t size = a[3];
  if (size < sizeof(struct open_how)) return SysRet::Err(EINVAL);
  if (size > 4096) return SysRet::Err(E2BIG);
  std::vector<uint8_t> buf(size);
  TRY(t.CopyInBytes(UserAddr(a[2]), buf.data(), size));
  // Bytes past the struct we know must be zero (extensible struct rules).
  for (size_t i = sizeof(struct open_how); i < size; i++)
    if (buf[i] != 0) return SysRet::Err(E2BIG);
  struct open_how how;
  memcpy(&how, buf.data(), sizeof(how));
  constexpr uint64_t kValidFlags = O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND |
                                   O_NONBLOCK | O_DSYNC | FASYNC | O_DIRECT | O_LARGEFILE |
                                   O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_PATH |
                                   __O_TMPFILE | O_SYNC;
  if (how.flags & ~kValidFlags) return SysRet::Err(EINVAL);
  // openat2 is strict where open(2) silently drops flags: O_PATH allows
  // only the flags that mean something for it.
  constexpr uint64_t kPathFlags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  if ((how.flags & O_PATH) && (how.flags & ~kPathFlags)) return SysRet::Err(EINVAL);
  if (how.mode & ~uint64_t{07777}) return SysRet::Err(EINVAL);
  // WILL_CREATE: O_CREAT or the kernel's own __O_TMPFILE bit.
  if (how.mode != 0 && !(how.flags & (O_CREAT | vfs::kOTmpfileBit))) return SysRet::Err(EINVAL);
  constexpr uint64_t kResolve = RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS |
                                RESOLVE_BENEATH | RESOLVE_IN_ROOT | RESOLVE_CACHED;
  if (how.resolve & ~kResolve) return SysRet::Err(EINVAL);
  if ((how.resolve & RESOLVE_BENEATH) && (how.resolve & RESOLVE_IN_ROOT)) return SysRet::Err(EINVAL);
  if ((how.resolve & RESOLVE_CACHED) && (how.flags & (O_CREAT | O_TRUNC | vfs::kOTmpfileBit))) {
    return SysRet::Err(EAGAIN);
  }
  uint32_t r = 0;
  if (how.resolve & RESOLVE_NO_XDEV) r |= vfs::kNoXdev;
  if (how.resolve & RESOLVE_NO_MAGICLINKS) r |= vfs::kNoMagicLinks;
  if (how.resolve & RESOLVE_NO_SYMLINKS) r |= vfs::kNoSymlinks;
  if (how.resolve & RESOLVE_BENEATH) r |= vfs::kBeneath;
  if (how.resolve & RESOLVE_IN_ROOT) r |= vfs::kInRoot;
  return DoOpen(t, static_cast<int>(a[0]), a[1], how.flags, how.mode, r);
}

SysRet Close(Task& t, const SyscallArgs& a) {
  FilePtr f = t.fds()->Remove(static_cast<int>(a[0]));
  if (!f) return SysRet::Err(EBADF);
  return 0;
}

SysRet CloseRange(Task& t, const SyscallArgs& a) {
  unsigned first = static_cast<unsigned>(a[0]), last = static_cast<unsigned>(a[1]);
  uint64_t flags = a[2];
  if (first > last) return SysRet::Err(EINVAL);
  if (flags & ~uint64_t{CLOSE_RANGE_CLOEXEC | CLOSE_RANGE_UNSHARE}) return SysRet::Err(EINVAL);
  if (flags & CLOSE_RANGE_UNSHARE) {
    auto fresh = t.fds()->Fork();
    t.SetFDTable(fresh);
  }
  auto closed = t.fds()->RemoveRange(first, last, flags & CLOSE_RANGE_CLOEXEC);
  return 0;
}

SysRet Dup(Task& t, const SyscallArgs& a) {
  FilePtr f = TRY_ASSIGN(GetFile(t, static_cast<int>(a[0])));
  return InstallFile(t, std::move(f), false);
}

SysRet Dup2(Task& t, const SyscallArgs& a) {
  int oldfd = static_cast<int>(a[0]), newfd = static_cast<int>(a[1]);
  FilePtr f = TRY_ASSIGN(GetFile(t, oldfd));
  if (oldfd == newfd) return newfd;
  auto old = t.fds()->Set(newfd, std::move(f), false, t.tg()->limits.Cur(RLIMIT_NOFILE));
  if (!old.ok()) return SysRet::Err(old.error());
  return newfd;
}

SysRet Dup3(Task& t, const SyscallArgs& a) {
  int oldfd = static_cast<int>(a[0]), newfd = static_cast<int>(a[1]);
  if (a[2] & ~uint64_t{O_CLOEXEC}) return SysRet::Err(EINVAL);
  if (oldfd == newfd) return SysRet::Err(EINVAL);
  FilePtr f = TRY_ASSIGN(GetFile(t, oldfd));
  auto old = t.fds()->Set(newfd, std::move(f), a[2] & O_CLOEXEC, t.tg()->limits.Cur(RLIMIT_NOFILE));
  if (!old.ok()) return SysRet::Err(old.error());
  return newfd;
}

SysRet Fcntl(Task& t, const SyscallArgs& a) {
  int fd = static_cast<int>(a[0]);
  int cmd = static_cast<int>(a[1]);
  bool cloexec = false;
  FilePtr f = t.fds()->Get(fd, &cloexec);
  if (!f) return SysRet::Err(EBADF);
  switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
      int64_t min = static_cast<int64_t>(static_cast<int32_t>(a[2]));
      if (min < 0) return SysRet::Err(EINVAL);
      auto nfd = t.fds()->Add(f, cmd == F_DUPFD_CLOEXEC, static_cast<int>(min),
                              t.tg()->limits.Cur(RLIMIT_NOFILE));
      if (!nfd.ok()) return SysRet::Err(nfd.error());
      return *nfd;
    }
    case F_GETFD:
      return cloexec ? FD_CLOEXEC : 0;
    case F_SETFD:
      TRY(t.fds()->SetCloexec(fd, a[2] & FD_CLOEXEC));
      return 0;
    case F_GETFL:
      return f->flags() & ~uint32_t{O_CLOEXEC};
    case F_SETFL:
      if (f->is_path()) return SysRet::Err(EBADF);
      TRY(f->SetStatusFlags(static_cast<uint32_t>(a[2])));
      return 0;
    case F_GETLK:
    case F_OFD_GETLK: {
      if (f->is_path()) return SysRet::Err(EBADF);
      // Locks are not tracked yet: report the region as unlocked.
      struct flock fl;
      TRY(t.CopyInBytes(UserAddr(a[2]), &fl, sizeof(fl)));
      if (fl.l_type != F_RDLCK && fl.l_type != F_WRLCK) return SysRet::Err(EINVAL);
      fl.l_type = F_UNLCK;
      TRY(t.CopyOutBytes(UserAddr(a[2]), &fl, sizeof(fl)));
      return 0;
    }
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_SETLK:
    case F_OFD_SETLKW: {
      if (f->is_path()) return SysRet::Err(EBADF);
      struct flock fl;
      TRY(t.CopyInBytes(UserAddr(a[2]), &fl, sizeof(fl)));
      if (fl.l_type == F_RDLCK && !f->readable()) return SysRet::Err(EBADF);
      if (fl.l_type == F_WRLCK && !f->writable()) return SysRet::Err(EBADF);
      if (fl.l_type != F_RDLCK && fl.l_type != F_WRLCK && fl.l_type != F_UNLCK) {
        return SysRet::Err(EINVAL);
      }
      return 0;  // see the table note: always granted
    }
    case F_GETOWN:
    case F_SETOWN:
    case F_GETSIG:
    case F_SETSIG:
      return 0;
    case F_SETLEASE:
    case F_GETLEASE:
      return SysRet::Err(EINVAL);
    case F_GETPIPE_SZ: {
      vfs::Pipe* p = vfs::AsPipe(f.get());
      if (!p) return SysRet::Err(EBADF);
      return static_cast<int64_t>(p->Capacity());
    }
    case F_SETPIPE_SZ: {
      vfs::Pipe* p = vfs::AsPipe(f.get());
      if (!p) return SysRet::Err(EBADF);
      constexpr int kCapSysResource = 24;
      return static_cast<int64_t>(TRY_ASSIGN(
          p->SetCapacity(static_cast<uint32_t>(a[2]), t.creds().HasCap(kCapSysResource))));
    }
    case F_GET_SEALS:
      return static_cast<int64_t>(TRY_ASSIGN(f->GetSeals()));
    case F_ADD_SEALS:
      return f->AddSeals(static_cast<uint32_t>(a[2]));
    default:
      return SysRet::Err(EINVAL);
  }
}

SysRet Ioctl(Task& t, const SyscallArgs& a) {
  int fd = static_cast<int>(a[0]);
  FilePtr f = TRY_ASSIGN(GetFile(t, fd));
  uint32_t cmd = static_cast<uint32_t>(a[1]);
  if (f->is_path()) return SysRet::Err(EBADF);
  switch (cmd) {
    case FIOCLEX:
      TRY(t.fds()->SetCloexec(fd, true));
      return 0;
    case FIONCLEX:
      TRY(t.fds()->SetCloexec(fd, false));
      return 0;
    case FIONBIO: {
      int on;
      TRY(t.CopyIn(UserPtr<int>(a[2]), &on));
      uint32_t fl = f->flags();
      TRY(f->SetStatusFlags(on ? (fl | O_NONBLOCK) : (fl & ~uint32_t{O_NONBLOCK})));
      return 0;
    }
    case FIOASYNC: {
      int on;
      TRY(t.CopyIn(UserPtr<int>(a[2]), &on));
      uint32_t fl = f->flags();
      TRY(f->SetStatusFlags(on ? (fl | O_ASYNC) : (fl & ~uint32_t{O_ASYNC})));
      return 0;
    }
    default:
      return f->Ioctl(&t, cmd, a[2]);
  }
}

namespace {

// Fills a getdents64 (or legacy getdents) buffer.
class BufferSink : public vfs::DirentSink {
 public:
  BufferSink(size_t cap, bool legacy) : cap_(cap), legacy_(legacy) {}
  bool Add(const vfs::DirEntry& e, int64_t next_off) override {
    size_t namelen = e.name.size();
    // linux_dirent64: ino(8) off(8) reclen(2) type(1) name; legacy:
    // ino(8) off(8) reclen(2) name NUL type.
    size_t reclen = legacy_ ? (18 + namelen + 2 + 7) & ~size_t{7} : (19 + namelen + 1 + 7) & ~size_t{7};
    if (buf_.size() + reclen > cap_) {
      full_ = true;
      return false;
    }
    size_t at = buf_.size();
    buf_.resize(at + reclen, 0);
    uint8_t* p = buf_.data() + at;
    uint64_t ino = e.ino;
    memcpy(p, &ino, 8);
    memcpy(p + 8, &next_off, 8);
    uint16_t rl = static_cast<uint16_t>(reclen);
    memcpy(p + 16, &rl, 2);
    if (legacy_) {
      memcpy(p + 18, e.name.data(), namelen);
      p[reclen - 1] = e.type;
    } else {
      p[18] = e.type;
      memcpy(p + 19, e.name.data(), namelen);
    }
    return true;
  }
  std::vector<uint8_t> buf_;
  bool full_ = false;

 private:
  size_t cap_;
  bool legacy_;
};

SysRet GetdentsCommon(Task& t, const SyscallArgs& a, bool legacy) {
  FilePtr f = TRY_ASSIGN(GetIOFile(t, static_cast<int>(a[0])));
  size_t cap = std::min<uint64_t>(a[2], 1 << 20);
  BufferSink sink(cap, legacy);
  SysRet r = f->IterDirents(&t, sink);
  if (!r.ok()) return r;
  if (sink.buf_.empty() && sink.full_) return SysRet::Err(EINVAL);  // buffer too small
  TRY(t.CopyOutBytes(UserAddr(a[1]), sink.buf_.data(), sink.buf_.size()));
  return static_cast<int64_t>(sink.buf_.size());
}

}  // namespace

SysRet Getdents64(Task& t, const SyscallArgs& a) { return GetdentsCommon(t, a, false); }
SysRet Getdents(Task& t, const SyscallArgs& a) { return GetdentsCommon(t, a, true); }

SysRet Fsync(Task& t, const SyscallArgs& a) {
  FilePtr f = TRY_ASSIGN(GetIOFile(t, static_cast<int>(a[0])));
  return f->Sync();
}
SysRet Fdatasync(Task& t, const SyscallArgs& a) { return Fsync(t, a); }
SysRet Sync(Task& t, const SyscallArgs& a) { return 0; }
SysRet Syncfs(Task& t, const SyscallArgs& a) {
  TRY_ASSIGN(GetIOFile(t, static_cast<int>(a[0])));
  return 0;
}

SysRet Fallocate(Task& t, const SyscallArgs& a) {
  FilePtr f = TRY_ASSIGN(GetIOFile(t, static_cast<int>(a[0])));
  int64_t off = static_cast<int64_t>(a[2]), len = static_cast<int64_t>(a[3]);
  if (off < 0 || len <= 0) return SysRet::Err(EINVAL);
  if (!f->writable()) return SysRet::Err(EBADF);
  return f->Allocate(static_cast<int>(a[1]), static_cast<uint64_t>(off), static_cast<uint64_t>(len));
}

SysRet Readahead(Task& t, const SyscallArgs& a) {
  FilePtr f = TRY_ASSIGN(GetIOFile(t, static_cast<int>(a[0])));
  if (!f->readable()) return SysRet::Err(EBADF);
  auto st = TRY_ASSIGN(f->Stat());
  if (!st.IsRegular()) return SysRet::Err(EINVAL);
  return 0;
}

SysRet Fadvise64(Task& t, const SyscallArgs& a) {
  FilePtr f = TRY_ASSIGN(GetIOFile(t, static_cast<int>(a[0])));
  int advice = static_cast<int>(a[3]);
  if (advice < 0 || advice > 5) return SysRet::Err(EINVAL);
  if (static_cast<int64_t>(a[2]) < 0) return SysRet::Err(EINVAL);
  if (!f->seekable()) return SysRet::Err(ESPIPE);
  return 0;
}

SysRet Flock(Task& t, const SyscallArgs& a) {
  FilePtr f = TRY_ASSIGN(GetFile(t, static_cast<int>(a[0])));
  int op = static_cast<int>(a[1]) & ~LOCK_NB;
  if (op != LOCK_SH && op != LOCK_EX && op != LOCK_UN) return SysRet::Err(EINVAL);
  if (f->is_path()) return SysRet::Err(EBADF);
  return 0;  // see the table note
}

SysRet Sendfile(Task& t, const SyscallArgs& a) {
  FilePtr out = TRY_ASSIGN(GetIOFile(t, static_cast<int>(a[0])));
  FilePtr in = TRY_ASSIGN(GetIOFile(t, static_cast<int>(a[1])));
  if (!in->readable() || !out->writable()) return SysRet::Err(EBADF);
  if (out->flags() & O_APPEND) return SysRet::Err(EINVAL);
  int64_t off = -1;
  if (a[2] != 0) {
    TRY(t.CopyIn(UserPtr<int64_t>(a[2]), &off));
    if (off < 0) return SysRet::Err(EINVAL);
  }
  uint64_t count = std::min(a[3], kMaxRwCount);
  // Through a Sentry buffer: sendfile is a copy loop here.
  std::vector<uint8_t> buf(std::min<uint64_t>(count, 1 << 16));
  uint64_t done = 0;
  while (done < count) {
    size_t want = std::min<uint64_t>(buf.size(), count - done);
    BufferIOSequence rio(buf.data(), want);
    SysRet r = off >= 0 ? in->PRead(&t, rio, off + static_cast<int64_t>(done)) : in->Read(&t, rio);
    if (!r.ok()) {
      if (done > 0) break;
      return r;
    }
    if (r.value() == 0) break;
    BufferIOSequence wio(buf.data(), static_cast<size_t>(r.value()));
    SysRet w = DoWrite(t, out.get(), wio, -1);
    if (!w.ok()) {
      if (done > 0) break;
      return w;
    }
    done += static_cast<uint64_t>(w.value());
    if (w.value() < r.value()) break;
  }
  if (a[2] != 0) {
    int64_t noff = off + static_cast<int64_t>(done);
    TRY(t.CopyOut(UserPtr<int64_t>(a[2]), noff));
  }
  return static_cast<int64_t>(done);
}

}  // namespace sentry::sys
