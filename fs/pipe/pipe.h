// Pipes: pipe(2), pipe2(2), and FIFOs (named pipes) in any file system.
//
// A Pipe is Linux's pipe_inode_info: a ring of page-sized slots (struct
// pipe_buffer), at most capacity()/4096 of them, with reader and writer
// counts. The slot model is what programs observe:
//   - F_GETPIPE_SZ/F_SETPIPE_SZ count slots (a power of two pages);
//   - a write first tops up the last slot with its tail (len % 4096 bytes)
//     when that fits, then fills fresh slots a page at a time, so writes of
//     at most PIPE_BUF (one page) bytes are never split: they merge whole or
//     take one free slot whole;
//   - in packet mode (O_DIRECT on the writing file) every write, or every
//     page of a larger one, is its own slot, and a read returns at most one
//     packet, dropping what the reader's buffer could not hold;
//   - the pipe is writable (POLLOUT) while a slot is free.
//
// Reads and writes never block here: they return EAGAIN and the syscall
// layer waits on the pipe's wait queue (see file.h). Opening a FIFO may
// wait for the other end (fifo(7)); OpenEnd does that wait itself.
//
// Files: pipe.cc (the ring), pipe_end.cc (the open ends), fifo.cc (the
// FIFO opener and the inode -> pipe registry).
//
// Lock order: Pipe::mu_ is a leaf; notifications are sent after unlocking.
#ifndef FS_PIPE_PIPE_H_
#define FS_PIPE_PIPE_H_

#include <deque>
#include <functional>
#include <memory>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "fs/vfs/file.h"
#include "sentry/base/waiter.h"

namespace sentry::vfs {

inline constexpr size_t kPipeBuf = 4096;       // PIPE_BUF
inline constexpr size_t kPipePage = 4096;      // one slot
inline constexpr size_t kDefaultPipeSlots = 16;  // 64 KiB, Linux's default
// /proc/sys/fs/pipe-max-size: the most an unprivileged F_SETPIPE_SZ gets.
inline constexpr size_t kPipeMaxSize = 1 << 20;

class Pipe {
 public:
  Pipe(uint32_t uid, uint32_t gid);
  // A connected (read end, write end) pair with the given status flags
  // (O_NONBLOCK, O_DIRECT).
  static std::pair<std::shared_ptr<FileDescription>, std::shared_ptr<FileDescription>> NewPair(
      uint32_t flags, uint32_t uid, uint32_t gid);

  // Linux's fifo_open: counts a new end with `flags`' access mode and, for
  // a FIFO (`is_fifo`) opened without O_NONBLOCK, waits for the other side
  // to open (a reader for a writer and vice versa; O_RDWR never waits).
  // A non-blocking write-only open with no reader is ENXIO; a wait cut
  // short by a signal is ERESTARTSYS; `t` null never waits. On success the
  // caller owns the counted end and must CloseEnd it. Returns the writer
  // open count a read end has "seen" (POLLHUP only after a newer writer).
  ErrorOr<uint64_t> OpenEnd(uint32_t flags, bool is_fifo, Task* t);
  void CloseEnd(bool read, bool write);

  // `packet`: the writing file is in packet mode (O_DIRECT).
  SysRet Read(IOSequence& dst);
  SysRet Write(IOSequence& src, bool packet);
  // pipe_poll for a file that reads and/or writes the pipe.
  uint32_t Readiness(bool read, bool write, uint64_t seen_writers, uint32_t mask);
  void Register(Waiter* w, uint32_t mask) { wq_.Register(w, mask); }
  void Unregister(Waiter* w) { wq_.Unregister(w); }

  // Bytes queued (FIONREAD).
  size_t Queued();
  // tee(2): copies queued bytes into `dst` without consuming them; EAGAIN
  // when empty (0 once no writer is left).
  SysRet Peek(IOSequence& dst);
  // Bytes a write could add now without waiting.
  size_t Room();
  // Capacity in bytes (F_GETPIPE_SZ).
  size_t Capacity();
  // F_SETPIPE_SZ: rounds up to a power of two pages (at least one); EPERM
  // above kPipeMaxSize unless `privileged` (CAP_SYS_RESOURCE), EINVAL above
  // 2 GiB, EBUSY if the slots in use do not fit. Returns the new capacity.
  ErrorOr<size_t> SetCapacity(uint32_t n, bool privileged);
  Attr GetAttr();
  uint64_t ino() const { return ino_; }

 private:
  struct Slot {
    std::unique_ptr<uint8_t[]> page;
    uint32_t off = 0;
    uint32_t len = 0;
    bool packet = false;  // PIPE_BUF_FLAG_PACKET: never merged into
  };
  std::unique_ptr<uint8_t[]> NewPageLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PopSlotLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Waits until `counter` moves past `seen` (fifo.cc's wait_for_partner).
  Errno WaitForPartner(Task* t, const uint64_t* counter, uint64_t seen);

  absl::Mutex mu_;
  std::deque<Slot> slots_ ABSL_GUARDED_BY(mu_);
  size_t max_slots_ ABSL_GUARDED_BY(mu_) = kDefaultPipeSlots;
  size_t queued_ ABSL_GUARDED_BY(mu_) = 0;  // bytes in slots_
  // A page freed by a read, kept for the next write (Linux's tmp_page).
  std::unique_ptr<uint8_t[]> spare_ ABSL_GUARDED_BY(mu_);
  int readers_ ABSL_GUARDED_BY(mu_) = 0;
  int writers_ ABSL_GUARDED_BY(mu_) = 0;
  // How many read/write opens there ever were (r_counter, w_counter).
  uint64_t reader_opens_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t writer_opens_ ABSL_GUARDED_BY(mu_) = 0;
  WaitQueue wq_;
  const uint64_t ino_;
  const uint32_t uid_, gid_;
  const struct timespec created_;
};

// A new end on `p` whose open OpenEnd already counted; its access mode is
// `flags`' (the caller still calls Init). `seen_writers` is OpenEnd's
// result. A `named` end is a FIFO's: fstat shows the FIFO's inode and
// /proc/<pid>/fd its path; others are "pipe:[ino]". `on_close` runs after
// the end released the pipe (the FIFO registry uses it to forget pipes
// nobody has open).
std::shared_ptr<FileDescription> NewPipeEnd(std::shared_ptr<Pipe> p, uint32_t flags,
                                            uint64_t seen_writers, bool named,
                                            std::function<void()> on_close = nullptr);

// The pipe behind a pipe end, or null for other files (F_GETPIPE_SZ).
Pipe* AsPipe(FileDescription* f);
// The same, shared: for /proc/<pid>/fd/N, which opens new ends on it.
std::shared_ptr<Pipe> SharedPipe(FileDescription* f);

// Makes VFS::Open open FIFOs (mknod S_IFIFO) as pipes; call once at boot.
void RegisterFifoOpener();

}  // namespace sentry::vfs

#endif  // FS_PIPE_PIPE_H_
