// Kernel: the sandbox's one instance of everything global: the platform,
// the MemoryFile, the VFS, the task tree with its (single) pid namespace,
// futexes, clocks and the UTS names.
#ifndef SENTRY_KERNEL_KERNEL_H_
#define SENTRY_KERNEL_KERNEL_H_

#include <linux/filter.h>
#include <sys/wait.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "fs/vfs/vfs.h"
#include "platform/platform.h"
#include "sentry/kernel/futex.h"
#include "sentry/kernel/ipc_msg.h"
#include "sentry/kernel/ipc_sem.h"
#include "sentry/kernel/ipc_shm.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/kernel/timers.h"
#include "sentry/mm/memory_file.h"

namespace sentry {

struct KernelOptions {
  bool strace = false;
  // Pid 1 ignores signals it has no handler for when they come from inside
  // the sandbox, like a container's init (pid namespace semantics). Off
  // for `runsc do`, whose command should die from its own signals as it
  // would natively.
  bool protect_init = false;
  // Pid 1 is the Sentry's own init, a process without application code
  // that reaps orphans (like `docker run --init`), and the command runs
  // as pid 2, its child: it has a parent, as it would natively, and dies
  // from its own signals. Off: the command itself is pid 1 (an OCI
  // container's entrypoint). The sandbox ends when the command exits.
  bool sentry_init = true;
  std::string hostname = "sandbox";
};

// What the first process starts with.
struct InitSpec {
  std::string path;  // executable (resolved inside the sandbox with PATH)
  std::vector<std::string> argv;
  std::vector<std::string> envv;
  std::string cwd = "/";
  vfs::Credentials creds;
  std::vector<std::shared_ptr<vfs::FileDescription>> stdio;  // fds 0, 1, 2...
  uint32_t umask = 022;
  std::vector<std::pair<int, struct rlimit>> rlimits;
  // A seccomp filter (classic BPF) installed before the first instruction,
  // as if the program had called seccomp(2) (OCI linux.seccomp).
  std::vector<sock_filter> seccomp_filter;
  bool no_new_privs = false;
};

class Kernel {
 public:
  Kernel(Platform* p, MemoryFile* mf, vfs::VFS* vfs, KernelOptions opts);
  ~Kernel();

  Platform* platform() const { return platform_; }
  MemoryFile* memory_file() const { return mf_; }
  vfs::VFS* vfs() const { return vfs_; }
  Futexes& futexes() { return futexes_; }
  Timers& timers() { return timers_; }
  ShmRegistry& shm() { return shm_; }
  SemRegistry& sem() { return sem_; }
  MsgRegistry& msg() { return msg_; }
  const KernelOptions& options() const { return opts_; }

  // Starts the command (pid 1, or pid 2 under the Sentry's init). Errors
  // are for the user (e.g. executable not found).
  absl::Status StartInit(const InitSpec& spec);
  // Blocks until the command exits, kills what is left, waits for every
  // task thread, and returns the command's wait status.
  int WaitForInit();
  // Starts another process in the running sandbox (runsc exec): its own
  // session and process group, and no parent inside the sandbox (as a
  // process entered from outside a pid namespace), so nobody inside
  // reaps it: WaitProcess does.
  absl::StatusOr<std::shared_ptr<ThreadGroup>> StartProcess(const InitSpec& spec);
  // Blocks until `g` (from StartProcess) has exited, reaps it and returns
  // its wait status.
  int WaitProcess(const std::shared_ptr<ThreadGroup>& g);

