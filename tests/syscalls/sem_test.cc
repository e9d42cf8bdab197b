// System V semaphores: semget/semop/semtimedop/semctl, atomic operation
// lists, blocking across processes, SEM_UNDO at exit, removal waking
// sleepers, interruption, and errors.

#include <signal.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>

#include "tests/syscalls/test_util.h"

namespace systest {
namespace {

union semun {
  int val;
  semid_ds* buf;
  unsigned short* array;
  seminfo* info;
};

class SemSet {
 public:
  explicit SemSet(int nsems) {
    id_ = semget(IPC_PRIVATE, nsems, IPC_CREAT | 0600);
    if (id_ < 0) ThrowErrno("semget");
  }
  ~SemSet() {
    if (id_ >= 0) semctl(id_, 0, IPC_RMID);
  }
  int id() const { return id_; }
  int Get(int n) const { return semctl(id_, n, GETVAL); }
  void Set(int n, int v) const {
    semun u;
    u.val = v;
    if (semctl(id_, n, SETVAL, u) != 0) ThrowErrno("SETVAL");
  }
  void Forget() { id_ = -1; }

 private:
  int id_;
};

int Op(int id, unsigned short num, short op, short flg = 0) {
  sembuf b = {num, op, flg};
  return semop(id, &b, 1);
}

// Waits (up to 5 s) until `cond` holds.
bool Eventually(const std::function<bool()>& cond) {
  for (int i = 0; i < 500; i++) {
    if (cond()) return true;
    usleep(10000);
  }
  return false;
}

TEST(SemTest, ValuesAndOperations) {
  SemSet s(3);
  EXPECT_EQ(s.Get(0), 0);
  s.Set(1, 5);
  EXPECT_EQ(s.Get(1), 5);
  ASSERT_THAT(Op(s.id(), 1, -2), SyscallSucceeds());
  ASSERT_THAT(Op(s.id(), 2, 3), SyscallSucceeds());
  EXPECT_EQ(s.Get(1), 3);
  EXPECT_THAT(semctl(s.id(), 1, GETPID), SyscallSucceedsWithValue(getpid()));
  unsigned short vals[3];
  semun u;
  u.array = vals;
  ASSERT_THAT(semctl(s.id(), 0, GETALL, u), SyscallSucceeds());
  EXPECT_EQ(vals[0], 0);
  EXPECT_EQ(vals[1], 3);
  EXPECT_EQ(vals[2], 3);
  vals[0] = 7;
  ASSERT_THAT(semctl(s.id(), 0, SETALL, u), SyscallSucceeds());
  EXPECT_EQ(s.Get(0), 7);
  semid_ds ds;
  u.buf = &ds;
  ASSERT_THAT(semctl(s.id(), 0, IPC_STAT, u), SyscallSucceeds());
  EXPECT_EQ(ds.sem_nsems, 3u);
  EXPECT_EQ(ds.sem_perm.mode & 0777, 0600);
  EXPECT_NE(ds.sem_otime, 0);
}

TEST(SemTest, OperationListsAreAtomic) {
  SemSet s(2);
  s.Set(0, 1);
  sembuf ops[2] = {{0, -1, IPC_NOWAIT}, {1, -1, IPC_NOWAIT}};
  EXPECT_THAT(semop(s.id(), ops, 2), SyscallFailsWithErrno(EAGAIN));
  EXPECT_EQ(s.Get(0), 1) << "nothing applied";
  EXPECT_THAT(Op(s.id(), 0, 0, IPC_NOWAIT), SyscallFailsWithErrno(EAGAIN));
  s.Set(1, 1);
  EXPECT_THAT(semop(s.id(), ops, 2), SyscallSucceeds());
  EXPECT_EQ(s.Get(0), 0);
  EXPECT_EQ(s.Get(1), 0);
  EXPECT_THAT(Op(s.id(), 0, 0, IPC_NOWAIT), SyscallSucceeds());
}

TEST(SemTest, BlockingAcrossProcesses) {
  SemSet s(1);
  pid_t child = fork();
  if (child == 0) {
    TEST_CHECK_SUCCESS(Op(s.id(), 0, -1));
    _exit(0);
  }
  ScopedChild guard(child);
  EXPECT_TRUE(Eventually([&] { return semctl(s.id(), 0, GETNCNT) == 1; }));
  ASSERT_THAT(Op(s.id(), 0, 1), SyscallSucceeds());
  EXPECT_THAT(guard.Wait(), ExitedWithCode(0));
  EXPECT_EQ(s.Get(0), 0);
  EXPECT_EQ(semctl(s.id(), 0, GETNCNT), 0);

  // Waiting for zero.
  s.Set(0, 2);
  child = fork();
  if (child == 0) {
    TEST_CHECK_SUCCESS(Op(s.id(), 0, 0));
    _exit(0);
  }
  ScopedChild guard2(child);
  EXPECT_TRUE(Eventually([&] { return semctl(s.id(), 0, GETZCNT) == 1; }));
  ASSERT_THAT(Op(s.id(), 0, -2), SyscallSucceeds());
  EXPECT_THAT(guard2.Wait(), ExitedWithCode(0));
}

TEST(SemTest, UndoAtExit) {
  SemSet s(1);
  EXPECT_THAT(ForkAndWait([&] {
                TEST_CHECK_SUCCESS(Op(s.id(), 0, 2, SEM_UNDO));
                TEST_CHECK_SUCCESS(Op(s.id(), 0, 1));  // without undo: stays
              }),
              ExitedWithCode(0));
  EXPECT_EQ(s.Get(0), 1);
  // SETVAL clears adjustments: a later exit changes nothing.
  int ready[2];
  ASSERT_THAT(pipe(ready), SyscallSucceeds());
  pid_t child = fork();
  if (child == 0) {
    TEST_CHECK_SUCCESS(Op(s.id(), 0, 5, SEM_UNDO));
    TEST_CHECK_VALUE(write(ready[1], "x", 1), 1);
    pause();
    _exit(0);
  }
  ScopedChild guard(child);
  char c;
  ASSERT_THAT(read(ready[0], &c, 1), SyscallSucceedsWithValue(1));
  s.Set(0, 10);
  kill(child, SIGKILL);
  guard.Wait();
  EXPECT_EQ(s.Get(0), 10);
  close(ready[0]);
  close(ready[1]);
}

TEST(SemTest, TimeoutRemovalAndSignals) {
  SemSet s(1);
  timespec ts = {0, 100000000};
  sembuf b = {0, -1, 0};
  auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(semtimedop(s.id(), &b, 1, &ts), SyscallFailsWithErrno(EAGAIN));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(90));

