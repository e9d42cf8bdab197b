// signalfd(2): reading takes the caller's pending signals in the file's
// mask, as struct signalfd_siginfo. Like Linux, what a read or a poll sees
// depends on the calling thread (its own and its process's pending
// signals), not on who created the file.
//
// Lock order: SignalFd::mu_ is a leaf (registrations bookkeeping only).
#ifndef FS_ANON_SIGNALFD_H_
#define FS_ANON_SIGNALFD_H_

#include <atomic>
#include <map>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "fs/anon/anon.h"
#include "fs/vfs/file.h"
#include "sentry/kernel/signal_types.h"

namespace sentry {
class ThreadGroup;
}

namespace sentry::vfs {

class SignalFd : public AnonFile {
 public:
  explicit SignalFd(SigSet mask) : mask_(mask) {}
  ~SignalFd() override;
  // signalfd(fd, ...) on an existing file replaces the mask.
  void SetMask(SigSet mask);

  SysRet Read(Task* t, IOSequence& dst) override;
  std::string AnonName() const override { return "anon_inode:[signalfd]"; }
  // Of the calling task (Task::Current()).
  uint32_t Readiness(uint32_t mask) override;
  void EventRegister(Waiter* w, uint32_t mask) override;
  void EventUnregister(Waiter* w) override;

 private:
  std::atomic<SigSet> mask_;
  absl::Mutex mu_;
  // Where each waiter registered: the process of the task that registered.
  std::map<Waiter*, std::shared_ptr<ThreadGroup>> registered_ ABSL_GUARDED_BY(mu_);
};

std::shared_ptr<FileDescription> NewSignalFd(SigSet mask, uint32_t flags);

}  // namespace sentry::vfs

#endif  // FS_ANON_SIGNALFD_H_
