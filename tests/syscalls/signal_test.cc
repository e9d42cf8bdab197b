// Signals: sigaction(2) and its flags, sigprocmask(2), sigpending(2),
// sigsuspend(2), rt_sigtimedwait(2), sigqueue(3), sigaltstack(2), kill(2),
// tgkill(2), SIGCHLD, synchronous faults, nesting, and the register state a
// handler must leave untouched.

#include <poll.h>
#include <setjmp.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <ucontext.h>
#include <x86intrin.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "tests/syscalls/test_util.h"

namespace systest {
namespace {

using ::testing::ElementsAre;
using ::testing::Ge;

// Installs a handler for the lifetime of the object.
class ScopedSigaction {
 public:
  ScopedSigaction(int sig, const struct sigaction& sa) : sig_(sig) {
    if (sigaction(sig, &sa, &old_) != 0) ThrowErrno("sigaction");
  }
  ~ScopedSigaction() { sigaction(sig_, &old_, nullptr); }

 private:
  int sig_;
  struct sigaction old_;
};

struct sigaction Action(void (*handler)(int), int flags = 0,
                        std::initializer_list<int> mask = {}) {
  struct sigaction sa = {};
  sa.sa_handler = handler;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  for (int s : mask) sigaddset(&sa.sa_mask, s);
  return sa;
}

struct sigaction InfoAction(void (*handler)(int, siginfo_t*, void*),
                            int flags = 0) {
  struct sigaction sa = {};
  sa.sa_sigaction = handler;
  sa.sa_flags = flags | SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  return sa;
}

// Changes the signal mask for the lifetime of the object.
class ScopedMask {
 public:
  ScopedMask(int how, std::initializer_list<int> sigs) {
    sigset_t set;
    sigemptyset(&set);
    for (int s : sigs) sigaddset(&set, s);
    if (sigprocmask(how, &set, &old_) != 0) ThrowErrno("sigprocmask");
  }
  ~ScopedMask() { sigprocmask(SIG_SETMASK, &old_, nullptr); }

