// Reading a task's state for /proc: references that notice pid reuse,
// ownership, and the data behind stat/status/statm and mounts. Locks are
// taken in the kernel's order: tasks_mu_, then SignalHandlers::mu; Task::mu_
// (creds, comm, resource pointers) only after both are released or under
// tasks_mu_ alone.
#include <sys/sysmacros.h>

#include <time.h>

#include <algorithm>
#include <functional>

#include "absl/strings/str_format.h"
#include "fs/proc/proc_internal.h"

namespace sentry::proc {
namespace {

uint64_t ThreadCpuNs() {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Linux grows a process's fd array in powers of two from BITS_PER_LONG.
int FdSlots(FDTable* fds) {
  int highest = -1;
  for (int fd : fds->Fds()) highest = std::max(highest, fd);
  int slots = 64;
  while (slots <= highest) slots *= 2;
  return slots;
}

template <typename T>
std::shared_ptr<T> FromAnyThread(const TaskRef& r, Task* t, std::shared_ptr<T> (Task::*get)()) {
  std::shared_ptr<T> v = (t->*get)();
  if (v || r.thread) return v;
  absl::MutexLock l(&r.kernel()->tasks_mu_);
  for (Task* o : t->tg()->tasks) {
    v = (o->*get)();
    if (v) break;
  }
  return v;
}

}  // namespace

ErrorOr<std::shared_ptr<Task>> TaskRef::Get() const {
  std::shared_ptr<Task> t = task.lock();
  if (!t || fs->kernel()->TaskByTid(tid) != t) return Err(ESRCH);
  return t;
}

ErrorOr<TaskRef> RefFor(ProcFs* fs, int32_t tid, bool thread) {
  std::shared_ptr<Task> t = fs->kernel()->TaskByTid(tid);
  if (!t) return Err(ENOENT);
  return TaskRef{fs, tid, thread, t};
}

uint64_t TaskIno(const TaskRef& r, std::string_view name) {
  std::string key = absl::StrFormat("%d/%d/%s", r.tid, r.thread ? 1 : 0, name);
  // Above the numbers NextInodeNumber hands out, and below 2^32 so
  // 32-bit stat never overflows.
  return (std::hash<std::string>{}(key) & 0x7fffffffull) | 0x80000000ull;
}

int64_t ParseDecimalName(std::string_view name) {
  if (name.empty() || name.size() > 10 || (name[0] == '0' && name.size() > 1)) return -1;
  int64_t v = 0;
  for (char c : name) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v <= INT32_MAX ? v : -1;
}

Errno MayAccessTask(const vfs::PathContext& ctx, Task* target) {
  constexpr int kCapSysPtrace = 19;
  if (ctx.task == nullptr || ctx.task->tg() == target->tg()) return 0;
  const vfs::Credentials& c = ctx.creds;
  vfs::Credentials tc = target->creds();
  bool same_user = c.fsuid == tc.uid && c.fsuid == tc.euid && c.fsuid == tc.suid &&
                   c.fsgid == tc.gid && c.fsgid == tc.egid && c.fsgid == tc.sgid;
  if (same_user || c.HasCap(kCapSysPtrace)) return 0;
  return EACCES;
}

void FillTaskOwner(const TaskRef& r, vfs::Attr& a) {
  auto t = r.Get();
  if (!t.ok()) return;
  vfs::Credentials c = (*t)->creds();
  a.uid = c.euid;
  a.gid = c.egid;
}

std::shared_ptr<MemoryManager> MMOf(const TaskRef& r, Task* t) {
  return FromAnyThread(r, t, &Task::mm_ptr);
}
std::shared_ptr<FDTable> FDsOf(const TaskRef& r, Task* t) {
  return FromAnyThread(r, t, &Task::fds_ptr);
}
std::shared_ptr<FSContext> FSOf(const TaskRef& r, Task* t) {
  return FromAnyThread(r, t, &Task::fs_ptr);
}

ErrorOr<TaskInfo> GatherTaskInfo(const TaskRef& r, Task* reader) {
  std::shared_ptr<Task> t = TRY_ASSIGN(r.Get());
  Kernel* k = r.kernel();
  ThreadGroup* g = t->tg();
  TaskInfo info;
  info.pid = t->tid();
  info.num_cpus = r.fs->opts().num_cpus;
  bool zombie, stopped;
  {
    absl::MutexLock l(&k->tasks_mu_);
    info.tgid = g->tgid();
    info.ppid = g->parent ? g->parent->tgid() : 0;
    if (g->pgrp != nullptr) {
      info.pgrp = g->pgrp->pgid;
      if (g->pgrp->session != nullptr) info.sid = g->pgrp->session->sid;
    }
    if (g->tty != nullptr) {
      uint64_t d = g->tty->rdev();
      uint32_t maj = major(d), min = minor(d);
      info.tty_nr = (min & 0xff) | (maj << 8) | ((min & ~0xffu) << 12);
      info.tpgid = g->tty->fg_pgid;
    }
    info.threads = std::max<int>(1, static_cast<int>(g->tasks.size()));
    info.exit_signal = g->exit_signal;
    zombie = g->zombie || t->exited();
    if (g->zombie) info.exit_code = g->wait_status;
    absl::MutexLock sl(&g->sighand->mu);
    info.sig_blk = t->mask_;
    info.sig_pnd = t->pending_.set();
    info.shd_pnd = g->shared_pending.set();
    info.sigq = t->pending_.QueuedCount() + g->shared_pending.QueuedCount();
    for (int s = 1; s <= kNumSignals; s++) {
      uint64_t h = g->sighand->actions[s].handler;
      if (h == kSigIgn) {
        info.sig_ign |= SigBit(s);
      } else if (h != kSigDfl) {
        info.sig_cgt |= SigBit(s);
      }
    }
    stopped = g->group_stopped;
  }
  // A task reading about itself is running; everything else the Sentry
  // cannot tell apart from waiting, which is what most tasks do.
  info.state = zombie ? 'Z' : stopped ? 'T' : reader == t.get() ? 'R' : 'S';
  info.comm = t->comm();
  info.creds = t->creds();
  // prctl state and nice are the task's own, unsynchronised fields: only
  // the task itself may read them.
  if (reader == t.get()) {
    info.nice = t->nice;
    info.no_new_privs = t->no_new_privs;
  }
  // Atomics, readable by anyone (as Linux shows them to other readers).
  info.seccomp_mode = t->seccomp_mode();
  info.seccomp_filters = t->seccomp_filter_count();
  if (auto fsc = FSOf(r, t.get())) info.umask = fsc->umask();
  if (auto fds = FDsOf(r, t.get())) info.fd_slots = FdSlots(fds.get());
  if (auto mm = MMOf(r, t.get())) {
    info.mem = SummarizeVmas(mm->VmaStats(), mm->executable_path());
    AddrRange argv = mm->argv_range(), envp = mm->envp_range();
    info.mem.arg_start = argv.start;
    info.mem.arg_end = argv.end;
    info.mem.env_start = envp.start;
    info.mem.env_end = envp.end;
    // The initial stack pointer sits just below the argument strings.
    info.mem.start_stack = argv.start & ~uint64_t{15};
    info.mem.start_brk = mm->brk_start().value();
  }
  info.rss_limit = g->limits.Cur(RLIMIT_RSS);
  info.sigq_limit = g->limits.Cur(RLIMIT_SIGPENDING);
  // Live threads' CPU time is accounted when they exit; a task reading its
  // own entries adds its current time, which only its own thread may read.
  info.utime_ns = g->user_ns;
  info.stime_ns = g->sys_ns;
  if (reader != nullptr && reader->tg() == g && (!r.thread || reader == t.get())) {
    info.utime_ns += reader->platform_context()->AppCpuTimeNs();
    info.stime_ns += ThreadCpuNs();
  }
  info.cutime_ns = g->child_user_ns;
  info.cstime_ns = g->child_sys_ns;
  info.start_ns = g->start_ns;
  return info;
}

std::vector<MountRow> GatherMounts(vfs::VFS* vfs, const vfs::VirtualDentry& root) {
  std::vector<MountRow> rows;
  for (const std::shared_ptr<vfs::Mount>& m : vfs->Mounts()) {
    bool reachable = true;
    std::string path = vfs->PathOf(vfs::VirtualDentry{m, m->root}, root, &reachable);
    if (!reachable) continue;  // outside the reader's root, as Linux hides them
    MountRow row;
    row.id = m->id;
    // The namespace root's parent is not visible; it names itself.
    row.parent_id = m->parent ? m->parent->id : m->id;
    row.dev = m->fs->dev();
    row.mount_point = std::move(path);
    row.fstype = std::string(m->fs->Name());
    row.source = m->source;
    row.flags = m->flags;
    row.fs_options = m->fs->MountOptions();
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace sentry::proc
