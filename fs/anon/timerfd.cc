#include "fs/anon/timerfd.h"

#include <fcntl.h>
#include <poll.h>

#include "fs/anon/anon.h"
#include "fs/vfs/iosequence.h"

namespace sentry::vfs {

TimerFd::~TimerFd() {
  absl::MutexLock l(&mu_);
  if (timer_id_ != 0) timers_->Cancel(timer_id_);
}

int64_t TimerFd::ClockNs() const {
  struct timespec ts;
  clock_gettime(clock_, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void TimerFd::ArmLocked() {
  if (timer_id_ != 0) {
    timers_->Cancel(timer_id_);
    timer_id_ = 0;
  }
  if (next_ns_ == 0) return;
  // The Timers thread runs on absl::Now(): convert from our clock.
  absl::Time when = absl::Now() + absl::Nanoseconds(next_ns_ - ClockNs());
  std::weak_ptr<FileDescription> weak = weak_from_this();
  uint64_t gen = generation_;
  timer_id_ = timers_->Add(when, [weak, gen] {
    if (auto self = weak.lock()) static_cast<TimerFd*>(self.get())->Fire(gen);
  });
}

void TimerFd::Fire(uint64_t generation) {
  {
    absl::MutexLock l(&mu_);
    if (generation != generation_ || next_ns_ == 0) return;
    int64_t now = ClockNs();
    if (now < next_ns_) {
      // The Timers thread woke early (its clock is not ours): try again.
      ArmLocked();
      return;
    }
    timer_id_ = 0;
    uint64_t n = 1;
    if (interval_ns_ > 0) {
      // Intervals that passed while nobody looked count too (overruns).
      n += static_cast<uint64_t>((now - next_ns_) / interval_ns_);
      next_ns_ += static_cast<int64_t>(n) * interval_ns_;
      ArmLocked();
    } else {
      next_ns_ = 0;
    }
    expirations_ += n;
  }
  queue_.Notify(POLLIN);
}

TimerFd::Setting TimerFd::Set(int64_t value_ns, int64_t interval_ns, bool absolute) {
  Setting old;
  {
    absl::MutexLock l(&mu_);
    old = Setting{next_ns_ == 0 ? 0 : std::max<int64_t>(1, next_ns_ - ClockNs()), interval_ns_};
    generation_++;
    // A new setting forgets expirations not read yet (timerfd_settime).
    expirations_ = 0;
    interval_ns_ = interval_ns;
    if (value_ns == 0) {
      next_ns_ = 0;
    } else {
      next_ns_ = absolute ? value_ns : ClockNs() + value_ns;
      // An absolute time already past fires at once; keep it non-zero.
      if (next_ns_ <= 0) next_ns_ = 1;
    }
    ArmLocked();
  }
  return old;
}

TimerFd::Setting TimerFd::Get() {
  absl::MutexLock l(&mu_);
  if (next_ns_ == 0) return Setting{0, interval_ns_};
  // Expired but not yet fired: "about to", as Linux reports 1 ns.
  return Setting{std::max<int64_t>(1, next_ns_ - ClockNs()), interval_ns_};
}

SysRet TimerFd::Read(Task*, IOSequence& dst) {
  if (dst.remaining() < sizeof(uint64_t)) return SysRet::Err(EINVAL);
  uint64_t v;
  {
    absl::MutexLock l(&mu_);
    if (expirations_ == 0) return SysRet::Err(EAGAIN);
    v = expirations_;
    expirations_ = 0;
  }
  size_t n = TRY_ASSIGN(dst.CopyOut(&v, sizeof(v)));
  if (n != sizeof(v)) return SysRet::Err(EFAULT);
  return static_cast<int64_t>(sizeof(v));
}

uint32_t TimerFd::Readiness(uint32_t mask) {
  absl::MutexLock l(&mu_);
  return expirations_ > 0 ? (POLLIN | POLLRDNORM) & mask : 0;
}

std::shared_ptr<FileDescription> NewTimerFd(Timers* timers, clockid_t clock, uint32_t flags) {
  auto f = std::make_shared<TimerFd>(timers, clock);
  f->Init(VirtualDentry(), O_RDWR | (flags & O_NONBLOCK));
  return f;
}

}  // namespace sentry::vfs
