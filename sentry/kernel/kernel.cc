#include "sentry/kernel/kernel.h"

#include <time.h>

#include <algorithm>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "sentry/base/log.h"

namespace sentry {
namespace {
constexpr int32_t kPidMax = 4194304;

// The sandbox shares the host's clocks (CLOCK_BOOTTIME reads the host's),
// so its uptime is the host's: sysinfo(2), /proc/uptime and
// clock_gettime(CLOCK_BOOTTIME) agree, as they do on Linux.
uint64_t BoottimeNs() {
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}
}  // namespace

Kernel::Kernel(Platform* p, MemoryFile* mf, vfs::VFS* vfs, KernelOptions opts)
    : platform_(p), mf_(mf), vfs_(vfs), opts_(std::move(opts)) {
  hostname_ = opts_.hostname;
}

Kernel::~Kernel() = default;

uint64_t Kernel::UptimeNs() const { return BoottimeNs(); }

std::string Kernel::hostname() {
  absl::MutexLock l(&uts_mu_);
  return hostname_;
}
void Kernel::SetHostname(std::string h) {
  absl::MutexLock l(&uts_mu_);
  hostname_ = std::move(h);
}
std::string Kernel::domainname() {
  absl::MutexLock l(&uts_mu_);
  return domainname_;
}
void Kernel::SetDomainname(std::string d) {
  absl::MutexLock l(&uts_mu_);
  domainname_ = std::move(d);
}

ErrorOr<int32_t> Kernel::AllocPidLocked() {
  for (int32_t i = 0; i < kPidMax; i++) {
    last_pid_ = last_pid_ >= kPidMax - 1 ? 1 : last_pid_ + 1;
    int32_t p = last_pid_;
    if (tasks_.contains(p) || groups_.contains(p) || pgroups_.contains(p) || sessions_.contains(p)) {
      continue;
    }
    return p;
  }
  return Err(EAGAIN);
}

void Kernel::RegisterTaskLocked(std::shared_ptr<Task> t) { tasks_[t->tid()] = std::move(t); }
void Kernel::RegisterGroupLocked(std::shared_ptr<ThreadGroup> g) { groups_[g->tgid()] = std::move(g); }
void Kernel::UnregisterTaskLocked(int32_t tid) { tasks_.erase(tid); }
void Kernel::UnregisterGroupLocked(int32_t tgid) { groups_.erase(tgid); }

std::shared_ptr<Task> Kernel::TaskByTid(int32_t tid) {
  absl::MutexLock l(&tasks_mu_);
  auto it = tasks_.find(tid);
  return it == tasks_.end() ? nullptr : it->second;
}

std::shared_ptr<ThreadGroup> Kernel::GroupByTgid(int32_t tgid) {
  absl::MutexLock l(&tasks_mu_);
  auto it = groups_.find(tgid);
  return it == groups_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<ThreadGroup>> Kernel::AllGroups() {
  absl::MutexLock l(&tasks_mu_);
  return AllGroupsLocked();
}

Task* Kernel::TaskByTidLocked(int32_t tid) {
  auto it = tasks_.find(tid);
  return it == tasks_.end() ? nullptr : it->second.get();
}

std::vector<std::shared_ptr<ThreadGroup>> Kernel::AllGroupsLocked() {
  std::vector<std::shared_ptr<ThreadGroup>> out;
  for (auto& [id, g] : groups_) out.push_back(g);
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a->tgid() < b->tgid(); });
  return out;
}

ProcessGroup* Kernel::FindProcessGroupLocked(int32_t pgid) {
  auto it = pgroups_.find(pgid);
  return it == pgroups_.end() ? nullptr : it->second.get();
}

Session* Kernel::FindSessionLocked(int32_t sid) {
  auto it = sessions_.find(sid);
  return it == sessions_.end() ? nullptr : it->second.get();
}

Session* Kernel::CreateSessionLocked(int32_t sid) {
  auto s = std::make_unique<Session>();
  s->sid = sid;
  Session* raw = s.get();
  sessions_[sid] = std::move(s);
  return raw;
}

ProcessGroup* Kernel::CreateProcessGroupLocked(int32_t pgid, Session* s) {
  auto pg = std::make_unique<ProcessGroup>();
  pg->pgid = pgid;
  pg->session = s;
  ProcessGroup* raw = pg.get();
  s->groups.push_back(raw);
  pgroups_[pgid] = std::move(pg);
  return raw;
}

