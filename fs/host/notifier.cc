#include "fs/host/notifier.h"

#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "sentry/base/log.h"

namespace sentry::vfs {

HostNotifier& HostNotifier::Get() {
  static HostNotifier* n = new HostNotifier();
  return *n;
}

HostNotifier::HostNotifier() : epfd_(epoll_create1(EPOLL_CLOEXEC)) {
  SCHECK(epfd_ >= 0);
  thread_ = std::thread([this] { Loop(); });
  thread_.detach();
}

void HostNotifier::Add(int fd, WaitQueue* q) {
  {
    absl::MutexLock l(&mu_);
    queues_[fd] = q;
  }
  struct epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.fd = fd;
  // Regular files cannot be watched (EPERM): they are always ready.
  epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
}

void HostNotifier::Remove(int fd) {
  epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
  absl::MutexLock l(&mu_);
  queues_.erase(fd);
}

void HostNotifier::Loop() {
  struct epoll_event evs[16];
  for (;;) {
    int n = epoll_wait(epfd_, evs, 16, -1);
    if (n < 0) continue;
    for (int i = 0; i < n; i++) {
      WaitQueue* q = nullptr;
      {
        absl::MutexLock l(&mu_);
        auto it = queues_.find(evs[i].data.fd);
        if (it != queues_.end()) q = it->second;
      }
      if (q == nullptr) continue;
      uint32_t e = 0;
      if (evs[i].events & EPOLLIN) e |= POLLIN | POLLRDNORM;
      if (evs[i].events & EPOLLOUT) e |= POLLOUT | POLLWRNORM;
      if (evs[i].events & (EPOLLHUP | EPOLLRDHUP)) e |= POLLHUP | POLLIN;
      if (evs[i].events & EPOLLERR) e |= POLLERR;
      q->Notify(e);
    }
  }
}

}  // namespace sentry::vfs
