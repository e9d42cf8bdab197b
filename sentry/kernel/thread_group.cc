#include "sentry/kernel/thread_group.h"

#include <algorithm>

namespace sentry {

bool PendingSignals::Enqueue(const siginfo_t& info) {
  int sig = info.si_signo;
  if (!IsRealtime(sig) && (set_ & SigBit(sig))) return false;
  // RLIMIT_SIGPENDING is not modelled; keep a hard cap against floods.
  if (IsRealtime(sig) && queue_.size() >= 4096) return false;
  set_ |= SigBit(sig);
  queue_.push_back(info);
  return true;
}

bool PendingSignals::Dequeue(SigSet blocked, siginfo_t* out) {
  SigSet ready = set_ & ~blocked;
  if (ready == 0) return false;
  // Lowest-numbered first, as Linux does for standard signals; real-time
  // signals of the same number come out in arrival order.
  int sig = __builtin_ctzll(ready) + 1;
  auto it = std::find_if(queue_.begin(), queue_.end(),
                         [sig](const siginfo_t& s) { return s.si_signo == sig; });
  if (it == queue_.end()) {
    set_ &= ~SigBit(sig);
    return false;
  }
  *out = *it;
  queue_.erase(it);
  bool more = std::any_of(queue_.begin(), queue_.end(),
                          [sig](const siginfo_t& s) { return s.si_signo == sig; });
  if (!more) set_ &= ~SigBit(sig);
  return true;
}

void PendingSignals::Discard(int sig) {
  queue_.erase(std::remove_if(queue_.begin(), queue_.end(),
                              [sig](const siginfo_t& s) { return s.si_signo == sig; }),
               queue_.end());
  set_ &= ~SigBit(sig);
}

siginfo_t* PendingSignals::FindTimer(int timer_id) {
  for (siginfo_t& s : queue_) {
    if (s.si_code == SI_TIMER && s.si_timerid == timer_id) return &s;
  }
  return nullptr;
}

void PendingSignals::DiscardTimers() {
  queue_.erase(std::remove_if(queue_.begin(), queue_.end(),
                              [](const siginfo_t& s) { return s.si_code == SI_TIMER; }),
               queue_.end());
  // Every pending signal has its queue entry: what is left is pending.
  set_ = 0;
  for (const siginfo_t& s : queue_) set_ |= SigBit(s.si_signo);
}

void PendingSignals::DiscardMask(SigSet m) {
  for (int s = 1; s <= kNumSignals; s++)
    if (m & SigBit(s)) Discard(s);
}

std::shared_ptr<SignalHandlers> SignalHandlers::Copy() {
  auto c = std::make_shared<SignalHandlers>();
  absl::MutexLock l(&mu);
  absl::MutexLock cl(&c->mu);
  c->actions = actions;
  return c;
}

void SignalHandlers::ResetForExec() {
  absl::MutexLock l(&mu);
  for (KSigaction& a : actions) {
    if (a.handler != kSigIgn) a = KSigaction{};
    a.flags = 0;
    a.mask = 0;
    a.restorer = 0;
  }
}

Limits::Limits() {
  for (auto& x : l_) x = {RLIM_INFINITY, RLIM_INFINITY};
  l_[RLIMIT_STACK] = {8 << 20, RLIM_INFINITY};
  l_[RLIMIT_NOFILE] = {1024, 1048576};
  l_[RLIMIT_CORE] = {0, RLIM_INFINITY};
  l_[RLIMIT_NPROC] = {65536, 65536};
  l_[RLIMIT_SIGPENDING] = {65536, 65536};
  l_[RLIMIT_MSGQUEUE] = {819200, 819200};
  l_[RLIMIT_MEMLOCK] = {8 << 20, 8 << 20};
  l_[RLIMIT_RTPRIO] = {0, 0};
  l_[RLIMIT_NICE] = {0, 0};
}

struct rlimit Limits::Get(int r) {
  absl::MutexLock l(&mu_);
  return l_[static_cast<size_t>(r)];
}

void Limits::Set(int r, struct rlimit v) {
  absl::MutexLock l(&mu_);
  l_[static_cast<size_t>(r)] = v;
}

ThreadGroup::ThreadGroup(Kernel* k, int32_t tgid, std::shared_ptr<SignalHandlers> sh)
    : sighand(std::move(sh)), k_(k), tgid_(tgid) {}

}  // namespace sentry
