// Task: one application thread, running on its own Sentry host thread.
//
// A task's host thread alternates between the application (through its
// platform Context) and the Sentry (syscalls, faults, signal delivery).
// State that only the task itself touches (registers, the restart block,
// cached pointers to its mm/files/fs) needs no lock; state other tasks
// read or change is guarded as annotated. Lock order: see thread_group.h.
//
// Files: task.cc (life cycle and run loop), task_block.cc (blocking),
// task_signal.cc (signal sending/delivery), task_clone.cc, task_exit.cc,
// task_exec.cc, task_cpu.cc (CPU time), task_seccomp.cc (seccomp filters),
// signal_frame.cc (x86-64 signal frames).
#ifndef SENTRY_KERNEL_TASK_H_
#define SENTRY_KERNEL_TASK_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "fs/vfs/types.h"
#include "fs/vfs/vfs.h"
#include "platform/platform.h"
#include "sentry/arch/arch.h"
#include "sentry/base/error.h"
#include "sentry/base/waiter.h"
#include "sentry/kernel/cpu_time.h"
#include "sentry/kernel/fd_table.h"
#include "sentry/kernel/fs_context.h"
#include "sentry/kernel/seccomp/filter.h"
#include "sentry/kernel/signal_types.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/mm/mm.h"
#include "sentry/usermem/addr.h"

namespace sentry {

class Kernel;
struct SyscallArgs;  // syscalls/syscalls.h

// Returned by handlers that set all registers themselves (rt_sigreturn,
// execve): the task must not store a return value in rax.
inline constexpr int64_t kSysRetNoReturnValue = INT64_MIN;

enum class BlockResult { kWoken, kInterrupted, kTimedOut };

class Task {
 public:
  Task(Kernel* k, std::shared_ptr<ThreadGroup> tg, int32_t tid);
  ~Task();
  Task(const Task&) = delete;

  Kernel& kernel() const { return *k_; }
  // A thread that execs while not the leader takes over the leader's tid
  // (Kernel::Execve), so the tid can change once, under tasks_mu_.
  int32_t tid() const { return tid_.load(std::memory_order_relaxed); }
  ThreadGroup* tg() const { return tg_.get(); }
  const std::shared_ptr<ThreadGroup>& tg_ptr() const { return tg_; }
  int32_t tgid() const { return tg_->tgid(); }
  bool IsLeader() const { return tg_->leader == this; }

  // --- resources (the task's own thread reads these without locks; other
  //     threads use the *Locked / snapshot accessors) ---
  MemoryManager* mm() const { return mm_.get(); }
  std::shared_ptr<MemoryManager> mm_ptr();
  FDTable* fds() const { return fds_.get(); }
  std::shared_ptr<FDTable> fds_ptr();
  FSContext* fs() const { return fs_.get(); }
  std::shared_ptr<FSContext> fs_ptr();
  void SetMM(std::shared_ptr<MemoryManager> mm);
  void SetFDTable(std::shared_ptr<FDTable> t);
  void SetFS(std::shared_ptr<FSContext> f);

  // Credentials (copied for each use by other threads).
  vfs::Credentials creds();
  void SetCreds(const vfs::Credentials& c);
  // A path context for VFS calls: creds, root, cwd, umask.
  vfs::PathContext PathCtx();

  std::string comm();
  void SetComm(std::string_view name);

  ArchContext& arch() { return arch_; }
  Context* platform_context() const { return ctx_.get(); }

