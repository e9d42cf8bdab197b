// Scheduling: sched_yield, CPU affinity, getcpu, nice values and policies.
//
// The sandbox does not schedule: host threads run the tasks. It keeps the
// per-thread scheduling state Linux reports (nice value, affinity mask,
// policy SCHED_OTHER) with Linux's permission rules, and what a task sees
// agrees with it.
#include <sched.h>
#include <sys/resource.h>

#include <algorithm>

#include "sentry/base/host.h"
#include "syscalls/handlers.h"
#include "syscalls/util.h"

namespace sentry::sys {
namespace {

constexpr int kCapSysNice = 23;

// check_same_owner(): the caller's euid is the target's uid or euid.
bool SameOwner(Task& t, Task& target) {
  if (&t == &target) return true;
  vfs::Credentials c = t.creds(), tc = target.creds();
  return c.euid == tc.euid || c.euid == tc.uid;
}

// The task a sched_* call names: 0 is the caller, else a tid.
ErrorOr<std::shared_ptr<Task>> SchedTarget(Task& t, int32_t pid) {
  if (pid < 0) return Err(EINVAL);
  auto target = t.kernel().TaskByTid(pid == 0 ? t.tid() : pid);
  if (!target || target->exited()) return Err(ESRCH);
  return target;
}

int CpuCount() { return std::max(1, HostCpuCount()); }
size_t MaskWords() { return static_cast<size_t>((CpuCount() + 63) / 64); }

bool CpuAllowed(const std::vector<uint64_t>& m, int cpu) {
  size_t w = static_cast<size_t>(cpu / 64);
  return cpu >= 0 && w < m.size() && ((m[w] >> (cpu % 64)) & 1);
}

// The CPUs `task` may run on: its affinity, or every CPU.
std::vector<uint64_t> EffectiveAffinity(Task& task) {
  std::vector<uint64_t> m = task.cpu_affinity();
  if (!m.empty()) return m;
  m.assign(MaskWords(), 0);
  for (int i = 0; i < CpuCount(); i++) m[static_cast<size_t>(i / 64)] |= uint64_t{1} << (i % 64);
  return m;
}

// The tasks getpriority/setpriority name. who == 0 is the caller, its
// process group, its real uid; PRIO_PROCESS names one thread by tid.
std::vector<Task*> PriorityTargetsLocked(Task& t, int which, int32_t who)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(t.kernel().tasks_mu_) {
  Kernel& k = t.kernel();
  std::vector<Task*> out;
  auto add_if = [&](ThreadGroup* g, auto pred) {
    for (Task* o : g->tasks)
      if (pred(o)) out.push_back(o);
  };
  if (which == PRIO_PROCESS) {
    if (who == 0) return {&t};
    Task* o = k.TaskByTidLocked(who);
    if (o != nullptr && !o->exited()) out.push_back(o);
  } else if (which == PRIO_PGRP) {
    int32_t pgid = who != 0 ? who : (t.tg()->pgrp ? t.tg()->pgrp->pgid : 0);
    if (ProcessGroup* pg = k.FindProcessGroupLocked(pgid)) {
      for (ThreadGroup* g : pg->members) add_if(g, [](Task*) { return true; });
    }
  } else {
    uint32_t uid = who != 0 ? static_cast<uint32_t>(who) : t.creds().uid;
    for (auto& g : k.AllGroupsLocked()) {
      add_if(g.get(), [&](Task* o) { return o->creds().uid == uid; });
    }
  }
  return out;
}

bool ValidWhich(int which) {
  return which == PRIO_PROCESS || which == PRIO_PGRP || which == PRIO_USER;
}

}  // namespace

SysRet SchedYield(Task& t, const SyscallArgs& a) {
  sched_yield();
  return 0;
}

SysRet SchedGetaffinity(Task& t, const SyscallArgs& a) {
  uint64_t len = a[1];
  if (len * 8 < static_cast<uint64_t>(CpuCount()) || (len & 7)) return SysRet::Err(EINVAL);
  auto target = TRY_ASSIGN(SchedTarget(t, static_cast<int32_t>(a[0])));
  std::vector<uint64_t> m = EffectiveAffinity(*target);
  m.resize(MaskWords(), 0);
  TRY(t.CopyOutBytes(UserAddr(a[2]), m.data(), m.size() * 8));
  return static_cast<int64_t>(m.size() * 8);  // cpumask_size()
}

SysRet SchedSetaffinity(Task& t, const SyscallArgs& a) {
  auto target = TRY_ASSIGN(SchedTarget(t, static_cast<int32_t>(a[0])));
  if (!SameOwner(t, *target) && !t.creds().HasCap(kCapSysNice)) return SysRet::Err(EPERM);
  // get_user_cpu_mask(): a shorter buffer leaves the other CPUs clear, a
  // longer one is cut to the kernel's mask size.
  std::vector<uint64_t> m(MaskWords(), 0);
  TRY(t.CopyInBytes(UserAddr(a[2]), m.data(), std::min<uint64_t>(a[1], m.size() * 8)));
  for (int i = CpuCount(); i < static_cast<int>(m.size() * 64); i++) {
    m[static_cast<size_t>(i / 64)] &= ~(uint64_t{1} << (i % 64));
  }
  if (std::all_of(m.begin(), m.end(), [](uint64_t w) { return w == 0; })) {
    return SysRet::Err(EINVAL);
  }
  target->SetCpuAffinity(std::move(m));
  return 0;
}

SysRet Getcpu(Task& t, const SyscallArgs& a) {
  // The host CPU of the task's Sentry thread when its affinity allows it,
  // else the first CPU it allows: a task never sees itself on a CPU its
  // mask excludes.
  std::vector<uint64_t> m = EffectiveAffinity(t);
  int cpu = sched_getcpu();
  if (!CpuAllowed(m, cpu)) {
    for (cpu = 0; cpu < CpuCount() && !CpuAllowed(m, cpu); cpu++) {
    }
  }
  unsigned ucpu = static_cast<unsigned>(cpu), node = 0;
  if (a[0] != 0) TRY(t.CopyOut(UserPtr<unsigned>(a[0]), ucpu));
  if (a[1] != 0) TRY(t.CopyOut(UserPtr<unsigned>(a[1]), node));
  return 0;
}

SysRet Getpriority(Task& t, const SyscallArgs& a) {
  int which = static_cast<int>(a[0]);
  if (!ValidWhich(which)) return SysRet::Err(EINVAL);
  absl::MutexLock l(&t.kernel().tasks_mu_);
  std::vector<Task*> targets = PriorityTargetsLocked(t, which, static_cast<int32_t>(a[1]));
  if (targets.empty()) return SysRet::Err(ESRCH);
  // 20 - nice, so the value is never negative; the best of several.
  int best = 0;
  for (Task* o : targets) best = std::max(best, 20 - o->nice.load());
  return best;
}

SysRet Setpriority(Task& t, const SyscallArgs& a) {
  int which = static_cast<int>(a[0]);
  if (!ValidWhich(which)) return SysRet::Err(EINVAL);
  int n = std::clamp(static_cast<int>(a[2]), -20, 19);
  vfs::Credentials c = t.creds();
  absl::MutexLock l(&t.kernel().tasks_mu_);
  std::vector<Task*> targets = PriorityTargetsLocked(t, which, static_cast<int32_t>(a[1]));
  if (targets.empty()) return SysRet::Err(ESRCH);
  Errno err = 0;
  for (Task* o : targets) {
    // set_one_prio(): the target must be ours (its uid or euid is our
    // euid); raising the priority needs RLIMIT_NICE room or CAP_SYS_NICE.
    vfs::Credentials tc = o->creds();
    if (tc.uid != c.euid && tc.euid != c.euid && !c.HasCap(kCapSysNice)) {
      err = EPERM;
      continue;
    }
    uint64_t nice_rlim = static_cast<uint64_t>(20 - n);
    if (n < o->nice.load() && nice_rlim > o->tg()->limits.Cur(RLIMIT_NICE) &&
        !c.HasCap(kCapSysNice)) {
      err = EACCES;
      continue;
    }
    o->nice.store(n);
  }
  return err == 0 ? SysRet(0) : SysRet::Err(err);
}

SysRet SchedGetscheduler(Task& t, const SyscallArgs& a) {
  TRY_ASSIGN(SchedTarget(t, static_cast<int32_t>(a[0])));
  return SCHED_OTHER;
}

SysRet SchedSetscheduler(Task& t, const SyscallArgs& a) {
  if (static_cast<int32_t>(a[0]) < 0 || a[2] == 0) return SysRet::Err(EINVAL);
  int policy = static_cast<int>(a[1]) & ~SCHED_RESET_ON_FORK;
  struct sched_param p;
  TRY(t.CopyInBytes(UserAddr(a[2]), &p, sizeof(p)));
  auto target = TRY_ASSIGN(SchedTarget(t, static_cast<int32_t>(a[0])));
  if (policy == SCHED_OTHER || policy == SCHED_BATCH || policy == SCHED_IDLE) {
    if (p.sched_priority != 0) return SysRet::Err(EINVAL);
    if (!SameOwner(t, *target) && !t.creds().HasCap(kCapSysNice)) return SysRet::Err(EPERM);
    return 0;
  }
  // Real-time policies are not offered: the sandbox cannot give them.
  if (policy == SCHED_FIFO || policy == SCHED_RR) {
    if (p.sched_priority < 1 || p.sched_priority > 99) return SysRet::Err(EINVAL);
    return SysRet::Err(EPERM);
  }
  return SysRet::Err(EINVAL);
}

SysRet SchedGetparam(Task& t, const SyscallArgs& a) {
  if (static_cast<int32_t>(a[0]) < 0 || a[1] == 0) return SysRet::Err(EINVAL);
  TRY_ASSIGN(SchedTarget(t, static_cast<int32_t>(a[0])));
  struct sched_param p{};
  TRY(t.CopyOutBytes(UserAddr(a[1]), &p, sizeof(p)));
  return 0;
}

SysRet SchedSetparam(Task& t, const SyscallArgs& a) {
  if (static_cast<int32_t>(a[0]) < 0 || a[1] == 0) return SysRet::Err(EINVAL);
  struct sched_param p;
  TRY(t.CopyInBytes(UserAddr(a[1]), &p, sizeof(p)));
  TRY_ASSIGN(SchedTarget(t, static_cast<int32_t>(a[0])));
  return p.sched_priority == 0 ? 0 : SysRet::Err(EINVAL);
}

SysRet SchedGetPriorityMax(Task& t, const SyscallArgs& a) {
  int p = static_cast<int>(a[0]);
  if (p == SCHED_FIFO || p == SCHED_RR) return 99;
  if (p == SCHED_OTHER || p == SCHED_BATCH || p == SCHED_IDLE || p == SCHED_DEADLINE) return 0;
  return SysRet::Err(EINVAL);
}

SysRet SchedGetPriorityMin(Task& t, const SyscallArgs& a) {
  int p = static_cast<int>(a[0]);
  if (p == SCHED_FIFO || p == SCHED_RR) return 1;
  if (p == SCHED_OTHER || p == SCHED_BATCH || p == SCHED_IDLE || p == SCHED_DEADLINE) return 0;
  return SysRet::Err(EINVAL);
}

}  // namespace sentry::sys