void Kernel::JoinProcessGroupLocked(ThreadGroup* g, ProcessGroup* pg) {
  if (g->pgrp == pg) return;
  if (ProcessGroup* old = g->pgrp) {
    auto& m = old->members;
    m.erase(std::remove(m.begin(), m.end(), g), m.end());
    if (m.empty()) {
      // An empty process group disappears; so does an empty session.
      Session* s = old->session;
      auto& gs = s->groups;
      gs.erase(std::remove(gs.begin(), gs.end(), old), gs.end());
      int32_t id = old->pgid;
      if (gs.empty()) sessions_.erase(s->sid);
      pgroups_.erase(id);
    }
  }
  g->pgrp = pg;
  if (pg) pg->members.push_back(g);
}

void Kernel::TaskThreadDone() {
  absl::MutexLock l(&tasks_mu_);
  running_threads_--;
}

absl::Status Kernel::StartInit(const InitSpec& spec) {
  std::shared_ptr<Task> task;
  {
    absl::MutexLock l(&tasks_mu_);
    auto pid = AllocPidLocked();
    SCHECK(pid.ok() && *pid == 1);
    init_ = std::make_shared<ThreadGroup>(this, 1, std::make_shared<SignalHandlers>());
    init_->exit_signal = SIGCHLD;
    init_->start_ns = UptimeNs();
    Session* s = CreateSessionLocked(1);
    JoinProcessGroupLocked(init_.get(), CreateProcessGroupLocked(1, s));
    auto init_task = std::make_shared<Task>(this, init_, 1);
    init_->leader = init_task.get();
    init_->tasks.push_back(init_task.get());
    RegisterGroupLocked(init_);
    RegisterTaskLocked(init_task);
    if (!opts_.sentry_init) {
      main_ = init_;
      task = init_task;
    } else {
      // The Sentry's init never runs: its task only anchors pid 1. It
      // ignores SIGCHLD, so the orphans it inherits are reaped as they die.
      init_->kernel_only = true;
      {
        absl::MutexLock sl(&init_->sighand->mu);
        init_->sighand->actions[SIGCHLD].handler = kSigIgn;
      }
      init_task->SetComm("init");
      auto main_pid = AllocPidLocked();
      SCHECK(main_pid.ok());
      main_ = std::make_shared<ThreadGroup>(this, *main_pid, std::make_shared<SignalHandlers>());
      main_->exit_signal = SIGCHLD;
      main_->start_ns = UptimeNs();
      main_->parent = init_.get();
      main_->parent_task = init_task.get();
      init_->children.push_back(main_.get());
      JoinProcessGroupLocked(main_.get(), init_->pgrp);
      task = std::make_shared<Task>(this, main_, *main_pid);
      main_->leader = task.get();
      main_->tasks.push_back(task.get());
      RegisterGroupLocked(main_);
      RegisterTaskLocked(task);
    }
    running_threads_++;
  }
  for (const auto& [r, lim] : spec.rlimits) {
    init_->limits.Set(r, lim);
    main_->limits.Set(r, lim);
  }
  return ExecFirstProgram(task, spec);
}