 private:
  sigset_t old_;
};

// glibc's sigset_t is larger than the kernel's; only the kernel's part is
// written, so start from an empty set.
sigset_t CurrentMask() {
  sigset_t set;
  sigemptyset(&set);
  sigprocmask(SIG_SETMASK, nullptr, &set);
  return set;
}

sigset_t Pending() {
  sigset_t set;
  sigemptyset(&set);
  sigpending(&set);
  return set;
}

bool SameSignals(const sigset_t& a, const sigset_t& b) {
  for (int sig = 1; sig <= 64; ++sig) {
    if (sigismember(&a, sig) != sigismember(&b, sig)) return false;
  }
  return true;
}

int64_t MonotonicNanos() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

pid_t UnusedPid() {
  pid_t pid = fork();
  if (pid < 0) ThrowErrno("fork");
  if (pid == 0) _exit(0);
  WaitForStatus(pid);
  return pid;
}

// What handlers record. Tests run one at a time, so globals suffice.
std::atomic<int> g_count{0};
std::atomic<int> g_depth{0};
std::atomic<int> g_max_depth{0};
siginfo_t g_info;
sigset_t g_mask_in_handler;
std::vector<int>* g_order = nullptr;

void CountHandler(int) { g_count.fetch_add(1); }

void InfoHandler(int, siginfo_t* info, void*) {
  g_info = *info;
  g_count.fetch_add(1);
}

void MaskRecordingHandler(int) {
  sigprocmask(SIG_SETMASK, nullptr, &g_mask_in_handler);
  g_count.fetch_add(1);
}

void Reset() {
  g_count = 0;
  g_depth = 0;
  g_max_depth = 0;
  memset(&g_info, 0, sizeof(g_info));
}

// --- sigaction ------------------------------------------------------------

TEST(SigactionTest, Errors) {
  struct sigaction sa = Action(CountHandler);
  EXPECT_THAT(sigaction(SIGKILL, &sa, nullptr), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(sigaction(SIGSTOP, &sa, nullptr), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_rt_sigaction, 0, &sa, nullptr, 8),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_rt_sigaction, 65, &sa, nullptr, 8),
              SyscallFailsWithErrno(EINVAL));
  // The kernel's sigset is 8 bytes; anything else is refused.
  EXPECT_THAT(syscall(SYS_rt_sigaction, SIGUSR1, nullptr, nullptr, 4),
              SyscallFailsWithErrno(EINVAL));
  // Querying SIGKILL is fine.
  struct sigaction old;
  EXPECT_THAT(sigaction(SIGKILL, nullptr, &old), SyscallSucceeds());
  EXPECT_EQ(old.sa_handler, SIG_DFL);
}

TEST(SigactionTest, QueryReturnsWhatWasInstalled) {
  struct sigaction sa = Action(CountHandler, SA_RESTART, {SIGUSR2, SIGTERM});
  ScopedSigaction installed(SIGUSR1, sa);
  struct sigaction got;
  ASSERT_THAT(sigaction(SIGUSR1, nullptr, &got), SyscallSucceeds());
  EXPECT_EQ(got.sa_handler, CountHandler);
  EXPECT_TRUE(got.sa_flags & SA_RESTART);
  EXPECT_TRUE(sigismember(&got.sa_mask, SIGUSR2));
  EXPECT_TRUE(sigismember(&got.sa_mask, SIGTERM));
  EXPECT_FALSE(sigismember(&got.sa_mask, SIGINT));
}

TEST(SigactionTest, HandlerRunsWithTheSignalAndSaMaskBlocked) {
  Reset();
  ScopedSigaction installed(SIGUSR1,
                            Action(MaskRecordingHandler, 0, {SIGUSR2}));
  const sigset_t before = CurrentMask();
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(g_count.load(), 1);
  EXPECT_TRUE(sigismember(&g_mask_in_handler, SIGUSR1));
  EXPECT_TRUE(sigismember(&g_mask_in_handler, SIGUSR2));
  EXPECT_FALSE(sigismember(&g_mask_in_handler, SIGTERM));
  EXPECT_TRUE(SameSignals(before, CurrentMask()));
}

TEST(SigactionTest, ResetHandRestoresTheDefaultAfterOneDelivery) {
  Reset();
  ScopedSigaction installed(SIGUSR1, Action(CountHandler, SA_RESETHAND));
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(g_count.load(), 1);
  struct sigaction now;
  ASSERT_THAT(sigaction(SIGUSR1, nullptr, &now), SyscallSucceeds());
  EXPECT_EQ(now.sa_handler, SIG_DFL);
  EXPECT_THAT(ForkAndWait([] {
    struct sigaction sa = Action(CountHandler, SA_RESETHAND);
    sigaction(SIGUSR1, &sa, nullptr);
    raise(SIGUSR1);
    raise(SIGUSR1);  // now fatal
    _exit(1);
  }),
              KilledBySignal(SIGUSR1));
}

void NestingHandler(int sig) {
  int depth = g_depth.fetch_add(1) + 1;
  if (depth > g_max_depth.load()) g_max_depth = depth;
  if (g_count.fetch_add(1) == 0) raise(sig);
  g_depth.fetch_sub(1);
}

TEST(SigactionTest, WithoutNodeferTheSignalWaitsForTheHandler) {
  Reset();
  ScopedSigaction installed(SIGUSR1, Action(NestingHandler));
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(g_count.load(), 2);
  EXPECT_EQ(g_max_depth.load(), 1);
}

TEST(SigactionTest, NodeferLetsTheHandlerNest) {
  Reset();
  ScopedSigaction installed(SIGUSR1, Action(NestingHandler, SA_NODEFER));
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(g_count.load(), 2);
  EXPECT_EQ(g_max_depth.load(), 2);
}

void OrderHandler(int sig) {
  g_order->push_back(sig);
  if (sig == SIGUSR1) raise(SIGUSR2);
  g_order->push_back(-sig);
}

TEST(SigactionTest, DifferentSignalsNest) {
  std::vector<int> order;
  g_order = &order;
  {
    ScopedSigaction a(SIGUSR1, Action(OrderHandler));
    ScopedSigaction b(SIGUSR2, Action(OrderHandler));
    raise(SIGUSR1);
  }
  EXPECT_THAT(order, ElementsAre(SIGUSR1, SIGUSR2, -SIGUSR2, -SIGUSR1));
  order.clear();
  {
    // With SIGUSR2 in sa_mask it runs after the first handler returns.
    ScopedSigaction a(SIGUSR1, Action(OrderHandler, 0, {SIGUSR2}));
    ScopedSigaction b(SIGUSR2, Action(OrderHandler));
    raise(SIGUSR1);
  }
  EXPECT_THAT(order, ElementsAre(SIGUSR1, -SIGUSR1, SIGUSR2, -SIGUSR2));
  g_order = nullptr;
}

TEST(SigactionTest, IgnoringAPendingSignalDiscardsIt) {
  Reset();
  ScopedSigaction installed(SIGUSR1, Action(CountHandler));
  {
    ScopedMask block(SIG_BLOCK, {SIGUSR1});
    raise(SIGUSR1);
    sigset_t p = Pending();
    EXPECT_TRUE(sigismember(&p, SIGUSR1));
    struct sigaction ign = Action(SIG_IGN);
    ASSERT_THAT(sigaction(SIGUSR1, &ign, nullptr), SyscallSucceeds());
    p = Pending();
    EXPECT_FALSE(sigismember(&p, SIGUSR1));
    struct sigaction handle = Action(CountHandler);
    ASSERT_THAT(sigaction(SIGUSR1, &handle, nullptr), SyscallSucceeds());
  }
  EXPECT_EQ(g_count.load(), 0);
}

TEST(SigactionTest, DefaultActions) {
  // SIGCHLD, SIGURG and SIGWINCH are ignored by default; SIGTERM kills.
  EXPECT_THAT(ForkAndWait([] {
    signal(SIGURG, SIG_DFL);
    signal(SIGWINCH, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    raise(SIGURG);
    raise(SIGWINCH);
    raise(SIGCHLD);
    signal(SIGTERM, SIG_DFL);
    raise(SIGTERM);
    _exit(1);
  }),
              KilledBySignal(SIGTERM));
}

// --- siginfo --------------------------------------------------------------

TEST(SiginfoTest, Kill) {
  Reset();
  ScopedSigaction installed(SIGUSR1, InfoAction(InfoHandler));
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  ASSERT_EQ(g_count.load(), 1);
  EXPECT_EQ(g_info.si_signo, SIGUSR1);
  EXPECT_EQ(g_info.si_code, SI_USER);
  EXPECT_EQ(g_info.si_pid, getpid());
  EXPECT_EQ(g_info.si_uid, getuid());
}

TEST(SiginfoTest, Tgkill) {
  Reset();
  ScopedSigaction installed(SIGUSR1, InfoAction(InfoHandler));
  ASSERT_THAT(syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1),
              SyscallSucceeds());
  ASSERT_EQ(g_count.load(), 1);
  EXPECT_EQ(g_info.si_signo, SIGUSR1);
  EXPECT_EQ(g_info.si_code, SI_TKILL);
  EXPECT_EQ(g_info.si_pid, getpid());
  EXPECT_EQ(g_info.si_uid, getuid());
}

TEST(SiginfoTest, Sigqueue) {
  Reset();
  ScopedSigaction installed(SIGUSR1, InfoAction(InfoHandler));
  union sigval v;
  v.sival_int = 0x5eed;
  ASSERT_THAT(sigqueue(getpid(), SIGUSR1, v), SyscallSucceeds());
  ASSERT_EQ(g_count.load(), 1);
  EXPECT_EQ(g_info.si_code, SI_QUEUE);
  EXPECT_EQ(g_info.si_pid, getpid());
  EXPECT_EQ(g_info.si_value.sival_int, 0x5eed);
}

TEST(SiginfoTest, SenderIsTheChild) {
  ScopedMask block(SIG_BLOCK, {SIGUSR1});
  const pid_t parent = getpid();
  pid_t child = fork();
  ASSERT_THAT(child, SyscallSucceeds());
  if (child == 0) _exit(kill(parent, SIGUSR1) == 0 ? 0 : 1);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  siginfo_t info;
  struct timespec ts = {30, 0};
  ASSERT_THAT(sigtimedwait(&set, &info, &ts), SyscallSucceedsWithValue(SIGUSR1));
  EXPECT_EQ(info.si_pid, child);
  EXPECT_EQ(info.si_code, SI_USER);
  EXPECT_THAT(WaitForStatus(child), ExitedWithCode(0));
}

TEST(SiginfoTest, QueueinfoWithAKernelCodeToAnotherProcessIsEperm) {
  Pipe p = MakePipe();
  Pipe ready = MakePipe();
  pid_t child = fork();
  ASSERT_THAT(child, SyscallSucceeds());
  if (child == 0) {
    alarm(kChildWatchdogSeconds);
    signal(SIGUSR1, SIG_IGN);
    close(p.write_end.get());
    close(ready.write_end.get());
    char c;
    while (read(p.read_end.get(), &c, 1) > 0) {
    }
    _exit(0);
  }
  ready.write_end.reset();
  char c;
  ASSERT_THAT(read(ready.read_end.get(), &c, 1), SyscallSucceedsWithValue(0));
  siginfo_t info = {};
  info.si_signo = SIGUSR1;
  info.si_code = SI_USER;  // only the kernel may claim this for others
  EXPECT_THAT(syscall(SYS_rt_sigqueueinfo, child, SIGUSR1, &info),
              SyscallFailsWithErrno(EPERM));
  info.si_code = SI_TKILL;
  EXPECT_THAT(syscall(SYS_rt_sigqueueinfo, child, SIGUSR1, &info),
              SyscallFailsWithErrno(EPERM));
  info.si_code = SI_QUEUE;
  EXPECT_THAT(syscall(SYS_rt_sigqueueinfo, child, SIGUSR1, &info),
              SyscallSucceeds());
  p.write_end.reset();
  EXPECT_THAT(WaitForStatus(child), ExitedWithCode(0));
}

// --- masks and pending signals --------------------------------------------

TEST(SigmaskTest, BlockedSignalStaysPendingUntilUnblocked) {
  Reset();
  ScopedSigaction installed(SIGUSR1, Action(CountHandler));
  ScopedMask outer(SIG_BLOCK, {});
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &set, nullptr), SyscallSucceeds());
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(g_count.load(), 0);
  sigset_t p = Pending();
  EXPECT_TRUE(sigismember(&p, SIGUSR1));
  // Delivered before sigprocmask returns.
  ASSERT_THAT(sigprocmask(SIG_UNBLOCK, &set, nullptr), SyscallSucceeds());
  EXPECT_EQ(g_count.load(), 1);
  p = Pending();
  EXPECT_FALSE(sigismember(&p, SIGUSR1));
}

