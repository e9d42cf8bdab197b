// System V message queues (msgget, msgsnd, msgrcv, msgctl) for the
// sandbox's one IPC namespace. Senders wait for room (msg_qbytes), readers
// for a message of the wanted type; both sleep on the queue's wait queue
// and retry after every change.
//
// Lock order: MsgRegistry::mu_ is a leaf; wakeups go out after it is
// released.
#ifndef SENTRY_KERNEL_IPC_MSG_H_
#define SENTRY_KERNEL_IPC_MSG_H_

#include <sys/ipc.h>
#include <sys/msg.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "fs/vfs/types.h"
#include "sentry/base/error.h"
#include "sentry/kernel/ipc_perm.h"
#include "sentry/base/waiter.h"

namespace sentry {

class MsgRegistry {
 public:
  using Caller = IpcCaller;
  struct Message {
    long type = 0;
    std::string text;
  };

  ErrorOr<int> Get(const Caller& c, key_t key, int flags);
  // One attempt: 0 when queued, EAGAIN when full (`wq` is where to wait).
  Errno TrySend(const Caller& c, int id, Message m, std::shared_ptr<WaitQueue>* wq);
  // One attempt: the message, or EAGAIN when none matches (`wq` is where
  // to wait), E2BIG when it is longer than `max` without MSG_NOERROR.
  // `type` and `flags` as msgrcv(2) takes them (MSG_EXCEPT, MSG_COPY).
  ErrorOr<Message> TryReceive(const Caller& c, int id, long type, size_t max, int flags,
                              std::shared_ptr<WaitQueue>* wq);
  ErrorOr<int> Stat(const Caller& c, int id_or_index, int cmd, struct msqid_ds* out);
  Errno Set(const Caller& c, int id, const struct msqid_ds& in);
  Errno Remove(const Caller& c, int id);
  int Info(struct msginfo* info, bool usage);

 private:
  struct Queue {
    int id = 0;
    key_t key = 0;
    struct ipc_perm perm = {};
    std::deque<Message> msgs;
    size_t bytes = 0;
    size_t qbytes = 16384;  // MSGMNB
    int32_t lspid = 0, lrpid = 0;
    int64_t stime = 0, rtime = 0, ctime = 0;
    std::shared_ptr<WaitQueue> wq = std::make_shared<WaitQueue>();
  };
  Queue* FindLocked(int id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::map<int, Queue> queues_ ABSL_GUARDED_BY(mu_);  // by index
  uint32_t seq_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace sentry

#endif  // SENTRY_KERNEL_IPC_MSG_H_
