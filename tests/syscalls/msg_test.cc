// System V message queues: msgget/msgsnd/msgrcv/msgctl, type selection,
// truncation, MSG_COPY, blocking senders and receivers, removal and errors.

#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <random>
#include <string>

#include "tests/syscalls/test_util.h"

namespace systest {
namespace {

struct Msg {
  long type;
  char text[64];
};

class Queue {
 public:
  Queue() {
    id_ = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (id_ < 0) ThrowErrno("msgget");
  }
  ~Queue() {
    if (id_ >= 0) msgctl(id_, IPC_RMID, nullptr);
  }
  int id() const { return id_; }
  void Forget() { id_ = -1; }

 private:
  int id_;
};

int Send(int id, long type, const std::string& s, int flags = 0) {
  Msg m = {type, {}};
  memcpy(m.text, s.data(), s.size());
  return msgsnd(id, &m, s.size(), flags);
}

std::string Recv(int id, long type, int flags = 0, size_t max = 64, long* got_type = nullptr) {
  Msg m = {};
  ssize_t n = msgrcv(id, &m, max, type, flags);
  if (n < 0) return "errno:" + std::to_string(errno);
  if (got_type) *got_type = m.type;
  return std::string(m.text, n);
}

TEST(MsgTest, TypesAndOrder) {
  Queue q;
  ASSERT_THAT(Send(q.id(), 3, "three"), SyscallSucceeds());
  ASSERT_THAT(Send(q.id(), 1, "one"), SyscallSucceeds());
  ASSERT_THAT(Send(q.id(), 2, "two"), SyscallSucceeds());
  ASSERT_THAT(Send(q.id(), 1, "uno"), SyscallSucceeds());
  msqid_ds ds;
  ASSERT_THAT(msgctl(q.id(), IPC_STAT, &ds), SyscallSucceeds());
  EXPECT_EQ(ds.msg_qnum, 4u);
  EXPECT_EQ(ds.__msg_cbytes, 14u);
  EXPECT_EQ(ds.msg_lspid, getpid());
  EXPECT_EQ(Recv(q.id(), 2), "two");                  // that type
  EXPECT_EQ(Recv(q.id(), 1, MSG_EXCEPT), "three");    // anything but type 1
  long t = 0;
  EXPECT_EQ(Recv(q.id(), -5, 0, 64, &t), "one");     // the lowest type <= 5
  EXPECT_EQ(t, 1);
  EXPECT_EQ(Recv(q.id(), 0), "uno");                  // the first
  EXPECT_EQ(Recv(q.id(), 0, IPC_NOWAIT), "errno:" + std::to_string(ENOMSG));
}

TEST(MsgTest, TruncationAndCopy) {
  Queue q;
  ASSERT_THAT(Send(q.id(), 1, "0123456789"), SyscallSucceeds());
  EXPECT_EQ(Recv(q.id(), 0, 0, 4), "errno:" + std::to_string(E2BIG));
  EXPECT_EQ(Recv(q.id(), 0, MSG_COPY | IPC_NOWAIT), "0123456789");  // still there
  EXPECT_EQ(Recv(q.id(), 5, MSG_COPY | IPC_NOWAIT), "errno:" + std::to_string(ENOMSG));
  EXPECT_EQ(Recv(q.id(), 0, MSG_COPY), "errno:" + std::to_string(EINVAL));
  EXPECT_EQ(Recv(q.id(), 0, MSG_NOERROR, 4), "0123");
  EXPECT_EQ(Recv(q.id(), 0, IPC_NOWAIT), "errno:" + std::to_string(ENOMSG));
}

TEST(MsgTest, BlockingSendersAndReceivers) {
  Queue q;
  msqid_ds ds;
  ASSERT_THAT(msgctl(q.id(), IPC_STAT, &ds), SyscallSucceeds());
  ds.msg_qbytes = 10;
  ASSERT_THAT(msgctl(q.id(), IPC_SET, &ds), SyscallSucceeds());
  ASSERT_THAT(Send(q.id(), 1, "12345678"), SyscallSucceeds());
  EXPECT_THAT(Send(q.id(), 1, "abc", IPC_NOWAIT), SyscallFailsWithErrno(EAGAIN));
  pid_t child = fork();
  if (child == 0) {
    // Blocks until the parent makes room.
    TEST_CHECK_SUCCESS(Send(q.id(), 2, "abc"));
    _exit(0);
  }
  ScopedChild guard(child);
  usleep(50000);
  EXPECT_EQ(Recv(q.id(), 1), "12345678");
  EXPECT_THAT(guard.Wait(), ExitedWithCode(0));
  EXPECT_EQ(Recv(q.id(), 2), "abc");

  // A receiver waits for its type; removal wakes it with EIDRM.
  child = fork();
  if (child == 0) {
    TEST_CHECK(Recv(q.id(), 7) == "seven");
    Msg m;
    TEST_CHECK_ERRNO(msgrcv(q.id(), &m, sizeof(m.text), 0, 0), EIDRM);
    _exit(0);
  }
  ScopedChild guard2(child);
  usleep(50000);
  ASSERT_THAT(Send(q.id(), 7, "seven"), SyscallSucceeds());
  usleep(50000);
  ASSERT_THAT(msgctl(q.id(), IPC_RMID, nullptr), SyscallSucceeds());
  q.Forget();
  EXPECT_THAT(guard2.Wait(), ExitedWithCode(0));
}

TEST(MsgTest, Errors) {
  std::random_device rd;
  key_t key = static_cast<key_t>((rd() & 0x3fffffff) | 0x40000000);
  int id;
  ASSERT_THAT(id = msgget(key, IPC_CREAT | IPC_EXCL | 0600), SyscallSucceeds());
  EXPECT_THAT(msgget(key, IPC_CREAT | IPC_EXCL | 0600), SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(msgget(key, 0), SyscallSucceedsWithValue(id));
  EXPECT_THAT(msgget(key + 1, 0), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(Send(id, 0, "x"), SyscallFailsWithErrno(EINVAL));
  Msg m = {1, {}};
  EXPECT_THAT(msgsnd(id, &m, 9000, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(msgsnd(id, Opaque<Msg*>(nullptr), 1, 0), SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(msgrcv(id, &m, -1, 0, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(msgsnd(12345678, &m, 1, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(msgctl(id, 9999, nullptr), SyscallFailsWithErrno(EINVAL));
  SKIP_IF_NOT_ROOT();
  EXPECT_THAT(ForkAndWait([&] {
                DropPrivilegesInChild();
                Msg c = {1, {}};
                TEST_CHECK_ERRNO(msgsnd(id, &c, 1, IPC_NOWAIT), EACCES);
                TEST_CHECK_ERRNO(msgctl(id, IPC_RMID, nullptr), EPERM);
                msqid_ds d;
                d.msg_qbytes = 1 << 20;
                TEST_CHECK_ERRNO(msgctl(id, IPC_SET, &d), EPERM);
              }),
              ExitedWithCode(0));
  ASSERT_THAT(msgctl(id, IPC_RMID, nullptr), SyscallSucceeds());
}

}  // namespace
}  // namespace systest
