// FileDescription: an open file (Linux's struct file).
//
// Shared by every fd that dup()s it and across fork; holds the access mode,
// the status flags F_SETFL can change, and the file position. Subclasses
// implement the I/O a file type supports; everything else answers with
// the errno Linux gives for that file type.
//
// Blocking: implementations never block. When no data (or no room) is
// there, Read/Write return EAGAIN and the syscall layer waits on the
// file's readiness (EventRegister) unless O_NONBLOCK is set; this keeps
// every wait interruptible by signals in one place.
//
// The Task* argument is the calling task, or null when the Sentry does the
// I/O for itself (the ELF loader, overlay copy-up); files whose behaviour
// depends on the caller (ttys, ioctls) must accept null gracefully.
//
// Lock order: FileDescription::pos_mu_ > inode locks.
#ifndef FS_VFS_FILE_H_
#define FS_VFS_FILE_H_

#include <fcntl.h>
#include <poll.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "fs/vfs/inode.h"
#include "fs/vfs/iosequence.h"
#include "fs/vfs/mount.h"
#include "sentry/base/error.h"
#include "sentry/base/waiter.h"

namespace sentry {
class Task;
class Mappable;
}  // namespace sentry

namespace sentry::vfs {

// Collects getdents64 records. Add returns false when the buffer is full.
class DirentSink {
 public:
  virtual ~DirentSink() = default;
  // `next_off` is the d_off of the record: the position after it.
  virtual bool Add(const DirEntry& e, int64_t next_off) = 0;
};

class FileDescription : public std::enable_shared_from_this<FileDescription> {
 public:
  FileDescription() = default;
  virtual ~FileDescription();
  FileDescription(const FileDescription&) = delete;

  // Called once, right after creation. `vd` may be empty for anonymous
  // files (pipes, eventfds, sockets), which then override Stat and Name.
  void Init(VirtualDentry vd, uint32_t flags);

  const VirtualDentry& vd() const { return vd_; }
  Inode* inode() const;

  // O_ACCMODE | O_PATH | status flags.
  uint32_t flags() const { return flags_.load(std::memory_order_relaxed); }
  bool readable() const;
  bool writable() const;
  bool is_path() const { return flags() & O_PATH; }
  bool nonblocking() const { return flags() & O_NONBLOCK; }
  // F_SETFL: only O_APPEND, O_NONBLOCK, O_ASYNC, O_DIRECT, O_NOATIME change.
  virtual Errno SetStatusFlags(uint32_t flags);

  // --- I/O: bytes transferred or -errno ---
  // read(2)/write(2): default uses and advances the file position through
  // PRead/PWrite (O_APPEND: PWrite at offset -1, then position = size).
  virtual SysRet Read(Task* t, IOSequence& dst);
  virtual SysRet Write(Task* t, IOSequence& src);
  // pread(2)/pwrite(2) at `off`. Default: ESPIPE (not seekable).
  // PWrite with off == -1 appends atomically.
  virtual SysRet PRead(Task* t, IOSequence& dst, int64_t off);
  virtual SysRet PWrite(Task* t, IOSequence& src, int64_t off);
  // lseek(2). Default: regular-file semantics against Stat().size; ESPIPE
  // for files that say they are not seekable.
  virtual ErrorOr<int64_t> Seek(int64_t off, int whence);
  virtual bool seekable() const { return true; }
  // getdents64 from the current position. Default: ENOTDIR.
  virtual SysRet IterDirents(Task* t, DirentSink& sink);
  virtual SysRet Ioctl(Task* t, uint32_t cmd, uint64_t arg);

  // --- attributes ---
  virtual ErrorOr<Attr> Stat();
  virtual Errno Sync() { return 0; }
  virtual Errno Allocate(int mode, uint64_t off, uint64_t len);

  // --- readiness (poll/select/epoll, and blocking) ---
  // Events among `mask` that are ready now. Default: readable and writable.
  virtual uint32_t Readiness(uint32_t mask);
  virtual void EventRegister(Waiter* w, uint32_t mask) {}
  virtual void EventUnregister(Waiter* w) {}

  // --- memory mapping ---
  virtual ErrorOr<std::shared_ptr<Mappable>> GetMappable() { return Err(ENODEV); }

  // --- file seals (memfd_create(2), fcntl F_ADD_SEALS/F_GET_SEALS) ---
  // EINVAL for files without seals (everything but tmpfs/memfd files).
  virtual ErrorOr<uint32_t> GetSeals() { return Err(EINVAL); }
  virtual Errno AddSeals(uint32_t seals) { return EINVAL; }

  // Name shown by /proc/<pid>/fd/N for files without a path, e.g.
  // "pipe:[1234]" or "anon_inode:[eventfd]". Empty: use the path.
  virtual std::string AnonName() const { return ""; }

  // The file position, for implementations that manage it themselves.
  int64_t pos() {
    absl::MutexLock l(&pos_mu_);
    return pos_;
  }

 protected:
  absl::Mutex pos_mu_;  // held across a read/write that uses the position
  int64_t pos_ ABSL_GUARDED_BY(pos_mu_) = 0;

 private:
  VirtualDentry vd_;
  std::atomic<uint32_t> flags_{0};
  bool counted_writer_ = false;  // counted in vd_'s inode writers (ETXTBSY)
};

// The default open directory: getdents over Inode::ReadDir with "." and
// ".." first. The listing is taken when the position is 0 (open, rewind),
// so d_off values stay valid while the directory changes.
class DirectoryFD : public FileDescription {
 public:
  SysRet IterDirents(Task* t, DirentSink& sink) override;
  ErrorOr<int64_t> Seek(int64_t off, int whence) override;
  SysRet Read(Task* t, IOSequence& dst) override { return SysRet::Err(EISDIR); }
  SysRet PRead(Task* t, IOSequence& dst, int64_t off) override { return SysRet::Err(EISDIR); }

 private:
  std::vector<DirEntry> entries_ ABSL_GUARDED_BY(pos_mu_);
};

}  // namespace sentry::vfs

#endif  // FS_VFS_FILE_H_