  // --- the task tree; tasks_mu_ is the outermost kernel lock ---
  absl::Mutex tasks_mu_;
  std::shared_ptr<Task> TaskByTid(int32_t tid);
  std::shared_ptr<ThreadGroup> GroupByTgid(int32_t tgid);
  // Every live thread group (for kill(-1), /proc).
  std::vector<std::shared_ptr<ThreadGroup>> AllGroups();
  std::vector<std::shared_ptr<ThreadGroup>> AllGroupsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);
  Task* TaskByTidLocked(int32_t tid) ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);
  ThreadGroup* init_group() const { return init_.get(); }

  // Allocates a pid not in use as a tid, tgid, pgid or sid.
  ErrorOr<int32_t> AllocPidLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);
  void RegisterTaskLocked(std::shared_ptr<Task> t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);
  void RegisterGroupLocked(std::shared_ptr<ThreadGroup> g) ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);
  // Forgets a reaped task / group (frees the pid).
  void UnregisterTaskLocked(int32_t tid) ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);
  void UnregisterGroupLocked(int32_t tgid) ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);
  ProcessGroup* FindProcessGroupLocked(int32_t pgid) ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);
  ProcessGroup* CreateProcessGroupLocked(int32_t pgid, Session* s)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);
  Session* CreateSessionLocked(int32_t sid) ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);
  Session* FindSessionLocked(int32_t sid) ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);
  void JoinProcessGroupLocked(ThreadGroup* g, ProcessGroup* pg) ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);

  // Starts the exit of every task in `g` with wait status `status` (an
  // exit_group code << 8, or a fatal signal number). First caller wins.
  void GroupExit(ThreadGroup* g, int status);
  // The wait status of a process killed by `sig`: with the core-dump flag
  // for a core-dumping signal when Linux would write a core (dumpable,
  // RLIMIT_CORE of at least a page, as for a file core_pattern). The
  // Sentry writes no core file itself.
  int FatalSignalStatus(ThreadGroup* g, int sig);
  void GroupExitLocked(ThreadGroup* g, int status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);

  // wait4/waitid (task_exit.cc).
  struct WaitOptions {
    int id_type = P_ALL;  // P_ALL, P_PID, P_PGID (P_PIDFD is resolved by the caller)
    int32_t id = 0;
    int options = 0;      // WNOHANG|WUNTRACED|WCONTINUED|WEXITED|WNOWAIT (WSTOPPED==WUNTRACED)
  };
  struct WaitResult {
    int32_t pid = 0;      // 0: WNOHANG and nothing ready
    int status = 0;       // wait(2) status word
    int code = 0;         // CLD_EXITED, CLD_KILLED, CLD_DUMPED, CLD_STOPPED, CLD_CONTINUED
    int child_status = 0; // exit code or signal (siginfo si_status)
    uint32_t uid = 0;
    uint64_t user_ns = 0, sys_ns = 0;  // the child's CPU time (rusage)
  };
  ErrorOr<WaitResult> Wait(Task& t, const WaitOptions& o);

  // clone/fork/vfork/clone3 (task_clone.cc). Returns the child's tid.
  struct CloneArgs {
    uint64_t flags = 0;      // CLONE_* without the exit signal
    int exit_signal = 0;
    uint64_t stack = 0;      // 0: same stack pointer
    UserAddr parent_tid, child_tid;
    uint64_t tls = 0;
    UserAddr pidfd;
  };
  ErrorOr<int32_t> Clone(Task& parent, const CloneArgs& a);

  // execve/execveat (task_exec.cc). On success the task's registers are
  // the new program's; the caller returns kSysRetNoReturnValue.
  Errno Execve(Task& t, const vfs::VirtualDentry& start, const std::string& path,
               std::vector<std::string> argv, std::vector<std::string> envv, uint32_t flags);
  // execve from a thread other than the leader (task_exec.cc).
  void TakeOverLeaderLocked(Task& t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);
  // Kills every process but init's (init's own exit, shutdown).
  void KillAllExceptInit();

  // --- signals (task_signal.cc); callers hold tasks_mu_ ---
  // Queues `info` for the group (kill) or, with `target`, for one task
  // (tgkill), applying Linux's rules: ignored signals are dropped, SIGKILL
  // kills at once, SIGCONT/stop signals cancel each other, and one task
  // that does not block the signal is interrupted to deliver it.
  void SendSignalLocked(ThreadGroup* g, Task* target, const siginfo_t& info)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);
  // POSIX timer signals: adds `add` to the si_overrun of timer `timer_id`'s
  // signal if one is still queued for `g` (or `target`), and says whether
  // one was.
  bool AddTimerOverrunLocked(ThreadGroup* g, Task* target, int timer_id, int add)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);
  // Whether a signal to `g` would be ignored (handler SIG_IGN, or SIG_DFL
  // whose default is to ignore) — then it is not even queued.
  bool SignalIgnoredLocked(ThreadGroup* g, int sig) ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);
  // Job control (job_control.cc). Signals every live member of process
  // group `pgid` from the kernel (SI_KERNEL), as kill_pgrp(..., 1).
  void SignalProcessGroupLocked(int32_t pgid, int sig) ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);
  // will_become_orphaned_pgrp(pg, NULL): no member has a parent in another
  // group of the same session (init's children do not count).
  bool PgrpOrphanedLocked(ProcessGroup* pg) ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);
  // disassociate_ctty: `g`, a session leader, gives up its controlling
  // terminal: SIGHUP to the foreground group (and SIGCONT unless
  // `on_exit`), the terminal forgets the session and every process of
  // the session loses it. No-op for non-leaders or without a terminal.
  void DisassociateTtyLocked(ThreadGroup* g, bool on_exit) ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);
  // Every process of session `sid` whose terminal is `tty` loses it.
  void ClearSessionTtyLocked(int32_t sid, Terminal* tty) ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);
  // kill_orphaned_pgrp at `g`'s death: a process group this death orphans
  // that has stopped members gets SIGHUP and SIGCONT. Candidates are the
  // groups of `g`'s children taken before they were reparented, and
  // `g`'s own.
  std::vector<int32_t> OrphanCandidatesLocked(ThreadGroup* g) ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);
  void HangUpOrphanedLocked(ThreadGroup* g, const std::vector<int32_t>& child_pgrps)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);
  // The live process group `pgid` (a group left empty by reaped members
  // counts as gone), or null.
  ProcessGroup* LiveProcessGroupLocked(int32_t pgid) ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);

  // Stops / continues a whole group (job control).
  void GroupStopLocked(ThreadGroup* g, int sig) ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);
  // Tells `g`'s parent that `g` changed state: SIGCHLD (unless ignored or
  // SA_NOCLDSTOP for stops) and a wakeup of its waiters.
  void NotifyParentLocked(ThreadGroup* g, int why, int status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);
  // Forgets a zombie group after wait() (or at once when its parent
  // ignores SIGCHLD).
  void ReapLocked(ThreadGroup* g) ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);
  // Called with tasks_mu_ held when the last task of `g` exited.
  void GroupDeadLocked(ThreadGroup* g) ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);
  // forget_original_parent() (reparent.cc): the children that `dead` (a
  // thread of `g` that is exiting) created go to another live thread of
  // `g`, or, when none is left, to the nearest live subreaper ancestor or
  // init; each gets its PR_SET_PDEATHSIG signal. `whole_group`: `g` died
  // and all its children go.
  void ForgetParentLocked(ThreadGroup* g, Task* dead, bool whole_group)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);
  // A thread of `g` that is not exiting, or null.
  Task* AliveThreadLocked(ThreadGroup* g) ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);

  // Called by a task thread when it has fully exited (after the last use
  // of its host resources): lets WaitForInit finish.
  void TaskThreadDone();
  // Called when a thread group became a zombie.
  void GroupExited(ThreadGroup* g) ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);

  // --- CPU time (task_cpu.cc, cpu_tick.cc; see cpu_time.h) ---
  // The CPU time of process `g` / thread `target` as `reader` sees it:
  // exact for the reader's own thread, as of their last sample for others.
  static CpuTimes ProcessCpuTime(Task& reader, ThreadGroup* g);
  static CpuTimes ThreadCpuTime(Task& reader, Task* target);
  // Ticks `g`'s running threads (Task::PreemptForTick) until nothing waits
  // on its CPU time any more. Call after arming one of its CPU timers.
  void WantCpuTicks(const std::shared_ptr<ThreadGroup>& g);

  // Nanoseconds since boot: the host's CLOCK_BOOTTIME, which the sandbox
  // shares (for sysinfo, /proc/uptime and start times).
  uint64_t UptimeNs() const;
  std::string hostname();
  void SetHostname(std::string h);
  std::string domainname();
  void SetDomainname(std::string d);

  // Number of tasks created since boot (for /proc/loadavg-ish stats).
  std::atomic<uint64_t> forks{0};

 private:
  Platform* const platform_;
  MemoryFile* const mf_;
  vfs::VFS* const vfs_;
  const KernelOptions opts_;
  Futexes futexes_;
  // The CPU tick's state; before timers_, whose thread runs the tick and
  // is joined first when the kernel goes away.
  void CpuTick();
  absl::Mutex tick_mu_;
  std::vector<std::weak_ptr<ThreadGroup>> tick_groups_ ABSL_GUARDED_BY(tick_mu_);
  bool tick_armed_ ABSL_GUARDED_BY(tick_mu_) = false;
  Timers timers_;
  ShmRegistry shm_{mf_};
  SemRegistry sem_;
  MsgRegistry msg_;

  absl::flat_hash_map<int32_t, std::shared_ptr<Task>> tasks_ ABSL_GUARDED_BY(tasks_mu_);
  absl::flat_hash_map<int32_t, std::shared_ptr<ThreadGroup>> groups_ ABSL_GUARDED_BY(tasks_mu_);
  absl::flat_hash_map<int32_t, std::unique_ptr<ProcessGroup>> pgroups_ ABSL_GUARDED_BY(tasks_mu_);
  absl::flat_hash_map<int32_t, std::unique_ptr<Session>> sessions_ ABSL_GUARDED_BY(tasks_mu_);
  int32_t last_pid_ ABSL_GUARDED_BY(tasks_mu_) = 0;
  // SIGCHLD and a wakeup for `g`'s parent about `g`'s death; true if the
  // parent does not wait for it (the child must be reaped at once).
  bool NotifyParentOfDeathLocked(ThreadGroup* g) ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);

  std::shared_ptr<ThreadGroup> init_;
  // The command: init_ itself, or pid 2 under the Sentry's init.
  std::shared_ptr<ThreadGroup> main_;
  // Everything StartInit and StartProcess share once the task exists:
  // credentials, cwd, stdio, PATH lookup, exec, start.
  absl::Status ExecFirstProgram(const std::shared_ptr<Task>& task, const InitSpec& spec);
  bool main_exited_ ABSL_GUARDED_BY(tasks_mu_) = false;
  int running_threads_ ABSL_GUARDED_BY(tasks_mu_) = 0;

  absl::Mutex uts_mu_;
  std::string hostname_ ABSL_GUARDED_BY(uts_mu_);
  std::string domainname_ ABSL_GUARDED_BY(uts_mu_) = "(none)";
};

}  // namespace sentry

#endif  // SENTRY_KERNEL_KERNEL_H_
