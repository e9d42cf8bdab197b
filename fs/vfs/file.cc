// FileDescription defaults: position-based read/write over PRead/PWrite,
// lseek against the file size, and Linux's answers for unsupported ops.
#include "fs/vfs/file.h"

#include <limits>

namespace sentry::vfs {

void FileDescription::Init(VirtualDentry vd, uint32_t flags) {
  if (counted_writer_) inode()->RemoveWriter();
  vd_ = std::move(vd);
  // Creation-time flags are not part of the open file's state (Linux's
  // do_dentry_open strips them too); O_CLOEXEC belongs to the fd.
  flags_.store(flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC),
               std::memory_order_relaxed);
  counted_writer_ = writable() && inode() != nullptr;
  if (counted_writer_) inode()->AddWriter();
}

FileDescription::~FileDescription() {
  if (counted_writer_) inode()->RemoveWriter();
  // The last reference to an open file went: IN_CLOSE_*.
  if (AnyWatches() && vd_.dentry && !vd_.dentry->negative() && !is_path()) {
    auto a = vd_.dentry->inode()->GetAttr();
    NotifyDentry(*vd_.dentry, writable() ? IN_CLOSE_WRITE : IN_CLOSE_NOWRITE,
                 a.ok() && a->IsDir());
  }
}

Inode* FileDescription::inode() const { return vd_.dentry ? vd_.dentry->inode().get() : nullptr; }

bool FileDescription::readable() const {
  uint32_t f = flags();
  if (f & O_PATH) return false;
  return (f & O_ACCMODE) == O_RDONLY || (f & O_ACCMODE) == O_RDWR;
}

bool FileDescription::writable() const {
  uint32_t f = flags();
  if (f & O_PATH) return false;
  return (f & O_ACCMODE) == O_WRONLY || (f & O_ACCMODE) == O_RDWR;
}

Errno FileDescription::SetStatusFlags(uint32_t f) {
  constexpr uint32_t kSettable = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;
  uint32_t old = flags_.load(std::memory_order_relaxed);
  while (!flags_.compare_exchange_weak(old, (old & ~kSettable) | (f & kSettable),
                                       std::memory_order_relaxed)) {
  }
  return 0;
}

SysRet FileDescription::Read(Task* t, IOSequence& dst) {
  absl::MutexLock l(&pos_mu_);
  SysRet r = PRead(t, dst, pos_);
  if (r.ok() && r.value() > 0) pos_ += r.value();
  return r;
}

SysRet FileDescription::Write(Task* t, IOSequence& src) {
  absl::MutexLock l(&pos_mu_);
  if (flags() & O_APPEND) {
    SysRet r = PWrite(t, src, -1);
    // The position follows the end of file, as Linux's generic write does.
    ErrorOr<Attr> a = Stat();
    if (a.ok()) pos_ = static_cast<int64_t>(a->size);
    return r;
  }
  SysRet r = PWrite(t, src, pos_);
  if (r.ok() && r.value() > 0) pos_ += r.value();
  return r;
}

SysRet FileDescription::PRead(Task* t, IOSequence& dst, int64_t off) { return SysRet::Err(ESPIPE); }
SysRet FileDescription::PWrite(Task* t, IOSequence& src, int64_t off) { return SysRet::Err(ESPIPE); }

ErrorOr<int64_t> FileDescription::Seek(int64_t off, int whence) {
  if (!seekable()) return Err(ESPIPE);
  absl::MutexLock l(&pos_mu_);
  int64_t base = 0;
  switch (whence) {
    case SEEK_SET:
      break;
    case SEEK_CUR:
      base = pos_;
      break;
    case SEEK_END:
    case SEEK_DATA:
    case SEEK_HOLE: {
      Attr a = TRY_ASSIGN(Stat());
      int64_t size = static_cast<int64_t>(a.size);
      if (whence == SEEK_END) {
        base = size;
        break;
      }
      // The whole file is data; the only hole is the implicit one at EOF.
      if (off < 0 || off >= size) return Err(ENXIO);
      int64_t r = whence == SEEK_DATA ? off : size;
      pos_ = r;
      return r;
    }
    default:
      return Err(EINVAL);
  }
  int64_t r;
  if (__builtin_add_overflow(base, off, &r) || r < 0) return Err(EINVAL);
  pos_ = r;
  return r;
}

SysRet FileDescription::IterDirents(Task* t, DirentSink& sink) { return SysRet::Err(ENOTDIR); }
SysRet FileDescription::Ioctl(Task* t, uint32_t cmd, uint64_t arg) { return SysRet::Err(ENOTTY); }

ErrorOr<Attr> FileDescription::Stat() {
  Inode* i = inode();
  if (i == nullptr) return Err(EBADF);
  return i->GetAttr();
}

Errno FileDescription::Allocate(int mode, uint64_t off, uint64_t len) {
  if (!writable()) return EBADF;
  Attr a = TRY_ASSIGN(Stat());
  if (a.IsDir()) return EISDIR;
  if (!a.IsRegular()) return ENODEV;
  return EOPNOTSUPP;
}

uint32_t FileDescription::Readiness(uint32_t mask) {
  return mask & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM);
}

}  // namespace sentry::vfs
