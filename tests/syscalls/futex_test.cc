// futex(2): wait/wake, timeouts, bitsets, requeue, wake-op, process-shared
// futexes, and errors.

#include <limits.h>
#include <linux/futex.h>
#include <sys/mman.h>

#include <atomic>
#include <memory>
#include <new>
#include <stdexcept>
#include <tuple>
#include <thread>
#include <vector>

#include "tests/syscalls/test_util.h"

namespace systest {
namespace {

using ::testing::Ge;

long Futex(std::atomic<uint32_t>* uaddr, int op, uint32_t val,
           const struct timespec* timeout = nullptr,
           std::atomic<uint32_t>* uaddr2 = nullptr, uint32_t val3 = 0) {
  return syscall(SYS_futex, reinterpret_cast<uint32_t*>(uaddr), op, val,
                 timeout, reinterpret_cast<uint32_t*>(uaddr2), val3);
}

// FUTEX_REQUEUE takes its second count in the timeout argument.
long FutexRequeue(std::atomic<uint32_t>* from, int op, uint32_t nr_wake,
                  uint32_t nr_requeue, std::atomic<uint32_t>* to,
                  uint32_t expected = 0) {
  return syscall(SYS_futex, reinterpret_cast<uint32_t*>(from), op, nr_wake,
                 static_cast<uintptr_t>(nr_requeue),
                 reinterpret_cast<uint32_t*>(to), expected);
}

int64_t MonotonicNanos() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

struct timespec AbsoluteIn(clockid_t clock, int64_t nanos) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  int64_t total = static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec +
                  nanos;
  return {static_cast<time_t>(total / 1000000000),
          static_cast<long>(total % 1000000000)};
}

constexpr int64_t kMillis = 1000 * 1000;

// How many tasks are blocked on `word` (with op flags `priv`): moves them
// all to a scratch futex and back, which counts them without waking any.
int WaitersOn(std::atomic<uint32_t>* word, std::atomic<uint32_t>* scratch,
              int priv) {
  long n = FutexRequeue(word, FUTEX_CMP_REQUEUE | priv, 0, INT_MAX, scratch,
                        word->load());
  if (n < 0) return -1;
  long back = FutexRequeue(scratch, FUTEX_CMP_REQUEUE | priv, 0, INT_MAX,
                           word, scratch->load());
  if (back != n) return -1;
  return static_cast<int>(n);
}

// Waits (yielding) until `n` tasks block on `word`.
void AwaitWaiters(std::atomic<uint32_t>* word, std::atomic<uint32_t>* scratch,
                  int n, int priv = FUTEX_PRIVATE_FLAG) {
  const int64_t deadline = MonotonicNanos() + 30 * int64_t{1000000000};
  while (WaitersOn(word, scratch, priv) != n) {
    if (MonotonicNanos() > deadline) {
      throw std::runtime_error("waiters never blocked");
    }
    sched_yield();
  }
}

// A thread that waits on `word` until it is non-zero, recording the
// result of its first FUTEX_WAIT.
class Waiter {
 public:
  Waiter(std::atomic<uint32_t>* word, int op = FUTEX_WAIT_PRIVATE,
         uint32_t bitset = FUTEX_BITSET_MATCH_ANY)
      : thread_([this, word, op, bitset] {
          while (word->load() == 0) {
            long r = Futex(word, op, 0, nullptr, nullptr, bitset);
            if (first_result_.load() == kUnset) {
              first_result_ = r == 0 ? 0 : errno;
            }
          }
        }) {}
  ~Waiter() { Join(); }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  // 0 for a successful wake, else the errno.
  int first_result() const { return first_result_.load(); }

