// The host fd notifier: one epoll instance and one thread that turn host
// readiness into wait-queue notifications.
//
// Lock order: Notifier::mu_ is a leaf; queues are notified without it.
#ifndef FS_HOST_NOTIFIER_H_
#define FS_HOST_NOTIFIER_H_

#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "sentry/base/waiter.h"

namespace sentry::vfs {

class HostNotifier {
 public:
  static HostNotifier& Get();
  // Starts watching `fd`; its readiness changes notify `q`.
  void Add(int fd, WaitQueue* q);
  void Remove(int fd);

 private:
  HostNotifier();
  void Loop();
  int epfd_;
  absl::Mutex mu_;
  absl::flat_hash_map<int, WaitQueue*> queues_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace sentry::vfs

#endif  // FS_HOST_NOTIFIER_H_
