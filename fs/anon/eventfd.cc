// eventfd(2): a 64-bit counter. Reads take it (or, with EFD_SEMAPHORE, one
// from it) and wait while it is zero; writes add and wait while the sum
// would pass 0xfffffffffffffffe.
#include <poll.h>
#include <sys/eventfd.h>

#include "absl/synchronization/mutex.h"
#include "fs/anon/anon.h"
#include "fs/vfs/iosequence.h"
#include "sentry/base/waiter.h"

namespace sentry::vfs {
namespace {

constexpr uint64_t kMaxCount = 0xfffffffffffffffeull;

class PseudoFs : public Filesystem {
 public:
  std::string_view Name() const override { return "anon_inodefs"; }
};
PseudoFs& TheAnonFs() {
  static PseudoFs* fs = new PseudoFs();
  return *fs;
}

class EventFd : public AnonFile {
 public:
  EventFd(uint64_t initval, bool semaphore) : count_(initval), semaphore_(semaphore) {}

  SysRet Read(Task*, IOSequence& dst) override {
    if (dst.remaining() < sizeof(uint64_t)) return SysRet::Err(EINVAL);
    uint64_t v;
    {
      absl::MutexLock l(&mu_);
      if (count_ == 0) return SysRet::Err(EAGAIN);
      v = semaphore_ ? 1 : count_;
      count_ -= v;
    }
    // Copied after the counter changed: Linux too takes the value first
    // (a fault then loses it, as there).
    queue_.Notify(POLLOUT);
    size_t n = TRY_ASSIGN(dst.CopyOut(&v, sizeof(v)));
    if (n != sizeof(v)) return SysRet::Err(EFAULT);
    return static_cast<int64_t>(sizeof(v));
  }

  SysRet Write(Task*, IOSequence& src) override {
    if (src.remaining() < sizeof(uint64_t)) return SysRet::Err(EINVAL);
    uint64_t v;
    size_t n = TRY_ASSIGN(src.CopyIn(&v, sizeof(v)));
    if (n != sizeof(v)) return SysRet::Err(EFAULT);
    if (v == ~uint64_t{0}) return SysRet::Err(EINVAL);
    {
      absl::MutexLock l(&mu_);
      if (kMaxCount - count_ < v) return SysRet::Err(EAGAIN);
      count_ += v;
    }
    if (v != 0) queue_.Notify(POLLIN);
    return static_cast<int64_t>(sizeof(v));
  }

  std::string AnonName() const override { return "anon_inode:[eventfd]"; }

  uint32_t Readiness(uint32_t mask) override {
    absl::MutexLock l(&mu_);
    uint32_t r = 0;
    if (count_ > 0) r |= POLLIN | POLLRDNORM;
    if (count_ < kMaxCount) r |= POLLOUT | POLLWRNORM;
    return r & mask;
  }
  void EventRegister(Waiter* w, uint32_t mask) override { queue_.Register(w, mask); }
  void EventUnregister(Waiter* w) override { queue_.Unregister(w); }

 private:
  absl::Mutex mu_;
  uint64_t count_ ABSL_GUARDED_BY(mu_);
  const bool semaphore_;
  WaitQueue queue_;
};

}  // namespace

Attr AnonInodeAttr() {
  static const uint64_t ino = NextInodeNumber();
  Attr a;
  a.dev = TheAnonFs().dev();
  a.ino = ino;
  a.mode = 0600;  // no file type, as Linux's anonymous inode
  a.nlink = 1;
  a.blksize = 4096;
  return a;
}

std::shared_ptr<FileDescription> NewEventFd(uint64_t initval, uint32_t flags) {
  auto f = std::make_shared<EventFd>(initval, flags & EFD_SEMAPHORE);
  f->Init(VirtualDentry(), O_RDWR | (flags & O_NONBLOCK));
  return f;
}

}  // namespace sentry::vfs