 private:
  static constexpr int kUnset = -1000;
  std::atomic<int> first_result_{kUnset};
  std::thread thread_;
};

TEST(FutexTest, WaitWithAChangedValueIsEagain) {
  std::atomic<uint32_t> word{5};
  EXPECT_THAT(Futex(&word, FUTEX_WAIT_PRIVATE, 4), SyscallFailsWithErrno(EAGAIN));
  EXPECT_THAT(Futex(&word, FUTEX_WAIT, 4), SyscallFailsWithErrno(EAGAIN));
  EXPECT_THAT(Futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 4, nullptr, nullptr,
                    FUTEX_BITSET_MATCH_ANY),
              SyscallFailsWithErrno(EAGAIN));
}

TEST(FutexTest, WakeWithoutWaitersReturnsZero) {
  std::atomic<uint32_t> word{0};
  EXPECT_THAT(Futex(&word, FUTEX_WAKE_PRIVATE, 1), SyscallSucceedsWithValue(0));
  EXPECT_THAT(Futex(&word, FUTEX_WAKE, INT_MAX), SyscallSucceedsWithValue(0));
}

TEST(FutexTest, RelativeTimeout) {
  std::atomic<uint32_t> word{0};
  struct timespec ts = {0, 50 * kMillis};
  const int64_t start = MonotonicNanos();
  EXPECT_THAT(Futex(&word, FUTEX_WAIT_PRIVATE, 0, &ts),
              SyscallFailsWithErrno(ETIMEDOUT));
  EXPECT_GE(MonotonicNanos() - start, 50 * kMillis);
  struct timespec zero = {0, 0};
  EXPECT_THAT(Futex(&word, FUTEX_WAIT_PRIVATE, 0, &zero),
              SyscallFailsWithErrno(ETIMEDOUT));
}

TEST(FutexTest, InvalidTimeoutIsEinval) {
  std::atomic<uint32_t> word{0};
  struct timespec bad = {0, 1000000000};
  EXPECT_THAT(Futex(&word, FUTEX_WAIT_PRIVATE, 0, &bad),
              SyscallFailsWithErrno(EINVAL));
  struct timespec negative = {-1, 0};
  EXPECT_THAT(Futex(&word, FUTEX_WAIT_PRIVATE, 0, &negative),
              SyscallFailsWithErrno(EINVAL));
}

TEST(FutexTest, WaitBitsetAbsoluteMonotonicTimeout) {
  std::atomic<uint32_t> word{0};
  struct timespec deadline = AbsoluteIn(CLOCK_MONOTONIC, 50 * kMillis);
  EXPECT_THAT(Futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, &deadline, nullptr,
                    FUTEX_BITSET_MATCH_ANY),
              SyscallFailsWithErrno(ETIMEDOUT));
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  EXPECT_TRUE(now.tv_sec > deadline.tv_sec ||
              (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec));
  // A deadline in the past times out at once.
  struct timespec past = {0, 0};
  EXPECT_THAT(Futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, &past, nullptr,
                    FUTEX_BITSET_MATCH_ANY),
              SyscallFailsWithErrno(ETIMEDOUT));
}

TEST(FutexTest, WaitBitsetAbsoluteRealtimeTimeout) {
  std::atomic<uint32_t> word{0};
  struct timespec deadline = AbsoluteIn(CLOCK_REALTIME, 50 * kMillis);
  const int64_t start = MonotonicNanos();
  EXPECT_THAT(Futex(&word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 0,
                    &deadline, nullptr, FUTEX_BITSET_MATCH_ANY),
              SyscallFailsWithErrno(ETIMEDOUT));
  EXPECT_GE(MonotonicNanos() - start, 40 * kMillis);
}

TEST(FutexTest, ZeroBitsetIsEinval) {
  std::atomic<uint32_t> word{0};
  EXPECT_THAT(Futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, nullptr, nullptr, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Futex(&word, FUTEX_WAKE_BITSET_PRIVATE, 1, nullptr, nullptr, 0),
              SyscallFailsWithErrno(EINVAL));
}

