// Drives a Stack's timers on real time: one background thread sleeps until
// the earliest deadline (or until the stack arms an earlier one) and runs
// what is due. Host syscalls: futex and clock_gettime only (absl CondVar).
//
// Lock order: TimerThread::mu_ is a leaf; the stack's wake-up callback
// takes it after the stack released its own lock.
#ifndef NETSTACK_TIMER_THREAD_H_
#define NETSTACK_TIMER_THREAD_H_

#include <thread>

#include "absl/synchronization/mutex.h"
#include "netstack/stack.h"

namespace netstack {

class TimerThread {
 public:
  // `clock` must be the stack's clock and run on real time.
  explicit TimerThread(Stack* stack);
  ~TimerThread();  // stops and joins the thread
  TimerThread(const TimerThread&) = delete;

 private:
  void Run();
  Stack* const stack_;
  absl::Mutex mu_;
  absl::CondVar cv_;
  bool kicked_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace netstack

#endif  // NETSTACK_TIMER_THREAD_H_
