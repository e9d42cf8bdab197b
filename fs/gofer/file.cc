// File data of gofer files: open, read/write through the donated host
// fds, mapping through the page cache, and the regular-file
// FileDescription.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>

#include "fs/gofer/host_io.h"
#include "fs/gofer/inode.h"

namespace sentry::goferfs {

ErrorOr<std::shared_ptr<vfs::FileDescription>> GoferInode::Open(const vfs::OpenOptions& opts) {
  uint32_t acc = opts.flags & O_ACCMODE;
  bool write = acc == O_WRONLY || acc == O_RDWR;
  switch (type_) {
    case S_IFDIR:
      if (write) return Err(EISDIR);
      return vfs::Inode::Open(opts);  // the VFS's DirectoryFD over ReadDir
    case S_IFREG:
      break;
    case S_IFLNK:
      return Err(ELOOP);
    default:
      // Named pipes and sockets on the host are not shared with the
      // sandbox (a fifo needs an in-Sentry pipe: not yet); devices are
      // the Sentry's own.
      return Err(ENXIO);
  }
  auto self = std::static_pointer_cast<GoferInode>(shared_from_this());
  if (opts.flags & O_PATH) return std::shared_ptr<vfs::FileDescription>(std::make_shared<GoferFile>(self));
  if ((write || (opts.flags & O_TRUNC)) && gfs()->read_only()) return Err(EROFS);
  // Open now, so errors show at open(2); later opens reuse the fds.
  if (write) TRY(WriteFd());
  if (acc != O_WRONLY) TRY(ReadFd());
  if (write && (opts.flags & O_TRUNC) && CachedSize() > 0) TRY(Truncate(0));
  return std::shared_ptr<vfs::FileDescription>(std::make_shared<GoferFile>(std::move(self)));
}

uint64_t GoferInode::CachedSize() {
  absl::MutexLock l(&mu_);
  return attr_.size;
}

ErrorOr<size_t> GoferInode::ReadAt(IOSequence& dst, uint64_t off) {
  // The sandbox owns the file: the cached size is exact, and reading no
  // further than it spares a host call at EOF.
  uint64_t size = CachedSize();
  if (off >= size || dst.remaining() == 0) return size_t{0};
  uint64_t n = std::min<uint64_t>(dst.remaining(), size - off);
  int fd = TRY_ASSIGN(ReadFd());
  if (cache_.HasDirty()) return cache_.Read(fd, dst, off, n);
  uint64_t at = off;
  return dst.Blocks(n, true, [&](uint8_t* p, size_t len) -> ErrorOr<size_t> {
    size_t done = TRY_ASSIGN(HostIo(false, fd, p, len, at));
    at += done;
    return done;
  });
}

ErrorOr<size_t> GoferInode::WriteAt(IOSequence& src, int64_t off, uint64_t* end) {
  int fd = TRY_ASSIGN(WriteFd());
  absl::MutexLock io(&io_mu_);
  uint64_t at = off < 0 ? CachedSize() : static_cast<uint64_t>(off);
  if (src.remaining() == 0) {
    *end = at;
    return size_t{0};
  }
  auto n = src.Blocks(src.remaining(), false, [&](uint8_t* p, size_t len) -> ErrorOr<size_t> {
    size_t done = TRY_ASSIGN(HostIo(true, fd, p, len, at));
    cache_.Update(at, p, done);  // after the host write: see page_cache.h
    at += done;
    return done;
  });
  {
    absl::MutexLock l(&mu_);
    attr_.size = std::max(attr_.size, at);
    host_stale_ = true;  // mtime, ctime, blocks: fstat on the next stat
  }
  *end = at;
  return n;
}

ErrorOr<FileRange> GoferInode::Translate(uint64_t off, uint64_t max_len, bool write) {
  if (type_ != S_IFREG) return Err(ENODEV);
  // A shared writable mapping needs a way back to the host (Writeback).
  if (write) TRY(WriteFd());
  int fd = TRY_ASSIGN(ReadFd());
  return cache_.Translate(fd, CachedSize(), off, max_len, write);
}

Errno GoferInode::Sync() {
  int fd;
  {
    absl::MutexLock l(&mu_);
    fd = wr_fd_;
  }
  if (fd < 0) return 0;  // never written by us: nothing to flush
  TRY(cache_.Writeback(fd, CachedSize()));
  return fsync(fd) < 0 ? errno : 0;
}

Errno GoferInode::Allocate(int mode, uint64_t off, uint64_t len) {
  int fd = TRY_ASSIGN(WriteFd());
  absl::MutexLock io(&io_mu_);
  if (fallocate(fd, mode, static_cast<off_t>(off), static_cast<off_t>(len)) < 0) return errno;
  struct stat st;
  if (fstat(fd, &st) < 0) return errno;
  absl::MutexLock l(&mu_);
  attr_.size = static_cast<uint64_t>(st.st_size);
  attr_.blocks = static_cast<uint64_t>(st.st_blocks);
  attr_.mtime = st.st_mtim;
  attr_.ctime = st.st_ctim;
  return 0;
}

// --- GoferFile ---

SysRet GoferFile::PRead(Task* t, IOSequence& dst, int64_t off) {
  if (!can_read()) return SysRet::Err(EBADF);
  if (off < 0) return SysRet::Err(EINVAL);
  auto n = inode_->ReadAt(dst, static_cast<uint64_t>(off));
  if (!n.ok()) return SysRet::Err(n.error());
  return static_cast<int64_t>(*n);
}

SysRet GoferFile::Read(Task* t, IOSequence& dst) {
  if (!can_read()) return SysRet::Err(EBADF);
  absl::MutexLock l(&pos_mu_);
  auto n = inode_->ReadAt(dst, static_cast<uint64_t>(pos_));
  if (!n.ok()) return SysRet::Err(n.error());
  pos_ += static_cast<int64_t>(*n);
  return static_cast<int64_t>(*n);
}

SysRet GoferFile::PWrite(Task* t, IOSequence& src, int64_t off) {
  if (!can_write()) return SysRet::Err(EBADF);
  if (off < -1) return SysRet::Err(EINVAL);
  // Linux's pwrite on an O_APPEND file appends (pwrite(2), BUGS).
  if (flags() & O_APPEND) off = -1;
  uint64_t end;
  auto n = inode_->WriteAt(src, off, &end);
  if (!n.ok()) return SysRet::Err(n.error());
  return static_cast<int64_t>(*n);
}

SysRet GoferFile::Write(Task* t, IOSequence& src) {
  if (!can_write()) return SysRet::Err(EBADF);
  absl::MutexLock l(&pos_mu_);
  uint64_t end;
  auto n = inode_->WriteAt(src, (flags() & O_APPEND) ? -1 : pos_, &end);
  if (!n.ok()) return SysRet::Err(n.error());
  pos_ = static_cast<int64_t>(end);
  return static_cast<int64_t>(*n);
}

ErrorOr<int64_t> GoferFile::Seek(int64_t off, int whence) {
  if (is_path()) return Err(EBADF);
  absl::MutexLock l(&pos_mu_);
  int64_t size = static_cast<int64_t>(inode_->CachedSize());
  int64_t base;
  switch (whence) {
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = pos_; break;
    case SEEK_END: base = size; break;
    case SEEK_DATA:
    case SEEK_HOLE:
      // No holes are reported: data runs to EOF (what tmpfs-like file
      // systems without hole tracking answer).
      if (off < 0 || off >= size) return Err(ENXIO);
      pos_ = whence == SEEK_DATA ? off : size;
      return pos_;
    default:
      return Err(EINVAL);
  }
  int64_t r;
  if (__builtin_add_overflow(base, off, &r) || r < 0) return Err(EINVAL);
  pos_ = r;
  return r;
}

Errno GoferFile::Allocate(int mode, uint64_t off, uint64_t len) {
  if (!can_write()) return EBADF;
  return inode_->Allocate(mode, off, len);
}

uint32_t GoferFile::Readiness(uint32_t mask) {
  // Regular files are always ready (poll(2) on a disk file).
  return mask & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM);
}

ErrorOr<std::shared_ptr<Mappable>> GoferFile::GetMappable() {
  if (is_path()) return Err(EBADF);
  return std::shared_ptr<Mappable>(inode_);
}

}  // namespace sentry::goferfs
