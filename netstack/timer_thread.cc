#include "netstack/timer_thread.h"

#include "absl/time/time.h"

namespace netstack {

TimerThread::TimerThread(Stack* stack) : stack_(stack) {
  stack_->SetTimerWakeup([this] {
    absl::MutexLock l(&mu_);
    kicked_ = true;
    cv_.Signal();
  });
  thread_ = std::thread([this] { Run(); });
}

TimerThread::~TimerThread() {
  stack_->SetTimerWakeup(nullptr);
  {
    absl::MutexLock l(&mu_);
    stop_ = true;
    cv_.Signal();
  }
  thread_.join();
}

void TimerThread::Run() {
  for (;;) {
    int64_t next = stack_->NextTimerNs();
    {
      absl::MutexLock l(&mu_);
      while (!stop_ && !kicked_) {
        int64_t now = stack_->clock()->NowNs();
        if (next <= now) break;
        // Deadlines are monotonic-clock nanoseconds; the wait is relative.
        absl::Duration wait = next == INT64_MAX ? absl::Seconds(3600) : absl::Nanoseconds(next - now);
        cv_.WaitWithTimeout(&mu_, wait);
        if (next != INT64_MAX && stack_->clock()->NowNs() >= next) break;
      }
      if (stop_) return;
      kicked_ = false;
    }
    stack_->RunTimers();
  }
}

}  // namespace netstack
