// Pipes: pipe(2), pipe2(2), and (later) FIFOs in file systems.
//
// A Pipe is a ring buffer with reader and writer counts; each end is a
// FileDescription. Reads and writes never block here: they return EAGAIN
// and the syscall layer waits on the pipe's wait queue (see file.h).
// Writes of at most PIPE_BUF bytes are atomic.
//
// Lock order: Pipe::mu_ is a leaf; notifications are sent after unlocking.
#ifndef FS_PIPE_PIPE_H_
#define FS_PIPE_PIPE_H_

#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "fs/vfs/file.h"
#include "sentry/base/waiter.h"

namespace sentry::vfs {

inline constexpr size_t kPipeBuf = 4096;
inline constexpr size_t kDefaultPipeSize = 65536;

class Pipe {
 public:
  explicit Pipe(uint32_t uid, uint32_t gid);
  // A connected (read end, write end) pair with the given status flags
  // (O_NONBLOCK, O_DIRECT).
  static std::pair<std::shared_ptr<FileDescription>, std::shared_ptr<FileDescription>> NewPair(
      uint32_t flags, uint32_t uid, uint32_t gid);

  SysRet Read(IOSequence& dst);
  SysRet Write(IOSequence& src);
  uint32_t Readiness(bool read_end, uint32_t mask);
  void Register(Waiter* w, uint32_t mask) { wq_.Register(w, mask); }
  void Unregister(Waiter* w) { wq_.Unregister(w); }
  void AddReader();
  void AddWriter();
  void RemoveReader();
  void RemoveWriter();
  size_t Queued();
  size_t Capacity();
  // F_SETPIPE_SZ: rounds up to a power of two pages; EBUSY if the data
  // does not fit.
  ErrorOr<size_t> SetCapacity(size_t n);
  Attr GetAttr();
  uint64_t ino() const { return ino_; }

 private:
  absl::Mutex mu_;
  std::vector<uint8_t> buf_ ABSL_GUARDED_BY(mu_);  // ring of capacity bytes
  size_t head_ ABSL_GUARDED_BY(mu_) = 0;            // first unread byte
  size_t size_ ABSL_GUARDED_BY(mu_) = 0;            // bytes queued
  int readers_ ABSL_GUARDED_BY(mu_) = 0;
  int writers_ ABSL_GUARDED_BY(mu_) = 0;
  bool had_writer_ ABSL_GUARDED_BY(mu_) = false;
  WaitQueue wq_;
  const uint64_t ino_;
  const uint32_t uid_, gid_;
  const struct timespec created_;
};

// The pipe behind a pipe end, or null for other files (F_GETPIPE_SZ).
Pipe* AsPipe(FileDescription* f);
// The same, shared: for /proc/<pid>/fd/N, which opens new ends on it.
std::shared_ptr<Pipe> SharedPipe(FileDescription* f);

}  // namespace sentry::vfs

#endif  // FS_PIPE_PIPE_H_