  // --- copy-in/out through this task's MemoryManager ---
  template <typename T>
  Errno CopyIn(UserPtr<T> p, T* out) {
    static_assert(std::is_trivially_copyable_v<T>);
    return mm_->CopyIn(p.addr(), out, sizeof(T));
  }
  template <typename T>
  Errno CopyOut(UserPtr<T> p, const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    static_assert(std::has_unique_object_representations_v<T> || std::is_arithmetic_v<T>,
                  "no padding may leak to the application");
    return mm_->CopyOut(p.addr(), &v, sizeof(T));
  }
  // For ABI structs whose padding we zero ourselves.
  Errno CopyOutBytes(UserAddr a, const void* p, size_t n) { return mm_->CopyOut(a, p, n); }
  Errno CopyInBytes(UserAddr a, void* p, size_t n) { return mm_->CopyIn(a, p, n); }
  ErrorOr<std::string> CopyInString(UserAddr a, size_t max = 4096) {
    return mm_->CopyInString(a, max);
  }
  // A NULL-terminated array of string pointers (argv, envp).
  ErrorOr<std::vector<std::string>> CopyInStringVector(UserAddr a);

  // --- life cycle ---
  // Starts the host thread running the task; the thread keeps `self`
  // alive until it is done, even if the task is reaped meanwhile.
  void Start(std::shared_ptr<Task> self);
  bool exited() const { return exited_.load(); }

  // --- blocking (task_block.cc) ---
  // A Waiter that wakes this task; register it on wait queues.
  Waiter* waiter() { return &waiter_; }
  // The wake sequence: take it before checking a condition, then Block()
  // returns at once if a wakeup happened since.
  uint32_t WakeSeq() const { return wake_seq_.load(std::memory_order_acquire); }
  BlockResult Block(uint32_t seq, absl::Time deadline = absl::InfiniteFuture());
  // Like Block, but only a kill (not an ordinary signal) cuts it short:
  // for waits Linux makes TASK_KILLABLE (vfork, exec's de_thread).
  BlockResult BlockKillable(uint32_t seq, absl::Time deadline = absl::InfiniteFuture());
  // Marks the task as being killed (group exit, exec): wakes every wait.
  void Kill();
  bool killed() const { return killed_.load(std::memory_order_acquire); }
  void Wake();
  // Sleeps until deadline, interruptibly.
  BlockResult Sleep(absl::Time deadline);
  // Makes the task notice pending work (a signal, a kill, a stop) soon,
  // whether it is in the application or blocked in the Sentry.
  void Interrupt();
  bool InterruptPending() const { return interrupt_.load(std::memory_order_acquire); }
  // Waits for `f` (a non-blocking attempt returning EAGAIN while not
  // ready) on the file's readiness. Honors O_NONBLOCK, signals (ERESTARTSYS)
  // and an optional timeout (ETIMEDOUT... callers translate).
  SysRet BlockOnFile(vfs::FileDescription* f, uint32_t events,
                     const std::function<SysRet()>& attempt,
                     absl::Time deadline = absl::InfiniteFuture());

  // --- signals (task_signal.cc) ---
  SigSet signal_mask();  // blocked set
  void SetSignalMask(SigSet m);
  // rt_sigtimedwait: the mask before the waited-for signals were
  // unblocked; a signal blocked there is not dropped as ignored meanwhile.
  void SetRealBlocked(SigSet m);
  // sigsuspend/pselect: a temporary mask restored after the next signal
  // delivery (or on return when none was delivered).
  void SetSavedMask(SigSet old);
  SignalStack& altstack() { return altstack_; }
  // Pending for this task (private + shared), for rt_sigpending.
  SigSet PendingSet();
  // Dequeues a pending signal in `wanted` (rt_sigtimedwait).
  bool DequeueSignal(SigSet wanted, siginfo_t* out);
  // Sends a synchronous signal caused by this task's own action (faults):
  // unblocks/undoes SIG_IGN like Linux's force_sig_info.
  void ForceSignal(const siginfo_t& info);

