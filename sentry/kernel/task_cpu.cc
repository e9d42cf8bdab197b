// CPU-time sampling (see cpu_time.h).
#include <time.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"

namespace sentry {
namespace {

uint64_t ThisThreadCpuNs() {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

CpuTimes Task::OwnCpuTime() { return OwnCpuTimeAt(ThisThreadCpuNs()); }

CpuTimes Task::OwnCpuTimeAt(uint64_t thread_ns) {
  // The Sentry thread's CPU inside Switch (resuming the application,
  // waiting for it) is already in the application's time.
  uint64_t sys = thread_ns > switch_cpu_ns_ ? thread_ns - switch_cpu_ns_ : 0;
  return {ctx_->AppCpuTimeNs(), sys};
}

uint64_t Task::SwitchStartCpu() { return ThisThreadCpuNs(); }

void Task::AccountCpuTime(uint64_t switch_start_cpu) {
  uint64_t thread_ns = ThisThreadCpuNs();
  if (switch_start_cpu != 0 && thread_ns > switch_start_cpu) {
    switch_cpu_ns_ += thread_ns - switch_start_cpu;
  }
  CpuTimes now = OwnCpuTimeAt(thread_ns);
  CpuTimes pub = PublishedCpuTime();
  // Clocks never run backwards, but a platform context that changed its
  // host thread could report less; never un-charge the group.
  uint64_t du = now.user_ns > pub.user_ns ? now.user_ns - pub.user_ns : 0;
  uint64_t ds = now.sys_ns > pub.sys_ns ? now.sys_ns - pub.sys_ns : 0;
  pub_user_ns_.store(pub.user_ns + du, std::memory_order_release);
  pub_sys_ns_.store(pub.sys_ns + ds, std::memory_order_release);
  tg_->cpu_user_ns.fetch_add(du);
  tg_->cpu_sys_ns.fetch_add(ds);
  if (!tg_->cpu_timers.armed()) return;
  std::vector<int> sigs = tg_->cpu_timers.Check(tg_->CpuTime());
  if (sigs.empty()) return;
  absl::MutexLock l(&k_->tasks_mu_);
  for (int sig : sigs) {
    // The itimers' signals come from the kernel (SEND_SIG_PRIV).
    k_->SendSignalLocked(tg_.get(), nullptr, MakeSigInfo(sig, SI_KERNEL));
  }
}

CpuTimes Kernel::ProcessCpuTime(Task& reader, ThreadGroup* g) {
  CpuTimes c = g->CpuTime();
  if (reader.tg() == g) {
    // Add what the reader used since its last sample.
    CpuTimes own = reader.OwnCpuTime(), pub = reader.PublishedCpuTime();
    if (own.user_ns > pub.user_ns) c.user_ns += own.user_ns - pub.user_ns;
    if (own.sys_ns > pub.sys_ns) c.sys_ns += own.sys_ns - pub.sys_ns;
  }
  return c;
}

CpuTimes Kernel::ThreadCpuTime(Task& reader, Task* target) {
  return target == &reader ? reader.OwnCpuTime() : target->PublishedCpuTime();
}

void Task::PreemptForTick() {
  if (in_app_.load(std::memory_order_acquire)) ctx_->Interrupt();
}

}  // namespace sentry
