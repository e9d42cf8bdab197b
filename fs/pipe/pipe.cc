// The pipe ring: page-sized slots as in Linux's fs/pipe.c (pipe_read,
// pipe_write, pipe_poll, pipe_set_size, fifo_open's counting).
#include "fs/pipe/pipe.h"

#include <poll.h>

#include <bit>

#include "sentry/kernel/task.h"

namespace sentry::vfs {
namespace {

// Anonymous pipes all live on one pseudo file system (pipefs).
class PipeFs : public Filesystem {
 public:
  std::string_view Name() const override { return "pipefs"; }
};
PipeFs& ThePipeFs() {
  static PipeFs* fs = new PipeFs();
  return *fs;
}

}  // namespace

Pipe::Pipe(uint32_t uid, uint32_t gid)
    : ino_(NextInodeNumber()), uid_(uid), gid_(gid), created_(Now()) {}

std::pair<std::shared_ptr<FileDescription>, std::shared_ptr<FileDescription>> Pipe::NewPair(
    uint32_t flags, uint32_t uid, uint32_t gid) {
  auto p = std::make_shared<Pipe>(uid, gid);
  uint32_t status = flags & (O_NONBLOCK | O_DIRECT);
  // Not FIFO opens: they neither wait nor fail.
  uint64_t seen = p->OpenEnd(O_RDONLY, /*is_fifo=*/false, nullptr).value();
  auto r = NewPipeEnd(p, O_RDONLY, seen, /*named=*/false);
  (void)p->OpenEnd(O_WRONLY, /*is_fifo=*/false, nullptr);
  auto w = NewPipeEnd(p, O_WRONLY, 0, /*named=*/false);
  r->Init(VirtualDentry{}, O_RDONLY | status);
  w->Init(VirtualDentry{}, O_WRONLY | status);
  return {r, w};
}

std::unique_ptr<uint8_t[]> Pipe::NewPageLocked() {
  if (spare_) return std::move(spare_);
  return std::make_unique<uint8_t[]>(kPipePage);
}

void Pipe::PopSlotLocked() {
  if (!spare_) spare_ = std::move(slots_.front().page);
  slots_.pop_front();
}

SysRet Pipe::Read(IOSequence& dst) {
  const size_t want = dst.remaining();
  size_t done = 0;
  {
    absl::MutexLock l(&mu_);
    if (want == 0) return 0;
    // No data: end of file once every writer is gone, else "try again".
    if (slots_.empty()) return writers_ == 0 ? SysRet(0) : SysRet::Err(EAGAIN);
    while (done < want && !slots_.empty()) {
      Slot& s = slots_.front();
      size_t chunk = std::min<size_t>(s.len, want - done);
      ErrorOr<size_t> r = dst.CopyOut(s.page.get() + s.off, chunk);
      if (!r.ok() || *r < chunk) {
        // Like copy_page_to_iter's short copy: nothing of this slot is
        // consumed; EFAULT only when nothing was read at all.
        if (done == 0) return SysRet::Err(EFAULT);
        break;
      }
      done += chunk;
      s.off += chunk;
      s.len -= chunk;
      queued_ -= chunk;
      const bool packet = s.packet;
      if (packet) {
        // A packet is read whole or its rest is discarded.
        queued_ -= s.len;
        s.len = 0;
      }
      if (s.len == 0) PopSlotLocked();
      if (packet) break;
    }
  }
  wq_.Notify(POLLOUT | POLLWRNORM);
  return static_cast<int64_t>(done);
}

SysRet Pipe::Peek(IOSequence& dst) {
  absl::MutexLock l(&mu_);
  if (dst.remaining() == 0) return 0;
  if (slots_.empty()) return writers_ == 0 ? SysRet(0) : SysRet::Err(EAGAIN);
  size_t done = 0;
  for (const Slot& s : slots_) {
    if (dst.remaining() == 0) break;
    size_t chunk = std::min<size_t>(s.len, dst.remaining());
    ErrorOr<size_t> r = dst.CopyOut(s.page.get() + s.off, chunk);
    if (!r.ok() || *r < chunk) {
      if (done == 0) return SysRet::Err(EFAULT);
      break;
    }
    done += chunk;
  }
  return static_cast<int64_t>(done);
}

size_t Pipe::Room() {
  absl::MutexLock l(&mu_);
  // Whole free slots; a partly filled last slot may take a little more.
  return slots_.size() >= max_slots_ ? 0 : (max_slots_ - slots_.size()) * kPipePage;
}

SysRet Pipe::Write(IOSequence& src, bool packet) {
  const size_t total = src.remaining();
  // A null write succeeds even without readers (no SIGPIPE).
  if (total == 0) return 0;
  size_t done = 0;
  {
    absl::MutexLock l(&mu_);
    if (readers_ == 0) return SysRet::Err(EPIPE);
    // The tail of the write (total % page) tops up the last slot when it
    // fits whole; the rest goes in fresh page-aligned slots. A write of at
    // most a page thus never straddles two slots: PIPE_BUF atomicity.
    const size_t chars = total & (kPipePage - 1);
    if (chars != 0 && !slots_.empty()) {
      Slot& last = slots_.back();
      if (!last.packet && last.off + last.len + chars <= kPipePage) {
        ErrorOr<size_t> r = src.CopyIn(last.page.get() + last.off + last.len, chars);
        if (!r.ok() || *r < chars) return SysRet::Err(EFAULT);
        last.len += chars;
        queued_ += chars;
        done = chars;
      }
    }
    while (done < total && slots_.size() < max_slots_) {
      const size_t n = std::min(kPipePage, total - done);
      std::unique_ptr<uint8_t[]> page = NewPageLocked();
      ErrorOr<size_t> r = src.CopyIn(page.get(), n);
      const size_t got = r.ok() ? *r : 0;
      if (got == 0) {
        spare_ = std::move(page);
      } else {
        slots_.push_back(Slot{std::move(page), 0, static_cast<uint32_t>(got), packet});
        queued_ += got;
        done += got;
      }
      if (got < n) {
        if (done == 0) return SysRet::Err(EFAULT);
        break;
      }
    }
    // Every slot in use: the syscall layer waits (or says EAGAIN).
    if (done == 0) return SysRet::Err(EAGAIN);
  }
  wq_.Notify(POLLIN | POLLRDNORM);
  return static_cast<int64_t>(done);
}

uint32_t Pipe::Readiness(bool read, bool write, uint64_t seen_writers, uint32_t mask) {
  absl::MutexLock l(&mu_);
  uint32_t r = 0;
  if (read) {
    if (!slots_.empty()) r |= POLLIN | POLLRDNORM;
    // Hang-up: the writers are gone, and there was one this reader has
    // not seen at open (a FIFO reader opened alone is not hung up).
    if (writers_ == 0 && seen_writers != writer_opens_) r |= POLLHUP;
  }
  if (write) {
    if (slots_.size() < max_slots_) r |= POLLOUT | POLLWRNORM;
    if (readers_ == 0) r |= POLLERR;
  }
  return r & (mask | POLLHUP | POLLERR);
}

ErrorOr<uint64_t> Pipe::OpenEnd(uint32_t flags, bool is_fifo, Task* t) {
  const bool can_wait = !(flags & O_NONBLOCK) && t != nullptr;
  bool read = false, write = false;
  bool wait_for_writer = false, wait_for_reader = false;
  uint64_t seen = 0, wait_from = 0;
  {
    absl::MutexLock l(&mu_);
    switch (flags & O_ACCMODE) {
      case O_RDONLY:
        read = true;
        readers_++;
        reader_opens_++;
        if (is_fifo && writers_ == 0) {
          if (can_wait) {
            wait_for_writer = true;
            wait_from = writer_opens_;
          } else {
            // POSIX: a non-blocking reader opens alone; it sees no hang-up
            // until a writer has come and gone.
            seen = writer_opens_;
          }
        }
        break;
      case O_WRONLY:
        // POSIX: a non-blocking writer with no reader fails.
        if (is_fifo && readers_ == 0 && !can_wait) return Err(ENXIO);
        write = true;
        writers_++;
        writer_opens_++;
        if (is_fifo && readers_ == 0) {
          wait_for_reader = true;
          wait_from = reader_opens_;
        }
        break;
      case O_RDWR:
        // Never waits: the opener can talk to itself.
        read = write = true;
        readers_++;
        writers_++;
        reader_opens_++;
        writer_opens_++;
        break;
      default:
        return Err(EINVAL);
    }
  }
  wq_.Notify(kEventPipeOpen);
  if (wait_for_writer || wait_for_reader) {
    // wait_for_partner: until the other side's open count moves.
    ScopedWait w(&wq_, t->waiter(), kEventPipeOpen);
    for (;;) {
      uint32_t seq = t->WakeSeq();
      {
        absl::MutexLock l(&mu_);
        if ((wait_for_writer ? writer_opens_ : reader_opens_) != wait_from) break;
      }
      if (t->Block(seq) == BlockResult::kInterrupted) {
        CloseEnd(read, write);
        return Err(ERESTARTSYS);
      }
    }
  }
  return seen;
}

void Pipe::CloseEnd(bool read, bool write) {
  {
    absl::MutexLock l(&mu_);
    if (read) readers_--;
    if (write) writers_--;
  }
  wq_.Notify(POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM | POLLHUP | POLLERR);
}

size_t Pipe::Queued() {
  absl::MutexLock l(&mu_);
  return queued_;
}

size_t Pipe::Capacity() {
  absl::MutexLock l(&mu_);
  return max_slots_ * kPipePage;
}

ErrorOr<size_t> Pipe::SetCapacity(uint32_t n, bool privileged) {
  // round_pipe_size: at least a page, a power of two, at most 2 GiB.
  if (n > (1u << 31)) return Err(EINVAL);
  const size_t size = n < kPipePage ? kPipePage : std::bit_ceil(size_t{n});
  const size_t slots = size / kPipePage;
  {
    absl::MutexLock l(&mu_);
    if (slots > max_slots_ && size > kPipeMaxSize && !privileged) return Err(EPERM);
    // Slots in use must fit, however little data they hold.
    if (slots_.size() > slots) return Err(EBUSY);
    max_slots_ = slots;
  }
  wq_.Notify(POLLOUT | POLLWRNORM);
  return size;
}

Attr Pipe::GetAttr() {
  Attr a;
  a.dev = ThePipeFs().dev();
  a.ino = ino_;
  a.mode = S_IFIFO | 0600;
  a.nlink = 1;
  a.uid = uid_;
  a.gid = gid_;
  a.blksize = kPipePage;
  a.atime = a.mtime = a.ctime = a.btime = created_;
  return a;
}

}  // namespace sentry::vfs