TEST(FutexTest, Errors) {
  alignas(8) char buf[8] = {};
  auto* unaligned = reinterpret_cast<std::atomic<uint32_t>*>(buf + 1);
  EXPECT_THAT(Futex(unaligned, FUTEX_WAIT_PRIVATE, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Futex(unaligned, FUTEX_WAKE_PRIVATE, 1),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Futex(Opaque<std::atomic<uint32_t>*>(nullptr), FUTEX_WAIT_PRIVATE,
                    0),
              SyscallFailsWithErrno(EFAULT));
  std::atomic<uint32_t> word{0};
  EXPECT_THAT(Futex(&word, 99, 0), SyscallFailsWithErrno(ENOSYS));
  // FUTEX_CLOCK_REALTIME only goes with the waits that take a deadline.
  EXPECT_THAT(Futex(&word, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1),
              SyscallFailsWithErrno(ENOSYS));
}

TEST(FutexTest, WakeWakesABlockedWaiter) {
  std::atomic<uint32_t> word{0}, scratch{0};
  Waiter w(&word);
  AwaitWaiters(&word, &scratch, 1);
  word = 1;
  EXPECT_THAT(Futex(&word, FUTEX_WAKE_PRIVATE, 1), SyscallSucceedsWithValue(1));
  w.Join();
  EXPECT_EQ(w.first_result(), 0);
}

TEST(FutexTest, WakeCountLimitsHowManyWake) {
  std::atomic<uint32_t> word{0}, scratch{0};
  std::vector<std::unique_ptr<Waiter>> waiters;
  for (int i = 0; i < 3; ++i) waiters.push_back(std::make_unique<Waiter>(&word));
  AwaitWaiters(&word, &scratch, 3);
  // Woken waiters find the word still 0 and wait again.
  EXPECT_THAT(Futex(&word, FUTEX_WAKE_PRIVATE, 2), SyscallSucceedsWithValue(2));
  AwaitWaiters(&word, &scratch, 3);
  word = 1;
  EXPECT_THAT(Futex(&word, FUTEX_WAKE_PRIVATE, INT_MAX),
              SyscallSucceedsWithValue(3));
}

TEST(FutexTest, WakeAllWakesEveryWaiter) {
  constexpr int kWaiters = 16;
  std::atomic<uint32_t> word{0}, scratch{0};
  std::vector<std::unique_ptr<Waiter>> waiters;
  for (int i = 0; i < kWaiters; ++i) {
    waiters.push_back(std::make_unique<Waiter>(&word));
  }
  AwaitWaiters(&word, &scratch, kWaiters);
  word = 1;
  EXPECT_THAT(Futex(&word, FUTEX_WAKE_PRIVATE, INT_MAX),
              SyscallSucceedsWithValue(kWaiters));
  for (auto& w : waiters) {
    w->Join();
    EXPECT_EQ(w->first_result(), 0);
  }
}

TEST(FutexTest, WaiterWithATimeoutIsWokenBeforeIt) {
  std::atomic<uint32_t> word{0}, scratch{0};
  std::atomic<long> result{-2};
  std::thread t([&] {
    struct timespec ts = {60, 0};
    result = Futex(&word, FUTEX_WAIT_PRIVATE, 0, &ts);
  });
  AwaitWaiters(&word, &scratch, 1);
  EXPECT_THAT(Futex(&word, FUTEX_WAKE_PRIVATE, 1), SyscallSucceedsWithValue(1));
  t.join();
  EXPECT_EQ(result.load(), 0);
}

TEST(FutexTest, PlainWaitRefusesTheRealtimeClockFlag) {
  // Linux 4.5 allowed it; current kernels refuse it again with ENOSYS
  // (only the waits that take an absolute deadline accept the flag).
  std::atomic<uint32_t> word{0};
  struct timespec ts = {0, 30 * kMillis};
  EXPECT_THAT(Futex(&word, FUTEX_WAIT_PRIVATE | FUTEX_CLOCK_REALTIME, 0, &ts),
              SyscallFailsWithErrno(ENOSYS));
}

TEST(FutexTest, NegativeRequeueCountsAreEinval) {
  std::atomic<uint32_t> word{0}, target{0};
  EXPECT_THAT(FutexRequeue(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1,
                           static_cast<uint32_t>(-1), &target, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(FutexRequeue(&word, FUTEX_CMP_REQUEUE_PRIVATE,
                           static_cast<uint32_t>(-1), 1, &target, 0),
              SyscallFailsWithErrno(EINVAL));
}

TEST(FutexTest, PrivateAndSharedWaitersAreDistinct) {
  std::atomic<uint32_t> word{0}, scratch{0};
  Waiter w(&word, FUTEX_WAIT_PRIVATE);
  AwaitWaiters(&word, &scratch, 1);
  // A shared wake does not find a private waiter.
  EXPECT_THAT(Futex(&word, FUTEX_WAKE, 1), SyscallSucceedsWithValue(0));
  word = 1;
  EXPECT_THAT(Futex(&word, FUTEX_WAKE_PRIVATE, 1), SyscallSucceedsWithValue(1));
}

TEST(FutexTest, WakeBitsetOnlyWakesMatchingWaiters) {
  std::atomic<uint32_t> word{0}, scratch{0};
  Waiter a(&word, FUTEX_WAIT_BITSET_PRIVATE, 0x1);
  Waiter b(&word, FUTEX_WAIT_BITSET_PRIVATE, 0x2);
  AwaitWaiters(&word, &scratch, 2);
  EXPECT_THAT(Futex(&word, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, nullptr,
                    nullptr, 0x4),
              SyscallSucceedsWithValue(0));
  EXPECT_THAT(Futex(&word, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, nullptr,
                    nullptr, 0x2),
              SyscallSucceedsWithValue(1));
  AwaitWaiters(&word, &scratch, 2);
  word = 1;
  // A plain wake matches every bitset.
  EXPECT_THAT(Futex(&word, FUTEX_WAKE_PRIVATE, INT_MAX),
              SyscallSucceedsWithValue(2));
}

TEST(FutexTest, RequeueMovesWaiters) {
  std::atomic<uint32_t> word{0}, target{0}, scratch{0};
  std::vector<std::unique_ptr<Waiter>> waiters;
  for (int i = 0; i < 3; ++i) waiters.push_back(std::make_unique<Waiter>(&word));
  AwaitWaiters(&word, &scratch, 3);
  word = 1;  // whoever wakes now leaves
  // Wake one and move the others: the return counts both.
  EXPECT_THAT(FutexRequeue(&word, FUTEX_REQUEUE_PRIVATE, 1, INT_MAX, &target),
              SyscallSucceedsWithValue(3));
  EXPECT_THAT(Futex(&word, FUTEX_WAKE_PRIVATE, INT_MAX),
              SyscallSucceedsWithValue(0));
  AwaitWaiters(&target, &scratch, 2);
  EXPECT_THAT(Futex(&target, FUTEX_WAKE_PRIVATE, INT_MAX),
              SyscallSucceedsWithValue(2));
}

TEST(FutexTest, CmpRequeueChecksTheValue) {
  std::atomic<uint32_t> word{0}, target{0}, scratch{0};
  Waiter w(&word);
  AwaitWaiters(&word, &scratch, 1);
  EXPECT_THAT(FutexRequeue(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, 1, &target, 7),
              SyscallFailsWithErrno(EAGAIN));
  EXPECT_EQ(WaitersOn(&word, &scratch, FUTEX_PRIVATE_FLAG), 1);
  EXPECT_THAT(FutexRequeue(&word, FUTEX_CMP_REQUEUE_PRIVATE, 0, 1, &target, 0),
              SyscallSucceedsWithValue(1));
  word = 1;
  EXPECT_THAT(Futex(&target, FUTEX_WAKE_PRIVATE, 1), SyscallSucceedsWithValue(1));
}

TEST(FutexTest, WakeOpModifiesTheSecondWordAndWakesConditionally) {
  std::atomic<uint32_t> a{0}, b{0};
  // b += 5, then wake b's waiters if the old value == 0.
  EXPECT_THAT(Futex(&a, FUTEX_WAKE_OP_PRIVATE, 1,
                    reinterpret_cast<struct timespec*>(1), &b,
                    FUTEX_OP(FUTEX_OP_ADD, 5, FUTEX_OP_CMP_EQ, 0)),
              SyscallSucceedsWithValue(0));
  EXPECT_EQ(b.load(), 5u);
  // b = 1 << 3.
  EXPECT_THAT(Futex(&a, FUTEX_WAKE_OP_PRIVATE, 1,
                    reinterpret_cast<struct timespec*>(1), &b,
                    FUTEX_OP(FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT, 3,
                             FUTEX_OP_CMP_GT, 100)),
              SyscallSucceedsWithValue(0));
  EXPECT_EQ(b.load(), 8u);
  for (auto [op, arg, expect] : {std::tuple{FUTEX_OP_OR, 0x3, 0xbu},
                                 std::tuple{FUTEX_OP_ANDN, 0x1, 0xau},
                                 std::tuple{FUTEX_OP_XOR, 0xf, 0x5u}}) {
    ASSERT_THAT(Futex(&a, FUTEX_WAKE_OP_PRIVATE, 0,
                      reinterpret_cast<struct timespec*>(0), &b,
                      FUTEX_OP(op, arg, FUTEX_OP_CMP_EQ, 0)),
                SyscallSucceeds());
    EXPECT_EQ(b.load(), expect) << "op " << op;
  }
}

TEST(FutexTest, WakeOpWakesBothWords) {
  std::atomic<uint32_t> a{0}, b{0}, scratch{0};
  Waiter wa(&a);
  Waiter wb(&b);
  AwaitWaiters(&a, &scratch, 1);
  AwaitWaiters(&b, &scratch, 1);
  a = 1;
  // b = 1 (its waiter then leaves); old value 0 == 0, so b is woken too.
  EXPECT_THAT(Futex(&a, FUTEX_WAKE_OP_PRIVATE, 1,
                    reinterpret_cast<struct timespec*>(1), &b,
                    FUTEX_OP(FUTEX_OP_SET, 1, FUTEX_OP_CMP_EQ, 0)),
              SyscallSucceedsWithValue(2));
}

TEST(FutexTest, WakeOpErrors) {
  std::atomic<uint32_t> a{0}, b{0};
  EXPECT_THAT(Futex(&a, FUTEX_WAKE_OP_PRIVATE, 1, nullptr, &b,
                    FUTEX_OP(7, 0, FUTEX_OP_CMP_EQ, 0)),
              SyscallFailsWithErrno(ENOSYS));
  EXPECT_THAT(Futex(&a, FUTEX_WAKE_OP_PRIVATE, 1, nullptr, &b,
                    FUTEX_OP(FUTEX_OP_SET, 0, 7, 0)),
              SyscallFailsWithErrno(ENOSYS));
  // The second word must be writable.
  void* ro = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_THAT(ro, SyscallSucceeds());
  EXPECT_THAT(Futex(&a, FUTEX_WAKE_OP_PRIVATE, 1, nullptr,
                    static_cast<std::atomic<uint32_t>*>(ro),
                    FUTEX_OP(FUTEX_OP_SET, 1, FUTEX_OP_CMP_EQ, 0)),
              SyscallFailsWithErrno(EFAULT));
  munmap(ro, 4096);
}

TEST(FutexTest, WaitOnReadOnlyMemoryIsFine) {
  void* ro = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_THAT(ro, SyscallSucceeds());
  auto* word = static_cast<std::atomic<uint32_t>*>(ro);
  struct timespec zero = {0, 0};
  EXPECT_THAT(Futex(word, FUTEX_WAIT_PRIVATE, 0, &zero),
              SyscallFailsWithErrno(ETIMEDOUT));
  EXPECT_THAT(Futex(word, FUTEX_WAIT_PRIVATE, 1, &zero),
              SyscallFailsWithErrno(EAGAIN));
  munmap(ro, 4096);
}

TEST(FutexTest, CrossProcessThroughASharedMapping) {
  void* mem = mmap(nullptr, 4096, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_THAT(mem, SyscallSucceeds());
  auto* word = new (mem) std::atomic<uint32_t>(0);
  auto* scratch = new (static_cast<char*>(mem) + 64) std::atomic<uint32_t>(0);
  pid_t child = fork();
  ASSERT_THAT(child, SyscallSucceeds());
  if (child == 0) {
    alarm(kChildWatchdogSeconds);
    long r = 0;
    while (word->load() == 0) r = Futex(word, FUTEX_WAIT, 0);
    _exit(r == 0 ? 0 : 1);
  }
  AwaitWaiters(word, scratch, 1, /*priv=*/0);
  // A private wake looks in this process only.
  EXPECT_THAT(Futex(word, FUTEX_WAKE_PRIVATE, 1), SyscallSucceedsWithValue(0));
  word->store(1);
  EXPECT_THAT(Futex(word, FUTEX_WAKE, 1), SyscallSucceedsWithValue(1));
  EXPECT_THAT(WaitForStatus(child), ExitedWithCode(0));
  munmap(mem, 4096);
}

TEST(FutexTest, CrossProcessThroughASharedFileMapping) {
  TempPath f = TempPath::File(std::string(4096, '\0'));
  FileDescriptor fd = OpenOrThrow(f.path(), O_RDWR);
  // Two separate mappings of the same file page: the futex key is the page,
  // not the address.
  void* m1 = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  void* m2 = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  ASSERT_THAT(m1, SyscallSucceeds());
  ASSERT_THAT(m2, SyscallSucceeds());
  auto* w1 = static_cast<std::atomic<uint32_t>*>(m1);
  auto* w2 = static_cast<std::atomic<uint32_t>*>(m2);
  auto* scratch = reinterpret_cast<std::atomic<uint32_t>*>(
      static_cast<char*>(m1) + 64);
  pid_t child = fork();
  ASSERT_THAT(child, SyscallSucceeds());
  if (child == 0) {
    alarm(kChildWatchdogSeconds);
    while (w1->load() == 0) Futex(w1, FUTEX_WAIT, 0);
    _exit(0);
  }
  AwaitWaiters(w1, scratch, 1, /*priv=*/0);
  w2->store(1);
  EXPECT_THAT(Futex(w2, FUTEX_WAKE, 1), SyscallSucceedsWithValue(1));
  EXPECT_THAT(WaitForStatus(child), ExitedWithCode(0));
  munmap(m1, 4096);
  munmap(m2, 4096);
}

void NoopHandler(int) {}

TEST(FutexTest, WaitIsInterruptedByASignal) {
  struct sigaction sa = {}, old;
  sa.sa_handler = NoopHandler;
  ASSERT_THAT(sigaction(SIGUSR1, &sa, &old), SyscallSucceeds());
  std::atomic<uint32_t> word{0};
  std::atomic<bool> stop{false};
  const pid_t tid = gettid();
  std::thread pump([&] {
    while (!stop.load()) {
      syscall(SYS_tgkill, getpid(), tid, SIGUSR1);
      struct timespec ts = {0, 10 * kMillis};
      nanosleep(&ts, nullptr);
    }
  });
  EXPECT_THAT(Futex(&word, FUTEX_WAIT_PRIVATE, 0),
              SyscallFailsWithErrno(EINTR));
  stop = true;
  pump.join();
  sigaction(SIGUSR1, &old, nullptr);
}

}  // namespace
}  // namespace systest