TEST(SigmaskTest, HowAndOldSet) {
  ScopedMask outer(SIG_BLOCK, {});
  sigset_t a, b, old;
  sigemptyset(&a);
  sigaddset(&a, SIGUSR1);
  sigemptyset(&b);
  sigaddset(&b, SIGUSR2);
  ASSERT_THAT(sigprocmask(SIG_SETMASK, &a, nullptr), SyscallSucceeds());
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &b, &old), SyscallSucceeds());
  EXPECT_TRUE(sigismember(&old, SIGUSR1));
  EXPECT_FALSE(sigismember(&old, SIGUSR2));
  sigset_t now = CurrentMask();
  EXPECT_TRUE(sigismember(&now, SIGUSR1));
  EXPECT_TRUE(sigismember(&now, SIGUSR2));
  ASSERT_THAT(sigprocmask(SIG_UNBLOCK, &a, nullptr), SyscallSucceeds());
  now = CurrentMask();
  EXPECT_FALSE(sigismember(&now, SIGUSR1));
  EXPECT_TRUE(sigismember(&now, SIGUSR2));
}

TEST(SigmaskTest, KillAndStopCannotBeBlocked) {
  ScopedMask outer(SIG_BLOCK, {});
  sigset_t all;
  sigfillset(&all);
  ASSERT_THAT(syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, nullptr, 8),
              SyscallSucceeds());
  sigset_t now;
  ASSERT_THAT(syscall(SYS_rt_sigprocmask, SIG_SETMASK, nullptr, &now, 8),
              SyscallSucceeds());
  EXPECT_FALSE(sigismember(&now, SIGKILL));
  EXPECT_FALSE(sigismember(&now, SIGSTOP));
  EXPECT_TRUE(sigismember(&now, SIGTERM));
  EXPECT_TRUE(sigismember(&now, SIGRTMAX));
}

TEST(SigmaskTest, Errors) {
  sigset_t set;
  sigemptyset(&set);
  EXPECT_THAT(syscall(SYS_rt_sigprocmask, 42, &set, nullptr, 8),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, nullptr, 4),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_rt_sigprocmask, SIG_BLOCK,
                      Opaque<sigset_t*>(nullptr) + 1, nullptr, 8),
              SyscallFailsWithErrno(EFAULT));
  // rt_sigpending accepts a smaller set but not a larger one.
  EXPECT_THAT(syscall(SYS_rt_sigpending, &set, 16),
              SyscallFailsWithErrno(EINVAL));
}

TEST(SigmaskTest, StandardSignalsCoalesceRealtimeSignalsQueue) {
  Reset();
  ScopedSigaction usr(SIGUSR1, Action(CountHandler));
  {
    ScopedMask block(SIG_BLOCK, {SIGUSR1});
    for (int i = 0; i < 3; ++i) raise(SIGUSR1);
  }
  EXPECT_EQ(g_count.load(), 1);

  std::vector<int> values;
  static std::vector<int>* s_values;
  s_values = &values;
  ScopedSigaction rt(SIGRTMIN,
                     InfoAction([](int, siginfo_t* info, void*) {
                       s_values->push_back(info->si_value.sival_int);
                     }));
  {
    ScopedMask block(SIG_BLOCK, {SIGRTMIN});
    for (int i = 1; i <= 3; ++i) {
      union sigval v;
      v.sival_int = i;
      ASSERT_THAT(sigqueue(getpid(), SIGRTMIN, v), SyscallSucceeds());
    }
  }
  EXPECT_THAT(values, ElementsAre(1, 2, 3));
}

TEST(SigmaskTest, LowerRealtimeSignalsAreDequeuedFirst) {
  std::vector<int> order;
  g_order = &order;
  auto record = [](int sig) { g_order->push_back(sig); };
  // Each handler blocks both signals: otherwise the frame of the next one
  // is pushed on top before the first handler runs, and the handlers run
  // in the reverse of the dequeue order.
  ScopedSigaction a(SIGRTMIN + 1,
                    Action(record, 0, {SIGRTMIN + 1, SIGRTMIN + 2}));
  ScopedSigaction b(SIGRTMIN + 2,
                    Action(record, 0, {SIGRTMIN + 1, SIGRTMIN + 2}));
  {
    ScopedMask block(SIG_BLOCK, {SIGRTMIN + 1, SIGRTMIN + 2});
    raise(SIGRTMIN + 2);
    raise(SIGRTMIN + 1);
    raise(SIGRTMIN + 2);
  }
  EXPECT_THAT(order,
              ElementsAre(SIGRTMIN + 1, SIGRTMIN + 2, SIGRTMIN + 2));
  g_order = nullptr;
}

