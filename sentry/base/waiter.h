// Wait queues: how anything that can become ready (a pipe, a socket, a
// child process, a futex) tells whoever waits for it.
//
// Event masks use poll(2)'s bits (POLLIN, POLLOUT, POLLERR, POLLHUP, ...),
// plus kEventInternal bits for non-file objects. A Waiter is notified with
// the events that happened; it decides whether that concerns it (tasks
// re-check their condition, epoll instances mark the file ready).
//
// Lock order: WaitQueue::mu_ is a leaf; Notify calls Waiter::Notify with
// mu_ held, so Notify implementations must not take locks that are held
// while registering.
#ifndef SENTRY_BASE_WAITER_H_
#define SENTRY_BASE_WAITER_H_

#include <cstdint>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace sentry {

inline constexpr uint32_t kEventChildExit = 1u << 28;  // wait4 wakeups
inline constexpr uint32_t kEventPipeOpen = 1u << 27;   // a FIFO end opened (fifo(7) open waits)
inline constexpr uint32_t kEventAll = 0xffffffffu;

class Waiter {
 public:
  virtual ~Waiter() = default;
  virtual void Notify(uint32_t events) = 0;
};

class WaitQueue {
 public:
  void Register(Waiter* w, uint32_t mask);
  void Unregister(Waiter* w);
  void Notify(uint32_t events);
  bool Empty();

 private:
  absl::Mutex mu_;
  std::vector<std::pair<Waiter*, uint32_t>> waiters_ ABSL_GUARDED_BY(mu_);
};

// Registers for the lifetime of the object.
class ScopedWait {
 public:
  ScopedWait(WaitQueue* q, Waiter* w, uint32_t mask) : q_(q), w_(w) { q_->Register(w_, mask); }
  ~ScopedWait() { q_->Unregister(w_); }
  ScopedWait(const ScopedWait&) = delete;

 private:
  WaitQueue* q_;
  Waiter* w_;
};

}  // namespace sentry

#endif  // SENTRY_BASE_WAITER_H_
