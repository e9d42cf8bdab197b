// pidfd_open(2) / CLONE_PIDFD: a file that names a process. It becomes
// readable when the process has exited (POLLHUP too once it is reaped),
// and pidfd_send_signal, pidfd_getfd and waitid(P_PIDFD) act on the
// process it names, never on a later one that reuses the pid.
#ifndef FS_ANON_PIDFD_H_
#define FS_ANON_PIDFD_H_

#include <memory>

#include "fs/anon/anon.h"

namespace sentry {
class ThreadGroup;
}

namespace sentry::vfs {

class PidFd : public AnonFile {
 public:
  explicit PidFd(std::shared_ptr<ThreadGroup> g) : g_(std::move(g)) {}
  ThreadGroup* group() const { return g_.get(); }
  std::shared_ptr<ThreadGroup> group_ptr() const { return g_; }

  SysRet Read(Task*, IOSequence&) override { return SysRet::Err(EINVAL); }
  std::string AnonName() const override { return "anon_inode:[pidfd]"; }
  uint32_t Readiness(uint32_t mask) override;
  void EventRegister(Waiter* w, uint32_t mask) override;
  void EventUnregister(Waiter* w) override;

 private:
  const std::shared_ptr<ThreadGroup> g_;
};

// `flags`: O_NONBLOCK (PIDFD_NONBLOCK). Always O_RDWR like Linux's.
std::shared_ptr<FileDescription> NewPidFd(std::shared_ptr<ThreadGroup> g, uint32_t flags);

}  // namespace sentry::vfs

#endif  // FS_ANON_PIDFD_H_
