// Blocking: how a task waits in the Sentry, interruptibly.
//
// A task sleeps on a futex over its wake sequence number. Anything that
// may satisfy the wait (a wait queue notification) or must cut it short
// (a signal, a kill) bumps the number and wakes the futex; the task then
// re-checks its condition. Taking the number before checking the
// condition closes the window between check and sleep.
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>

#include "sentry/base/log.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"

namespace sentry {
namespace {

void FutexWaitOn(std::atomic<uint32_t>* word, uint32_t val, const struct timespec* ts) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_PRIVATE, val, ts, nullptr, 0);
}

void FutexWakeAll(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr,
          nullptr, 0);
}

}  // namespace

void Task::Wake() {
  wake_seq_.fetch_add(1, std::memory_order_acq_rel);
  FutexWakeAll(&wake_seq_);
}

void Task::Interrupt() {
  interrupt_.store(true, std::memory_order_release);
  Wake();
  if (ctx_) ctx_->Interrupt();
}

void Task::Kill() {
  killed_.store(true, std::memory_order_release);
  Interrupt();
}

BlockResult Task::BlockKillable(uint32_t seq, absl::Time deadline) {
  for (;;) {
    if (killed_.load(std::memory_order_acquire)) return BlockResult::kInterrupted;
    if (wake_seq_.load(std::memory_order_acquire) != seq) return BlockResult::kWoken;
    // The application thread need not wait actively for this answer.
    if (ctx_) ctx_->WillBlock();
    if (deadline == absl::InfiniteFuture()) {
      FutexWaitOn(&wake_seq_, seq, nullptr);
      continue;
    }
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return BlockResult::kTimedOut;
    struct timespec ts = absl::ToTimespec(left);
    FutexWaitOn(&wake_seq_, seq, &ts);
  }
}

BlockResult Task::Block(uint32_t seq, absl::Time deadline) {
  for (;;) {
    if (interrupt_.load(std::memory_order_acquire)) return BlockResult::kInterrupted;
    if (wake_seq_.load(std::memory_order_acquire) != seq) return BlockResult::kWoken;
    // The application thread need not wait actively for this answer.
    if (ctx_) ctx_->WillBlock();
    if (deadline == absl::InfiniteFuture()) {
      FutexWaitOn(&wake_seq_, seq, nullptr);
      continue;
    }
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return BlockResult::kTimedOut;
    struct timespec ts = absl::ToTimespec(left);
    FutexWaitOn(&wake_seq_, seq, &ts);
  }
}

BlockResult Task::Sleep(absl::Time deadline) {
  for (;;) {
    BlockResult r = Block(WakeSeq(), deadline);
    if (r != BlockResult::kWoken) return r;
  }
}

SysRet Task::BlockOnFile(vfs::FileDescription* f, uint32_t events,
                         const std::function<SysRet()>& attempt, absl::Time deadline) {
  SysRet r = attempt();
  if (r.error() != EAGAIN || f->nonblocking()) return r;
  // Register before re-trying so a wakeup between attempt and sleep counts.
  f->EventRegister(&waiter_, events | POLLERR | POLLHUP);
  for (;;) {
    uint32_t seq = WakeSeq();
    r = attempt();
    if (r.error() != EAGAIN) break;
    BlockResult b = Block(seq, deadline);
    if (b == BlockResult::kInterrupted) {
      r = SysRet::Err(ERESTARTSYS);
      break;
    }
    if (b == BlockResult::kTimedOut) {
      r = SysRet::Err(ETIMEDOUT);
      break;
    }
  }
  f->EventUnregister(&waiter_);
  return r;
}

}  // namespace sentry