TEST(SigmaskTest, ForkInheritsMaskAndHandlersButNotPendingSignals) {
  Reset();
  ScopedSigaction installed(SIGUSR1, Action(CountHandler));
  ScopedMask block(SIG_BLOCK, {SIGUSR1});
  raise(SIGUSR1);
  EXPECT_THAT(ForkAndWait([] {
    sigset_t p = Pending();
    TEST_CHECK(!sigismember(&p, SIGUSR1));
    sigset_t m = CurrentMask();
    TEST_CHECK(sigismember(&m, SIGUSR1));
    struct sigaction sa;
    sigaction(SIGUSR1, nullptr, &sa);
    TEST_CHECK(sa.sa_handler == CountHandler);
  }),
              ExitedWithCode(0));
  // Consume our own pending one.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  struct timespec zero = {0, 0};
  EXPECT_THAT(sigtimedwait(&set, nullptr, &zero),
              SyscallSucceedsWithValue(SIGUSR1));
}

// --- sigsuspend -----------------------------------------------------------

TEST(SigsuspendTest, ReturnsEintrAfterTheHandlerAndRestoresTheMask) {
  Reset();
  ScopedSigaction installed(SIGUSR1, Action(CountHandler));
  ScopedMask block(SIG_BLOCK, {SIGUSR1});
  const pid_t tid = gettid();
  std::thread sender(
      [tid] { syscall(SYS_tgkill, getpid(), tid, SIGUSR1); });
  sigset_t empty;
  sigemptyset(&empty);
  EXPECT_THAT(sigsuspend(&empty), SyscallFailsWithErrno(EINTR));
  sender.join();
  EXPECT_EQ(g_count.load(), 1);
  sigset_t now = CurrentMask();
  EXPECT_TRUE(sigismember(&now, SIGUSR1));
}

TEST(SigsuspendTest, AlreadyPendingSignalEndsItAtOnce) {
  Reset();
  ScopedSigaction installed(SIGUSR1, Action(CountHandler));
  ScopedMask block(SIG_BLOCK, {SIGUSR1});
  raise(SIGUSR1);
  sigset_t empty;
  sigemptyset(&empty);
  EXPECT_THAT(sigsuspend(&empty), SyscallFailsWithErrno(EINTR));
  EXPECT_EQ(g_count.load(), 1);
}

// --- sigtimedwait ---------------------------------------------------------

TEST(SigtimedwaitTest, TimesOutWithEagain) {
  ScopedMask block(SIG_BLOCK, {SIGUSR1});
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  struct timespec ts = {0, 50 * 1000 * 1000};
  const int64_t start = MonotonicNanos();
  EXPECT_THAT(sigtimedwait(&set, nullptr, &ts), SyscallFailsWithErrno(EAGAIN));
  EXPECT_GE(MonotonicNanos() - start, 50 * 1000 * 1000);
  struct timespec zero = {0, 0};
  EXPECT_THAT(sigtimedwait(&set, nullptr, &zero), SyscallFailsWithErrno(EAGAIN));
}

TEST(SigtimedwaitTest, ReturnsAndConsumesAPendingSignal) {
  ScopedMask block(SIG_BLOCK, {SIGUSR2});
  union sigval v;
  v.sival_int = 99;
  ASSERT_THAT(sigqueue(getpid(), SIGUSR2, v), SyscallSucceeds());
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  siginfo_t info = {};
  struct timespec ts = {5, 0};
  ASSERT_THAT(sigtimedwait(&set, &info, &ts), SyscallSucceedsWithValue(SIGUSR2));
  EXPECT_EQ(info.si_signo, SIGUSR2);
  EXPECT_EQ(info.si_code, SI_QUEUE);
  EXPECT_EQ(info.si_pid, getpid());
  EXPECT_EQ(info.si_value.sival_int, 99);
  sigset_t p = Pending();
  EXPECT_FALSE(sigismember(&p, SIGUSR2));
}

TEST(SigtimedwaitTest, WakesForASignalFromAnotherThread) {
  ScopedMask block(SIG_BLOCK, {SIGUSR1});
  const pid_t tid = gettid();
  std::thread sender([tid] { syscall(SYS_tgkill, getpid(), tid, SIGUSR1); });
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  EXPECT_THAT(sigwaitinfo(&set, nullptr), SyscallSucceedsWithValue(SIGUSR1));
  sender.join();
}

TEST(SigtimedwaitTest, Errors) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  struct timespec bad = {0, 1000000000};
  EXPECT_THAT(sigtimedwait(&set, nullptr, &bad), SyscallFailsWithErrno(EINVAL));
  struct timespec negative = {-1, 0};
  EXPECT_THAT(sigtimedwait(&set, nullptr, &negative),
              SyscallFailsWithErrno(EINVAL));
  struct timespec ts = {0, 0};
  EXPECT_THAT(syscall(SYS_rt_sigtimedwait, &set, nullptr, &ts, 4),
              SyscallFailsWithErrno(EINVAL));
}

// --- sigaltstack ----------------------------------------------------------

struct AltStackObservation {
  uintptr_t local_addr = 0;
  int ss_flags = -1;
  int change_errno = 0;
};
AltStackObservation g_alt;
char g_other_stack[1 << 16];

void AltStackHandler(int) {
  char local;
  g_alt.local_addr = reinterpret_cast<uintptr_t>(&local);
  stack_t ss;
  sigaltstack(nullptr, &ss);
  g_alt.ss_flags = ss.ss_flags;
  stack_t other = {};
  other.ss_sp = g_other_stack;
  other.ss_size = sizeof(g_other_stack);
  g_alt.change_errno = sigaltstack(&other, nullptr) == 0 ? 0 : errno;
}

class SigaltstackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    size_ = std::max<size_t>(1 << 16, sysconf(_SC_SIGSTKSZ) * 4);
    mem_ = static_cast<char*>(mmap(nullptr, size_, PROT_READ | PROT_WRITE,
                                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    ASSERT_NE(mem_, MAP_FAILED);
    g_alt = {};
  }
  void TearDown() override {
    stack_t off = {};
    off.ss_flags = SS_DISABLE;
    sigaltstack(&off, nullptr);
    munmap(mem_, size_);
  }
  bool OnAltStack(uintptr_t addr) const {
    return addr >= reinterpret_cast<uintptr_t>(mem_) &&
           addr < reinterpret_cast<uintptr_t>(mem_) + size_;
  }

  char* mem_ = nullptr;
  size_t size_ = 0;
};

TEST_F(SigaltstackTest, HandlerRunsOnTheAlternateStack) {
  stack_t ss = {};
  ss.ss_sp = mem_;
  ss.ss_size = size_;
  ASSERT_THAT(sigaltstack(&ss, nullptr), SyscallSucceeds());
  stack_t got;
  ASSERT_THAT(sigaltstack(nullptr, &got), SyscallSucceeds());
  EXPECT_EQ(got.ss_sp, mem_);
  EXPECT_EQ(got.ss_size, size_);
  EXPECT_EQ(got.ss_flags, 0);
  ScopedSigaction installed(SIGUSR1, Action(AltStackHandler, SA_ONSTACK));
  raise(SIGUSR1);
  EXPECT_TRUE(OnAltStack(g_alt.local_addr));
  EXPECT_EQ(g_alt.ss_flags, SS_ONSTACK);
  // It cannot be changed while in use.
  EXPECT_EQ(g_alt.change_errno, EPERM);
  ASSERT_THAT(sigaltstack(nullptr, &got), SyscallSucceeds());
  EXPECT_EQ(got.ss_flags, 0);
}

TEST_F(SigaltstackTest, WithoutOnstackTheNormalStackIsUsed) {
  stack_t ss = {};
  ss.ss_sp = mem_;
  ss.ss_size = size_;
  ASSERT_THAT(sigaltstack(&ss, nullptr), SyscallSucceeds());
  ScopedSigaction installed(SIGUSR1, Action(AltStackHandler));
  raise(SIGUSR1);
  EXPECT_FALSE(OnAltStack(g_alt.local_addr));
  EXPECT_EQ(g_alt.ss_flags, 0);
  EXPECT_EQ(g_alt.change_errno, 0);
}

TEST_F(SigaltstackTest, DisableAndErrors) {
  stack_t ss = {};
  ss.ss_sp = mem_;
  ss.ss_size = 1024;  // below MINSIGSTKSZ
  EXPECT_THAT(sigaltstack(&ss, nullptr), SyscallFailsWithErrno(ENOMEM));
  ss.ss_size = size_;
  ss.ss_flags = 0x1234;
  EXPECT_THAT(sigaltstack(&ss, nullptr), SyscallFailsWithErrno(EINVAL));
  ss.ss_flags = SS_DISABLE;
  ss.ss_size = 0;  // size is ignored when disabling
  ASSERT_THAT(sigaltstack(&ss, nullptr), SyscallSucceeds());
  stack_t got;
  ASSERT_THAT(sigaltstack(nullptr, &got), SyscallSucceeds());
  EXPECT_EQ(got.ss_flags, SS_DISABLE);
  EXPECT_THAT(sigaltstack(Opaque<stack_t*>(nullptr) + 1, nullptr),
              SyscallFailsWithErrno(EFAULT));
}

TEST_F(SigaltstackTest, StackOverflowIsHandledOnTheAlternateStack) {
  char* mem = mem_;
  size_t size = size_;
  EXPECT_THAT(ForkAndWait([mem, size] {
    stack_t ss = {};
    ss.ss_sp = mem;
    ss.ss_size = size;
    TEST_CHECK_SUCCESS(sigaltstack(&ss, nullptr));
    struct sigaction sa = Action([](int) { _exit(42); }, SA_ONSTACK);
    TEST_CHECK_SUCCESS(sigaction(SIGSEGV, &sa, nullptr));
    // Recurse until the main stack runs out.
    struct Recurse {
      static int Go(volatile char* prev, int n) {
        if (n > (1 << 30)) return 0;  // never: the stack runs out first
        volatile char buf[4096];
        buf[0] = prev != nullptr ? prev[0] : 0;
        return Go(buf, n + 1) + buf[0];
      }
    };
    Recurse::Go(nullptr, 0);
    _exit(1);
  }),
              ExitedWithCode(42));
}

// --- SIGCHLD --------------------------------------------------------------

TEST(SigchldTest, SentWithTheChildsStatus) {
  ScopedMask block(SIG_BLOCK, {SIGCHLD});
  pid_t child = fork();
  ASSERT_THAT(child, SyscallSucceeds());
  if (child == 0) _exit(3);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  siginfo_t info = {};
  struct timespec ts = {30, 0};
  ASSERT_THAT(sigtimedwait(&set, &info, &ts), SyscallSucceedsWithValue(SIGCHLD));
  EXPECT_EQ(info.si_code, CLD_EXITED);
  EXPECT_EQ(info.si_pid, child);
  EXPECT_EQ(info.si_status, 3);
  EXPECT_THAT(WaitForStatus(child), ExitedWithCode(3));
}

TEST(SigchldTest, IgnoredOrNocldwaitChildrenAreReapedAutomatically) {
  for (int mode = 0; mode < 2; ++mode) {
    EXPECT_THAT(ForkAndWait([mode] {
      struct sigaction sa = mode == 0 ? Action(SIG_IGN)
                                      : Action(SIG_DFL, SA_NOCLDWAIT);
      TEST_CHECK_SUCCESS(sigaction(SIGCHLD, &sa, nullptr));
      pid_t pid = fork();
      TEST_CHECK(pid >= 0);
      if (pid == 0) _exit(0);
      int status;
      // Blocks until the child is gone, then finds nothing to reap.
      TEST_CHECK_ERRNO(waitpid(pid, &status, 0), ECHILD);
    }),
                ExitedWithCode(0))
        << "mode " << mode;
  }
}

// --- kill / tgkill errors -------------------------------------------------