  // A signal ends the wait with EINTR, even with SA_RESTART.
  struct sigaction sa = {};
  sa.sa_handler = [](int) {};
  sa.sa_flags = SA_RESTART;
  struct sigaction old;
  sigaction(SIGUSR1, &sa, &old);
  pid_t self = getpid();
  pid_t killer = fork();
  if (killer == 0) {
    usleep(100000);
    kill(self, SIGUSR1);
    _exit(0);
  }
  EXPECT_THAT(Op(s.id(), 0, -1), SyscallFailsWithErrno(EINTR));
  WaitForStatus(killer);
  sigaction(SIGUSR1, &old, nullptr);

  // Removal wakes sleepers with EIDRM.
  pid_t child = fork();
  if (child == 0) {
    TEST_CHECK_ERRNO(Op(s.id(), 0, -1), EIDRM);
    _exit(0);
  }
  ScopedChild guard(child);
  EXPECT_TRUE(Eventually([&] { return semctl(s.id(), 0, GETNCNT) == 1; }));
  ASSERT_THAT(semctl(s.id(), 0, IPC_RMID), SyscallSucceeds());
  s.Forget();
  EXPECT_THAT(guard.Wait(), ExitedWithCode(0));
}

TEST(SemTest, Errors) {
  std::random_device rd;
  key_t key = static_cast<key_t>((rd() & 0x3fffffff) | 0x40000000);
  int id;
  ASSERT_THAT(id = semget(key, 2, IPC_CREAT | IPC_EXCL | 0600), SyscallSucceeds());
  EXPECT_THAT(semget(key, 2, IPC_CREAT | IPC_EXCL | 0600), SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(semget(key, 1, 0), SyscallSucceedsWithValue(id));
  EXPECT_THAT(semget(key, 3, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(semget(IPC_PRIVATE, 0, 0600), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(semget(key + 1, 1, 0), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(Op(id, 2, 1), SyscallFailsWithErrno(EFBIG));
  sembuf b = {0, 1, 0};
  EXPECT_THAT(semop(id, &b, 0), SyscallFailsWithErrno(EINVAL));
  std::vector<sembuf> many(501, b);
  EXPECT_THAT(semop(id, many.data(), many.size()), SyscallFailsWithErrno(E2BIG));
  semun u;
  u.val = 40000;
  EXPECT_THAT(semctl(id, 0, SETVAL, u), SyscallFailsWithErrno(ERANGE));
  u.val = 32767;
  ASSERT_THAT(semctl(id, 0, SETVAL, u), SyscallSucceeds());
  EXPECT_THAT(Op(id, 0, 1), SyscallFailsWithErrno(ERANGE));
  EXPECT_THAT(semctl(id, 5, GETVAL), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(semctl(id, 0, 12345), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(semop(id, Opaque<sembuf*>(nullptr), 1), SyscallFailsWithErrno(EFAULT));
  SKIP_IF_NOT_ROOT();
  EXPECT_THAT(ForkAndWait([&] {
                DropPrivilegesInChild();
                TEST_CHECK_ERRNO(Op(id, 0, -1, IPC_NOWAIT), EACCES);
                TEST_CHECK_ERRNO(semctl(id, 0, GETVAL), EACCES);
                TEST_CHECK_ERRNO(semctl(id, 0, IPC_RMID), EPERM);
              }),
              ExitedWithCode(0));
  ASSERT_THAT(semctl(id, 0, IPC_RMID), SyscallSucceeds());
  EXPECT_THAT(semctl(id, 0, GETVAL), SyscallFailsWithErrno(EINVAL));
}

}  // namespace
}  // namespace systest