  // --- CPU time (task_cpu.cc, see cpu_time.h) ---
  // Samples this task's CPU time, publishes it, charges the difference to
  // its thread group and fires the group's CPU timers that are due. Only
  // the task's own thread calls it.
  // `switch_start_cpu`: SwitchStartCpu() taken just before the Switch that
  // just returned (0: not after a Switch).
  void AccountCpuTime(uint64_t switch_start_cpu = 0);
  // The task whose host thread this is (null on other Sentry threads):
  // for the few files whose state depends on the caller (signalfd).
  static Task* Current();
  uint64_t SwitchStartCpu();
  // Exact CPU time; only from the task's own thread.
  CpuTimes OwnCpuTime();
  // As of the task's last sample; from any thread.
  CpuTimes PublishedCpuTime() const {
    return {pub_user_ns_.load(std::memory_order_acquire),
            pub_sys_ns_.load(std::memory_order_acquire)};
  }
  // Set at exit once the task's CPU time is final.
  bool CpuClockStopped() const { return cpu_clock_stopped_.load(std::memory_order_acquire); }
  // The CPU tick: makes the task leave the application briefly (to sample
  // its CPU time) if it is running there. Never interrupts a Sentry wait.
  void PreemptForTick();

  // --- syscall restart ---
  // For ERESTART_RESTARTBLOCK: what restart_syscall(2) runs.
  std::function<SysRet(Task&)> restart_block;

  // --- thread bookkeeping (set by clone, used at exit) ---
  UserAddr clear_child_tid;
  UserAddr robust_list;
  uint64_t robust_list_len = 0;
  // CLONE_VFORK: the parent waits until this task execs or exits.
  std::shared_ptr<struct VforkWait> vfork_done;
  // Set in a fresh task: CLONE_CHILD_SETTID address to write on start.
  UserAddr child_settid;

  // Exit code as given to exit(2) (wait status form), set when exiting.
  int exit_status = 0;

  // prctl(2) state. Only the task itself changes these; other threads may
  // read them (/proc), hence the atomics.
  std::atomic<int> pdeath_signal{0};
  std::atomic<bool> no_new_privs{false};
  bool keep_caps = false;
  uint64_t timer_slack_ns = 50000;
  // The nice value (-20..19): per thread, set by setpriority(2) from any
  // task allowed to.
  std::atomic<int> nice{0};

  // --- seccomp (task_seccomp.cc) ---
  // SECCOMP_MODE_DISABLED, _STRICT or _FILTER; readable from any thread.
  int seccomp_mode() const { return seccomp_mode_.load(std::memory_order_acquire); }
  // Filters in this task's chain (/proc/<pid>/status Seccomp_filters).
  int seccomp_filter_count() const { return seccomp_count_.load(std::memory_order_acquire); }
  // seccomp(SECCOMP_SET_MODE_STRICT): 0 or EINVAL (a filter is installed).
  Errno SetSeccompStrict();
  // seccomp(SECCOMP_SET_MODE_FILTER) with a program CheckProgram accepted.
  // Returns 0, EINVAL (strict mode), ENOMEM (chain too long) or, with
  // SECCOMP_FILTER_FLAG_TSYNC, the tid of a thread whose filters are not a
  // prefix of ours (ESRCH with TSYNC_ESRCH). Privilege checks are the
  // caller's.
  SysRet InstallSeccompFilter(std::vector<sock_filter> prog, unsigned flags);

  // sched_setaffinity(2): bit i of word i/64 allows CPU i; empty: every
  // CPU (the default).
  std::vector<uint64_t> cpu_affinity();
  void SetCpuAffinity(std::vector<uint64_t> mask);

  // Used by the kernel to link everything together.
  absl::Mutex mu_;  // guards mm_/fds_/fs_ pointers for other threads, creds_, comm_

 private:
  friend class Kernel;
  friend class TaskRunner;
  class TaskWaiter : public Waiter {
   public:
    explicit TaskWaiter(Task* t) : t_(t) {}
    void Notify(uint32_t) override { t_->Wake(); }

   private:
    Task* t_;
  };