TEST(KillTest, Errors) {
  EXPECT_THAT(kill(getpid(), 65), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(kill(getpid(), -1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(kill(getpid(), 0), SyscallSucceeds());
  const pid_t gone = UnusedPid();
  EXPECT_THAT(kill(gone, 0), SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(kill(gone, SIGUSR1), SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(syscall(SYS_tgkill, getpid(), gone, SIGUSR1),
              SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(syscall(SYS_tgkill, 0, gettid(), SIGUSR1),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_tgkill, getpid(), 0, SIGUSR1),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_tgkill, getpid(), gettid(), 65),
              SyscallFailsWithErrno(EINVAL));
  // A thread id that exists but in another thread group.
  EXPECT_THAT(syscall(SYS_tgkill, getppid(), gettid(), 0),
              SyscallFailsWithErrno(ESRCH));
}

TEST(KillTest, UnprivilegedCannotSignalOtherUsers) {
  SKIP_IF_NOT_ROOT();
  const pid_t parent = getpid();
  EXPECT_THAT(ForkAndWait([parent] {
    DropPrivilegesInChild();
    TEST_CHECK_ERRNO(kill(parent, 0), EPERM);
    TEST_CHECK_ERRNO(kill(parent, SIGUSR1), EPERM);
    TEST_CHECK_SUCCESS(kill(getpid(), 0));
  }),
              ExitedWithCode(0));
}

TEST(KillTest, ProcessGroup) {
  EXPECT_THAT(ForkAndWait([] {
    TEST_CHECK_SUCCESS(setpgid(0, 0));
    Reset();
    struct sigaction sa = Action(CountHandler);
    TEST_CHECK_SUCCESS(sigaction(SIGUSR1, &sa, nullptr));
    // kill(0, ...) signals the caller's own group, which includes itself.
    TEST_CHECK_SUCCESS(kill(0, SIGUSR1));
    TEST_CHECK(g_count.load() == 1);
    TEST_CHECK_SUCCESS(kill(-getpgrp(), SIGUSR1));
    TEST_CHECK(g_count.load() == 2);
    TEST_CHECK_ERRNO(kill(-UnusedPid(), SIGUSR1), ESRCH);
  }),
              ExitedWithCode(0));
}

// --- threads --------------------------------------------------------------

std::atomic<pid_t> g_handled_by{0};

TEST(ThreadSignalTest, ProcessSignalGoesToAThreadThatDoesNotBlockIt) {
  g_handled_by = 0;
  ScopedSigaction installed(SIGUSR1,
                            Action([](int) { g_handled_by = gettid(); }));
  ScopedMask block(SIG_BLOCK, {SIGUSR1});  // the main thread blocks it
  std::atomic<pid_t> thread_tid{0};
  std::thread t([&] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    thread_tid = gettid();
    while (g_handled_by.load() == 0) pause();
  });
  while (thread_tid.load() == 0) sched_yield();
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  t.join();
  EXPECT_EQ(g_handled_by.load(), thread_tid.load());
}

TEST(ThreadSignalTest, ThreadDirectedSignalsStayWithTheirThread) {
  ScopedMask block(SIG_BLOCK, {SIGUSR2});  // inherited by the thread
  std::atomic<pid_t> thread_tid{0};
  std::atomic<int> stage{0};
  std::atomic<bool> pending_in_thread{false};
  std::atomic<int> waited{0};
  std::thread t([&] {
    thread_tid = gettid();
    while (stage.load() == 0) sched_yield();
    sigset_t p = Pending();
    pending_in_thread = sigismember(&p, SIGUSR2);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    waited = sigwaitinfo(&set, nullptr);
  });
  while (thread_tid.load() == 0) sched_yield();
  ASSERT_THAT(syscall(SYS_tgkill, getpid(), thread_tid.load(), SIGUSR2),
              SyscallSucceeds());
  // Not pending for this thread, nor for the process as a whole.
  sigset_t mine = Pending();
  EXPECT_FALSE(sigismember(&mine, SIGUSR2));
  stage = 1;
  t.join();
  EXPECT_TRUE(pending_in_thread.load());
  EXPECT_EQ(waited.load(), SIGUSR2);
}

TEST(ThreadSignalTest, SigkillEndsAStoppedProcess) {
  Pipe p = MakePipe();
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    close(p.write_end.get());
    char c;
    while (read(p.read_end.get(), &c, 1) > 0) {
    }
    _exit(0);
  }
  ScopedChild child(pid);
  ASSERT_THAT(kill(pid, SIGSTOP), SyscallSucceeds());
  int status;
  ASSERT_THAT(waitpid(pid, &status, WUNTRACED), SyscallSucceedsWithValue(pid));
  ASSERT_TRUE(WIFSTOPPED(status));
  ASSERT_THAT(kill(pid, SIGKILL), SyscallSucceeds());
  EXPECT_THAT(child.Wait(), KilledBySignal(SIGKILL));
}

// --- synchronous faults ---------------------------------------------------

TEST(FaultTest, NullPointerGivesMaperrAtTheAddress) {
  void* addr = reinterpret_cast<void*>(0x10);
  std::optional<Fault> f = TryRead(addr);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->signo, SIGSEGV);
  EXPECT_EQ(f->code, SEGV_MAPERR);
  EXPECT_EQ(f->addr, addr);
}

TEST(FaultTest, NonCanonicalAddressIsAGeneralProtectionFault) {
  std::optional<Fault> f =
      TryRead(reinterpret_cast<void*>(0x8000000000000000ULL));
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->signo, SIGSEGV);
  // A #GP carries no address: Linux reports SI_KERNEL and si_addr 0.
  EXPECT_EQ(f->code, SI_KERNEL);
  EXPECT_EQ(f->addr, nullptr);
}

sigjmp_buf g_jump;

void JumpHandler(int, siginfo_t* info, void*) {
  g_info = *info;
  siglongjmp(g_jump, 1);
}

// Address of the faulting instruction, stored by the asm before it runs
// (a local would not survive the siglongjmp).
uintptr_t g_insn_addr = 0;

TEST(FaultTest, IntegerDivideByZeroIsSigfpe) {
  ScopedSigaction installed(SIGFPE, InfoAction(JumpHandler, SA_NODEFER));
  g_insn_addr = 0;
  memset(&g_info, 0, sizeof(g_info));
  if (sigsetjmp(g_jump, 1) == 0) {
    int zero = 0;
    asm volatile(
        "lea 1f(%%rip), %%rcx\n"
        "mov %%rcx, %[addr]\n"
        "mov $1, %%eax\n"
        "xor %%edx, %%edx\n"
        "1: idivl %[zero]\n"
        : [addr] "=m"(g_insn_addr)
        : [zero] "r"(zero)
        : "rax", "rcx", "rdx", "memory");
    ADD_FAILURE() << "no SIGFPE";
  }
  EXPECT_EQ(g_info.si_signo, SIGFPE);
  EXPECT_EQ(g_info.si_code, FPE_INTDIV);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(g_info.si_addr), g_insn_addr);
}

