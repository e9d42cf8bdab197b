// ThreadGroup (a process) and the signal state threads share.
//
// Lock order (whole kernel): Kernel::tasks_mu_ > SignalHandlers::mu >
// Task::mu_ > (everything else: MemoryManager, VFS, files, wait queues).
// - tasks_mu_ guards the process tree: membership of tasks in groups,
//   parent/children, process groups/sessions, exit states.
// - SignalHandlers::mu guards the actions and, as Linux's siglock does,
//   the pending signals and masks of every task using these handlers and
//   the group's stop/exit-in-progress flags.
#ifndef SENTRY_KERNEL_THREAD_GROUP_H_
#define SENTRY_KERNEL_THREAD_GROUP_H_

#include <sys/resource.h>

#include <array>
#include <atomic>
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "sentry/base/waiter.h"
#include "sentry/kernel/cpu_time.h"
#include "sentry/kernel/ipc_sem.h"
#include "sentry/kernel/posix_timers.h"
#include "sentry/kernel/signal_types.h"
#include "sentry/kernel/terminal.h"

namespace sentry {

class Task;
class Kernel;
class ThreadGroup;

// Signals waiting for delivery, in arrival order. Standard signals are
// queued at most once; real-time signals queue every instance.
class PendingSignals {
 public:
  SigSet set() const { return set_; }
  // Returns false if the signal was a standard one already pending.
  bool Enqueue(const siginfo_t& info);
  // Removes the lowest-numbered pending signal not in `blocked`.
  bool Dequeue(SigSet blocked, siginfo_t* out);
  // Removes a specific signal (all instances when `all`).
  void Discard(int sig);
  void DiscardMask(SigSet m);
  size_t QueuedCount() const { return queue_.size(); }
  // The queued signal of POSIX timer `timer_id`, or null.
  siginfo_t* FindTimer(int timer_id);
  // exec: drops every queued POSIX timer signal (flush_itimer_signals).
  void DiscardTimers();

 private:
  SigSet set_ = 0;
  std::vector<siginfo_t> queue_;
};

struct SignalHandlers {
  absl::Mutex mu;
  std::array<KSigaction, kNumSignals + 1> actions ABSL_GUARDED_BY(mu);
  std::shared_ptr<SignalHandlers> Copy();
  // execve: caught signals go back to SIG_DFL (ignored ones stay ignored).
  void ResetForExec();
};

struct ProcessGroup;
struct Session {
  int32_t sid = 0;
  std::vector<ProcessGroup*> groups;
};
struct ProcessGroup {
  int32_t pgid = 0;
  Session* session = nullptr;
  std::vector<ThreadGroup*> members;
};

// Resource limits, rlimit(2).
class Limits {
 public:
  Limits();
  struct rlimit Get(int resource);
  void Set(int resource, struct rlimit l);
  uint64_t Cur(int resource) { return Get(resource).rlim_cur; }

 private:
  absl::Mutex mu_;
  std::array<struct rlimit, RLIM_NLIMITS> l_ ABSL_GUARDED_BY(mu_);
};

class ThreadGroup {
 public:
  ThreadGroup(Kernel* k, int32_t tgid, std::shared_ptr<SignalHandlers> sh);
  int32_t tgid() const { return tgid_; }
  Kernel* kernel() const { return k_; }

  // --- guarded by Kernel::tasks_mu_ ---
  std::vector<Task*> tasks;       // live (not yet exited) tasks
  Task* leader = nullptr;
  ThreadGroup* parent = nullptr;  // reparented to init when it dies
  // The thread of `parent` that is this process's parent (Linux's
  // real_parent): the one that created it, until it exits and hands its
  // children to another thread or process (Kernel::ForgetParentLocked).
  // PR_SET_PDEATHSIG fires when it changes.
  Task* parent_task = nullptr;
  std::vector<ThreadGroup*> children;
  ProcessGroup* pgrp = nullptr;
  // The controlling terminal (terminal.h); null: none.
  std::shared_ptr<Terminal> tty;
  std::shared_ptr<SignalHandlers> sighand;
  int exit_signal = SIGCHLD;      // sent to the parent when we die
  bool zombie = false;            // all tasks exited; waiting to be reaped
  int wait_status = 0;            // wait(2) status once exiting/zombie
  bool exit_status_set = false;   // a group exit fixed wait_status
  bool subreaper = false;
  bool execed = false;            // the process called execve (setpgid's EACCES)
  // Stop/continue events not yet consumed by wait (WUNTRACED/WCONTINUED).
  bool stop_event = false;
  int stop_signal = 0;
  bool continue_event = false;
  // The process is running execve's "kill other threads" phase.
  Task* execer = nullptr;
  // The Sentry's own init (KernelOptions::sentry_init): no application
  // code runs in it and no signal reaches it.
  bool kernel_only = false;

  // --- guarded by sighand->mu ---
  PendingSignals shared_pending;
  // Notified (POLLIN) whenever a signal is queued for the group or one of
  // its threads: what signalfd readers and pollers wait on.
  WaitQueue signal_events;
  bool group_exiting = false;     // exit_group or a fatal signal started
  bool group_stopped = false;     // SIGSTOP & co. in effect

  // Anything may wait here for changes of this group's children.
  WaitQueue child_events;
  // pidfds: set once every thread has exited (a zombie), and once reaped;
  // exit_events is notified (POLLIN, then POLLHUP) at each.
  std::atomic<bool> dead{false};
  std::atomic<bool> reaped{false};
  WaitQueue exit_events;
  Limits limits;
  // timer_create(2) timers.
  PosixTimerTable posix_timers;
  // SEM_UNDO adjustments (made on first use; shared with CLONE_SYSVSEM).
  std::shared_ptr<SemUndo> sem_undo;
  // CPU time of the threads that have exited.
  std::atomic<uint64_t> user_ns{0}, sys_ns{0};
  // CPU time of all threads: exited ones in full, live ones up to their
  // last sample (Task::AccountCpuTime).
  std::atomic<uint64_t> cpu_user_ns{0}, cpu_sys_ns{0};
  CpuTimes CpuTime() const { return {cpu_user_ns.load(), cpu_sys_ns.load()}; }
  // ITIMER_VIRTUAL, ITIMER_PROF and sleepers on this process's CPU clocks.
  CpuTimers cpu_timers;
  // Set when the last thread exited: the process clocks stopped.
  std::atomic<bool> cpu_clock_stopped{false};
  std::atomic<uint64_t> child_user_ns{0}, child_sys_ns{0};
  std::atomic<uint64_t> start_ns{0};
  // /proc/<pid>/oom_score_adj: recorded and inherited, never acted on
  // (the Sentry has no OOM killer of its own).
  std::atomic<int> oom_score_adj{0};
  // prctl(PR_SET_DUMPABLE): Linux keeps it in the mm, which the threads
  // share; fork copies it, execve and credential changes reset it.
  std::atomic<int> dumpable{1};

  // ITIMER_REAL (alarm, setitimer): guarded by itimer_mu.
  absl::Mutex itimer_mu;
  uint64_t itimer_real_id ABSL_GUARDED_BY(itimer_mu) = 0;
  absl::Duration itimer_real_interval ABSL_GUARDED_BY(itimer_mu);

 private:
  Kernel* const k_;
  const int32_t tgid_;
};

}  // namespace sentry

#endif  // SENTRY_KERNEL_THREAD_GROUP_H_