  void Run();
  // Handles signals, stops and kills before returning to the application.
  // Returns false when the task must exit.
  bool ProcessPendingWork();
  // Applies a pending syscall restart decision when no handler runs.
  void ApplyRestartWithoutHandler();
  void HandleSyscall();
  // Runs strict mode or the filters on the syscall in arch_.regs. True: the
  // syscall runs; false: the verdict (errno, signal, death) is applied.
  bool SeccompPermits(uint64_t nr, const SyscallArgs& a);
  // The thread alone exits as if killed by `sig` (Linux's do_exit(sig)).
  void ExitThreadBySignal(int sig);
  // clone: the child starts with the parent's mode and filters.
  // Preconditions: parent's sighand->mu held (TSYNC changes it under it).
  void InheritSeccompLocked(const Task& parent);
  // Exit path (task_exit.cc): releases everything, notifies the parent.
  void Exit();
  // Builds a signal frame and points the registers at the handler.
  Errno SetupSignalFrame(const siginfo_t& info, const KSigaction& act, SigSet old_mask);
 public:
  // rt_sigreturn.
  SysRet SigReturn();
 private:

  Kernel* const k_;
  std::shared_ptr<ThreadGroup> tg_;
  std::atomic<int32_t> tid_;

  std::shared_ptr<MemoryManager> mm_;
  std::shared_ptr<FDTable> fds_;
  std::shared_ptr<FSContext> fs_;
  vfs::Credentials creds_ ABSL_GUARDED_BY(mu_);
  std::string comm_ ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> cpu_affinity_ ABSL_GUARDED_BY(mu_);

  ArchContext arch_;
  // The internal restart code (ERESTART*) of the syscall just interrupted,
  // until the signal delivery decides whether it restarts.
  int restart_code_ = 0;
  // A temporary signal mask (sigsuspend, ppoll) must be restored before
  // returning to the application if no signal handler does it.
  bool check_saved_mask_ = false;
  std::unique_ptr<Context> ctx_;
  std::thread thread_;
  std::atomic<bool> exited_{false};

  // Signal state: guarded by tg_->sighand->mu.
 public:
  SigSet mask_ = 0;
  SigSet saved_mask_ = 0;
  SigSet real_blocked_ = 0;
  bool has_saved_mask_ = false;
  PendingSignals pending_;
  bool exiting_ = false;  // this task is past the point of no return
 private:
  SignalStack altstack_;

  std::atomic<uint32_t> wake_seq_{0};
  std::atomic<bool> interrupt_{false};
  // CPU time as of the last AccountCpuTime, and whether the application
  // is running (for the CPU tick).
  std::atomic<uint64_t> pub_user_ns_{0}, pub_sys_ns_{0};
  // Host CPU this task's thread used inside Switch (own thread only).
  uint64_t switch_cpu_ns_ = 0;
  CpuTimes OwnCpuTimeAt(uint64_t thread_ns);
  std::atomic<bool> in_app_{false};
  std::atomic<bool> cpu_clock_stopped_{false};
  std::atomic<bool> killed_{false};
  TaskWaiter waiter_{this};

  // Seccomp state. The chain is owned by seccomp_chain_, changed only under
  // the Kernel's tasks_mu_ and tg_->sighand->mu (by the task itself, or by
  // a sibling's TSYNC, or before the task runs). The task's own syscall
  // path reads the head through seccomp_head_ without locks: a new head
  // always keeps the old one alive as an ancestor (filter.h). Writers
  // publish the head before the mode (release); readers load the mode
  // first (acquire).
  std::shared_ptr<const seccomp::Filter> seccomp_chain_;
  std::atomic<const seccomp::Filter*> seccomp_head_{nullptr};
  std::atomic<int> seccomp_mode_{0};
  std::atomic<int> seccomp_count_{0};
  // Sets chain, head, count and (if not yet in a mode) the filter mode.
  void SetSeccompChainLocked(std::shared_ptr<const seccomp::Filter> chain);
};

struct VforkWait {
  absl::Mutex mu;
  bool done ABSL_GUARDED_BY(mu) = false;
  Task* parent = nullptr;  // woken when done (it outlives the wait)
  void Finish() {
    absl::MutexLock l(&mu);
    done = true;
    parent->Wake();
  }
};

}  // namespace sentry

#endif  // SENTRY_KERNEL_TASK_H_