TEST(FaultTest, InvalidOpcodeIsSigill) {
  ScopedSigaction installed(SIGILL, InfoAction(JumpHandler, SA_NODEFER));
  g_insn_addr = 0;
  memset(&g_info, 0, sizeof(g_info));
  if (sigsetjmp(g_jump, 1) == 0) {
    asm volatile(
        "lea 1f(%%rip), %%rcx\n"
        "mov %%rcx, %[addr]\n"
        "1: ud2\n"
        : [addr] "=m"(g_insn_addr)
        :
        : "rcx", "memory");
    ADD_FAILURE() << "no SIGILL";
  }
  EXPECT_EQ(g_info.si_signo, SIGILL);
  EXPECT_EQ(g_info.si_code, ILL_ILLOPN);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(g_info.si_addr), g_insn_addr);
}

TEST(FaultTest, BlockedOrIgnoredSynchronousSignalKills) {
  EXPECT_THAT(ForkAndWait([] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGSEGV);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    struct rlimit rl = {0, 0};
    setrlimit(RLIMIT_CORE, &rl);
    *Opaque<volatile char*>(nullptr) = 1;
    _exit(1);
  }),
              KilledBySignal(SIGSEGV));
  EXPECT_THAT(ForkAndWait([] {
    signal(SIGSEGV, SIG_IGN);
    struct rlimit rl = {0, 0};
    setrlimit(RLIMIT_CORE, &rl);
    *Opaque<volatile char*>(nullptr) = 1;
    _exit(1);
  }),
              KilledBySignal(SIGSEGV));
}

// --- restart semantics ----------------------------------------------------

// Sends `sig` to thread `tid` every 10 ms until stopped.
class SignalPump {
 public:
  SignalPump(pid_t tid, int sig)
      : thread_([this, tid, sig] {
          while (!stop_.load()) {
            syscall(SYS_tgkill, getpid(), tid, sig);
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, nullptr);
          }
        }) {}
  ~SignalPump() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(RestartTest, ReadIsInterruptedWithoutSaRestart) {
  Reset();
  ScopedSigaction installed(SIGUSR1, Action(CountHandler));
  Pipe p = MakePipe();
  SignalPump pump(gettid(), SIGUSR1);
  char c;
  EXPECT_THAT(read(p.read_end.get(), &c, 1), SyscallFailsWithErrno(EINTR));
  pump.Stop();
  EXPECT_GE(g_count.load(), 1);
}

