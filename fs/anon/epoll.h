// An epoll instance: an interest list of (fd, open file) pairs.
//
// Readiness is re-checked with each file's Readiness() whenever events are
// collected (level-triggered semantics come for free); each entry is also a
// Waiter on its file, so a change wakes the instance's waiters and marks
// the entry's edge for EPOLLET. EPOLLONESHOT disables an entry once it has
// been reported, until EPOLL_CTL_MOD. An entry goes away with EPOLL_CTL_DEL
// or when its open file is closed everywhere else.
//
// An entry holds its file (a reference, unlike Linux's): a file's wait
// queue may belong to an object that outlives the open file (a pipe's
// other end), and an entry must stay able to unregister from it. The
// price: a file closed everywhere else is only let go at the instance's
// next epoll_wait, epoll_ctl or poll, not at the close itself.
//
// Lock order: the global nesting lock (adding an epoll to an epoll) >
// Epoll::mu_ > an inner epoll's mu_ > a file's own locks and wait queue >
// Epoll::queue_ (entries notify it from their file's queue, without mu_).
#ifndef FS_ANON_EPOLL_H_
#define FS_ANON_EPOLL_H_

#include <sys/epoll.h>

#include <atomic>
#include <map>
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "fs/anon/anon.h"
#include "fs/vfs/file.h"
#include "sentry/base/waiter.h"

namespace sentry::vfs {

class Epoll : public AnonFile {
 public:
  Epoll() = default;
  ~Epoll() override;

  // EPOLL_CTL_ADD / MOD / DEL with Linux's errors (the caller checked the
  // descriptors, EPERM for unpollable files and EINVAL for fd == epfd).
  Errno Ctl(int op, int fd, const std::shared_ptr<FileDescription>& f, uint32_t events,
            uint64_t data);
  // Up to `max` ready events, applying EPOLLET and EPOLLONESHOT.
  std::vector<struct epoll_event> Collect(int max);

  SysRet Read(Task*, IOSequence&) override { return SysRet::Err(EINVAL); }
  std::string AnonName() const override { return "anon_inode:[eventpoll]"; }
  // Readable when an event is waiting (an epoll can be polled or nested).
  uint32_t Readiness(uint32_t mask) override;
  void EventRegister(Waiter* w, uint32_t mask) override { queue_.Register(w, mask); }
  void EventUnregister(Waiter* w) override { queue_.Unregister(w); }

 private:
  struct Entry : public Waiter {
    Epoll* ep = nullptr;
    std::shared_ptr<FileDescription> file;
    uint32_t events = 0;  // guarded by ep->mu_
    uint64_t data = 0;    // guarded by ep->mu_
    bool disabled = false;  // EPOLLONESHOT fired; guarded by ep->mu_
    std::atomic<bool> edge{true};  // notified since last reported (EPOLLET)
    void Notify(uint32_t) override;
  };
  using Key = std::pair<int, const FileDescription*>;

  // Whether `target` is this instance or holds it, directly or through
  // nested instances; `depth` counts the nesting (Linux allows 5 levels).
  bool ReachesLocked(Epoll* target, int depth, bool* too_deep);
  // Drops entries whose file only this instance still holds; the files
  // are returned to be released after mu_.
  std::vector<std::shared_ptr<FileDescription>> ReapClosedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::map<Key, std::unique_ptr<Entry>> entries_ ABSL_GUARDED_BY(mu_);
  WaitQueue queue_;
};

std::shared_ptr<FileDescription> NewEpoll(uint32_t flags);

}  // namespace sentry::vfs

#endif  // FS_ANON_EPOLL_H_