absl::Status Kernel::ExecFirstProgram(const std::shared_ptr<Task>& task, const InitSpec& spec) {
  task->SetCreds(spec.creds);
  vfs::VirtualDentry root = vfs_->Root();
  vfs::PathContext ctx;
  ctx.creds = spec.creds;
  ctx.root = root;
  ctx.cwd = root;
  auto cwd = vfs_->Resolve(ctx, root, spec.cwd, vfs::kFollow | vfs::kMustBeDir);
  if (!cwd.ok()) {
    return ErrnoToStatus(cwd.error(), absl::StrFormat("working directory %s", spec.cwd));
  }
  task->SetFS(std::make_shared<FSContext>(root, *cwd, spec.umask));
  auto fds = std::make_shared<FDTable>();
  for (size_t i = 0; i < spec.stdio.size(); i++) {
    if (spec.stdio[i]) (void)fds->Set(static_cast<int>(i), spec.stdio[i], false, 1 << 20);
  }
  task->SetFDTable(fds);

  // Like execvp: a name without '/' is looked up in $PATH (inside the
  // sandbox's file system).
  std::string path = spec.path;
  if (path.find('/') == std::string::npos) {
    std::string search = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (const std::string& e : spec.envv) {
      if (e.rfind("PATH=", 0) == 0) search = e.substr(5);
    }
    std::string found;
    for (absl::string_view dir : absl::StrSplit(search, ':')) {
      std::string cand = absl::StrFormat("%s/%s", dir.empty() ? "." : dir, path);
      auto vd = vfs_->Resolve(ctx, *cwd, cand, vfs::kFollow);
      if (!vd.ok()) continue;
      auto a = vd->dentry->inode()->GetAttr();
      if (a.ok() && a->IsRegular() && vfs::VFS::CheckPermission(ctx.creds, *a, vfs::kMayExec) == 0) {
        found = cand;
        break;
      }
    }
    if (found.empty()) return absl::NotFoundError(absl::StrFormat("%s: command not found", path));
    path = found;
  }
  if (!spec.seccomp_filter.empty() && seccomp::CheckProgram(spec.seccomp_filter) != 0) {
    return absl::InvalidArgumentError("the seccomp filter is not a valid seccomp BPF program");
  }
  Errno e = Execve(*task, *cwd, path, spec.argv, spec.envv, vfs::kFollow);
  if (e != 0) return ErrnoToStatus(e, absl::StrFormat("cannot execute %s", path));
  if (spec.no_new_privs) task->no_new_privs.store(true);
  if (!spec.seccomp_filter.empty()) {
    SysRet r = task->InstallSeccompFilter(spec.seccomp_filter, 0);
    if (!r.ok()) return ErrnoToStatus(r.error(), "installing the seccomp filter");
  }
  task->Start(task);
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<ThreadGroup>> Kernel::StartProcess(const InitSpec& spec) {
  std::shared_ptr<Task> task;
  std::shared_ptr<ThreadGroup> g;
  {
    absl::MutexLock l(&tasks_mu_);
    if (main_exited_ || main_ == nullptr) {
      return absl::FailedPreconditionError("the container is not running");
    }
    auto pid = AllocPidLocked();
    if (!pid.ok()) return ErrnoToStatus(pid.error(), "no pid left");
    g = std::make_shared<ThreadGroup>(this, *pid, std::make_shared<SignalHandlers>());
    g->exit_signal = SIGCHLD;
    g->start_ns = UptimeNs();
    Session* s = CreateSessionLocked(*pid);
    JoinProcessGroupLocked(g.get(), CreateProcessGroupLocked(*pid, s));
    task = std::make_shared<Task>(this, g, *pid);
    g->leader = task.get();
    g->tasks.push_back(task.get());
    RegisterGroupLocked(g);
    RegisterTaskLocked(task);
    running_threads_++;
  }
  for (const auto& [r, lim] : spec.rlimits) g->limits.Set(r, lim);
  absl::Status s = ExecFirstProgram(task, spec);
  if (!s.ok()) {
    // It never ran: take it out of the tree again.
    absl::MutexLock l(&tasks_mu_);
    g->tasks.clear();
    ReapLocked(g.get());
    running_threads_--;
    return s;
  }
  return g;
}

int Kernel::WaitProcess(const std::shared_ptr<ThreadGroup>& g) {
  absl::MutexLock l(&tasks_mu_);
  ThreadGroup* tg = g.get();
  tasks_mu_.Await(absl::Condition(
      +[](ThreadGroup* x) ABSL_EXCLUSIVE_LOCKS_REQUIRED(x->kernel()->tasks_mu_) {
        return x->zombie;
      },
      tg));
  int status = tg->wait_status;
  ReapLocked(tg);
  return status;
}

int Kernel::WaitForInit() {
  absl::MutexLock l(&tasks_mu_);
  tasks_mu_.Await(absl::Condition(
      +[](Kernel* k) ABSL_EXCLUSIVE_LOCKS_REQUIRED(k->tasks_mu_) { return k->main_exited_; }, this));
  // Everything else was killed when the command died; give the threads time to
  // unwind so nothing is left when the Sentry exits.
  tasks_mu_.AwaitWithTimeout(
      absl::Condition(
          +[](Kernel* k) ABSL_EXCLUSIVE_LOCKS_REQUIRED(k->tasks_mu_) {
            return k->running_threads_ == 0;
          },
          this),
      absl::Seconds(5));
  return main_->wait_status;
}

}  // namespace sentry