TEST(RestartTest, ReadIsRestartedWithSaRestart) {
  Reset();
  ScopedSigaction installed(SIGUSR1, Action(CountHandler, SA_RESTART));
  Pipe p = MakePipe();
  const pid_t tid = gettid();
  // Interrupt the read several times, then give it data.
  std::thread sender([&] {
    while (g_count.load() < 5) {
      syscall(SYS_tgkill, getpid(), tid, SIGUSR1);
      struct timespec ts = {0, 10 * 1000 * 1000};
      nanosleep(&ts, nullptr);
    }
    WriteAll(p.write_end.get(), "r");
  });
  char c = 0;
  EXPECT_THAT(read(p.read_end.get(), &c, 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(c, 'r');
  sender.join();
  EXPECT_GE(g_count.load(), 5);
}

TEST(RestartTest, PollIsNeverRestarted) {
  Reset();
  ScopedSigaction installed(SIGUSR1, Action(CountHandler, SA_RESTART));
  Pipe p = MakePipe();
  SignalPump pump(gettid(), SIGUSR1);
  struct pollfd fd = {p.read_end.get(), POLLIN, 0};
  EXPECT_THAT(poll(&fd, 1, -1), SyscallFailsWithErrno(EINTR));
}

TEST(RestartTest, NanosleepReportsTheRemainingTime) {
  Reset();
  ScopedSigaction installed(SIGUSR1, Action(CountHandler, SA_RESTART));
  SignalPump pump(gettid(), SIGUSR1);
  struct timespec req = {20, 0}, rem = {};
  EXPECT_THAT(nanosleep(&req, &rem), SyscallFailsWithErrno(EINTR));
  pump.Stop();
  EXPECT_GE(rem.tv_sec, 10);
  EXPECT_LE(rem.tv_sec, 20);
}

// --- register state across a handler --------------------------------------

void ClobberVectorRegisters(int) {
  // The handler gets a clean FPU state; record MXCSR, then trash things.
  g_count = static_cast<int>(_mm_getcsr());
  _mm_setcsr(0x1f80 | 0x2000);  // round down
  asm volatile(
      "pcmpeqd %%xmm0, %%xmm0\n pcmpeqd %%xmm1, %%xmm1\n"
      "pcmpeqd %%xmm2, %%xmm2\n pcmpeqd %%xmm3, %%xmm3\n"
      "pcmpeqd %%xmm4, %%xmm4\n pcmpeqd %%xmm5, %%xmm5\n"
      "pcmpeqd %%xmm6, %%xmm6\n pcmpeqd %%xmm7, %%xmm7\n"
      "pcmpeqd %%xmm8, %%xmm8\n pcmpeqd %%xmm9, %%xmm9\n"
      "pcmpeqd %%xmm10, %%xmm10\n pcmpeqd %%xmm11, %%xmm11\n"
      "pcmpeqd %%xmm12, %%xmm12\n pcmpeqd %%xmm13, %%xmm13\n"
      "pcmpeqd %%xmm14, %%xmm14\n pcmpeqd %%xmm15, %%xmm15\n" ::
          : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
            "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14",
            "xmm15");
}

TEST(RegisterTest, SseRegistersAndMxcsrSurviveAHandler) {
  ScopedSigaction installed(SIGUSR1, Action(ClobberVectorRegisters));
  alignas(16) uint8_t in[16 * 16], out[16 * 16];
  for (size_t i = 0; i < sizeof(in); ++i) in[i] = static_cast<uint8_t>(i * 13 + 1);
  memset(out, 0, sizeof(out));
  const unsigned saved_csr = _mm_getcsr();
  const unsigned test_csr = 0x1f80 | 0x6000;  // round toward zero
  _mm_setcsr(test_csr);
  long nr = SYS_tgkill;
  // Load xmm0-15, signal ourselves from inside the same asm block (so the
  // compiler cannot spill them), then store them back.
  asm volatile(
      "movdqa 0(%[in]), %%xmm0\n movdqa 16(%[in]), %%xmm1\n"
      "movdqa 32(%[in]), %%xmm2\n movdqa 48(%[in]), %%xmm3\n"
      "movdqa 64(%[in]), %%xmm4\n movdqa 80(%[in]), %%xmm5\n"
      "movdqa 96(%[in]), %%xmm6\n movdqa 112(%[in]), %%xmm7\n"
      "movdqa 128(%[in]), %%xmm8\n movdqa 144(%[in]), %%xmm9\n"
      "movdqa 160(%[in]), %%xmm10\n movdqa 176(%[in]), %%xmm11\n"
      "movdqa 192(%[in]), %%xmm12\n movdqa 208(%[in]), %%xmm13\n"
      "movdqa 224(%[in]), %%xmm14\n movdqa 240(%[in]), %%xmm15\n"
      "syscall\n"
      "movdqa %%xmm0, 0(%[out])\n movdqa %%xmm1, 16(%[out])\n"
      "movdqa %%xmm2, 32(%[out])\n movdqa %%xmm3, 48(%[out])\n"
      "movdqa %%xmm4, 64(%[out])\n movdqa %%xmm5, 80(%[out])\n"
      "movdqa %%xmm6, 96(%[out])\n movdqa %%xmm7, 112(%[out])\n"
      "movdqa %%xmm8, 128(%[out])\n movdqa %%xmm9, 144(%[out])\n"
      "movdqa %%xmm10, 160(%[out])\n movdqa %%xmm11, 176(%[out])\n"
      "movdqa %%xmm12, 192(%[out])\n movdqa %%xmm13, 208(%[out])\n"
      "movdqa %%xmm14, 224(%[out])\n movdqa %%xmm15, 240(%[out])\n"
      : "+a"(nr)
      : [in] "r"(in), [out] "r"(out), "D"(getpid()), "S"(gettid()),
        "d"(SIGUSR1)
      : "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
        "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12",
        "xmm13", "xmm14", "xmm15");
  const unsigned csr_after = _mm_getcsr();
  _mm_setcsr(saved_csr);
  EXPECT_EQ(nr, 0);
  EXPECT_EQ(memcmp(in, out, sizeof(in)), 0);
  EXPECT_EQ(csr_after, test_csr);
  // The handler started from the default MXCSR, not the interrupted one.
  EXPECT_EQ(static_cast<unsigned>(g_count.load()), 0x1f80u);
}

void ClobberYmmUpperHalves(int) {
  asm volatile(
      "vpcmpeqd %%ymm0, %%ymm0, %%ymm0\n vpcmpeqd %%ymm7, %%ymm7, %%ymm7\n"
      "vpcmpeqd %%ymm15, %%ymm15, %%ymm15\n" ::
          : "xmm0", "xmm7", "xmm15");
}

__attribute__((target("avx"))) void RoundTripYmm(const uint8_t* in,
                                                 uint8_t* out) {
  long nr = SYS_tgkill;
  asm volatile(
      "vmovdqu 0(%[in]), %%ymm0\n vmovdqu 32(%[in]), %%ymm7\n"
      "vmovdqu 64(%[in]), %%ymm15\n"
      "syscall\n"
      "vmovdqu %%ymm0, 0(%[out])\n vmovdqu %%ymm7, 32(%[out])\n"
      "vmovdqu %%ymm15, 64(%[out])\n"
      "vzeroupper\n"
      : "+a"(nr)
      : [in] "r"(in), [out] "r"(out), "D"(getpid()), "S"(gettid()),
        "d"(SIGUSR1)
      : "rcx", "r11", "memory", "xmm0", "xmm7", "xmm15");
}

TEST(RegisterTest, AvxUpperHalvesSurviveAHandler) {
  if (!__builtin_cpu_supports("avx")) GTEST_SKIP() << "no AVX on this CPU";
  ScopedSigaction installed(
      SIGUSR1, Action([](int sig) {
        if (__builtin_cpu_supports("avx")) ClobberYmmUpperHalves(sig);
      }));
  uint8_t in[96], out[96];
  for (size_t i = 0; i < sizeof(in); ++i) in[i] = static_cast<uint8_t>(i * 7 + 3);
  memset(out, 0, sizeof(out));
  RoundTripYmm(in, out);
  EXPECT_EQ(memcmp(in, out, sizeof(in)), 0);
}

void SetRaxHandler(int, siginfo_t*, void* ctx) {
  auto* uc = static_cast<ucontext_t*>(ctx);
  uc->uc_mcontext.gregs[REG_RAX] = 0x1234;
  uc->uc_mcontext.gregs[REG_R12] = 0x5678;
}

TEST(RegisterTest, SigreturnRestoresTheContextTheHandlerEdited) {
  ScopedSigaction installed(SIGUSR1, InfoAction(SetRaxHandler));
  long nr = SYS_tgkill;
  long r12 = 0;
  asm volatile(
      "xor %%r12, %%r12\n"
      "syscall\n"
      "mov %%r12, %[r12]\n"
      : "+a"(nr), [r12] "=r"(r12)
      : "D"(getpid()), "S"(gettid()), "d"(SIGUSR1)
      : "rcx", "r11", "r12", "memory");
  EXPECT_EQ(nr, 0x1234);
  EXPECT_EQ(r12, 0x5678);
}

void RecordUcontextMask(int, siginfo_t*, void* ctx) {
  g_mask_in_handler = static_cast<ucontext_t*>(ctx)->uc_sigmask;
}

TEST(RegisterTest, UcontextHoldsTheInterruptedMask) {
  ScopedSigaction installed(SIGUSR1, InfoAction(RecordUcontextMask));
  ScopedMask block(SIG_BLOCK, {SIGUSR2});
  raise(SIGUSR1);
  EXPECT_TRUE(sigismember(&g_mask_in_handler, SIGUSR2));
  EXPECT_FALSE(sigismember(&g_mask_in_handler, SIGUSR1));
}

}  // namespace
}  // namespace systest
