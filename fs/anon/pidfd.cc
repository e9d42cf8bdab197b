#include "fs/anon/pidfd.h"

#include <fcntl.h>
#include <poll.h>

#include "sentry/kernel/thread_group.h"

namespace sentry::vfs {

uint32_t PidFd::Readiness(uint32_t mask) {
  uint32_t r = 0;
  // pidfd_poll: readable once the whole group has exited.
  if (g_->dead.load()) r |= POLLIN | POLLRDNORM;
  if (g_->reaped.load()) r |= POLLHUP;
  return r & (mask | POLLHUP);
}

void PidFd::EventRegister(Waiter* w, uint32_t mask) { g_->exit_events.Register(w, mask); }
void PidFd::EventUnregister(Waiter* w) { g_->exit_events.Unregister(w); }

std::shared_ptr<FileDescription> NewPidFd(std::shared_ptr<ThreadGroup> g, uint32_t flags) {
  auto f = std::make_shared<PidFd>(std::move(g));
  f->Init(VirtualDentry(), O_RDWR | (flags & O_NONBLOCK));
  return f;
}

}  // namespace sentry::vfs
