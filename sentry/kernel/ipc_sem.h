// System V semaphore sets (semget, semop/semtimedop, semctl) for the
// sandbox's one IPC namespace, with SEM_UNDO adjustments applied when a
// process exits.
//
// A semop either applies all of its operations or none; one that would
// block sleeps on its set's wait queue and retries whenever any value of
// the set changes (Linux wakes the same way, if more selectively).
//
// Lock order: Task blocking > SemRegistry::mu_ (a leaf; waiters are woken
// through the set's WaitQueue after it is released).
#ifndef SENTRY_KERNEL_IPC_SEM_H_
#define SENTRY_KERNEL_IPC_SEM_H_

#include <sys/ipc.h>
#include <sys/sem.h>

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "fs/vfs/types.h"
#include "sentry/base/error.h"
#include "sentry/kernel/ipc_perm.h"
#include "sentry/base/waiter.h"

namespace sentry {

// A process's SEM_UNDO adjustments: semid -> per-semaphore adjustment.
struct SemUndo {
  absl::Mutex mu;
  std::map<int, std::vector<int>> adj ABSL_GUARDED_BY(mu);
};

class SemRegistry {
 public:
  using Caller = IpcCaller;

  ErrorOr<int> Get(const Caller& c, key_t key, int nsems, int flags);
  // One attempt at semop: 0 when done, an error (EAGAIN for an operation
  // with IPC_NOWAIT that would wait), or, when it must wait, 0 with
  // `blocked` set to the semaphore and kind of wait and `wq` to the queue
  // to sleep on. `undo` records SEM_UNDO adjustments.
  struct Blocked {
    int num = -1;
    bool zero = false;  // waiting for zero, else for a large enough value
  };
  Errno TryOp(const Caller& c, int id, const std::vector<struct sembuf>& ops, SemUndo* undo,
              Blocked* blocked, std::shared_ptr<WaitQueue>* wq);
  // semctl commands on values; `arg` is the union semun's value.
  ErrorOr<int> GetValue(const Caller& c, int id, int num, int cmd);
  Errno SetValue(const Caller& c, int id, int num, int val);
  ErrorOr<std::vector<uint16_t>> GetAll(const Caller& c, int id);
  Errno SetAll(const Caller& c, int id, const std::vector<uint16_t>& vals);
  ErrorOr<int> NumSems(const Caller& c, int id, bool need_read);
  ErrorOr<int> Stat(const Caller& c, int id_or_index, int cmd, struct semid_ds* out);
  Errno Set(const Caller& c, int id, const struct semid_ds& in);
  Errno Remove(const Caller& c, int id);
  int Info(struct seminfo* info, bool usage);
  // Process exit: applies and forgets the process's adjustments.
  void ApplyUndo(SemUndo* undo, int32_t pid);
  // The caller waits for: whether it counts in semncnt (decrement) or
  // semzcnt (wait for zero) while it sleeps on `num`.
  void Waiting(int id, int num, bool zero, int delta);

 private:
  struct Sem {
    int val = 0;
    int32_t pid = 0;
    int ncnt = 0, zcnt = 0;
  };
  struct SemSet {
    int id = 0;
    key_t key = 0;
    struct ipc_perm perm = {};
    std::vector<Sem> sems;
    int64_t otime = 0, ctime = 0;
    std::shared_ptr<WaitQueue> wq = std::make_shared<WaitQueue>();
  };
  SemSet* FindLocked(int id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ClearUndoLocked(int id, int num) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::map<int, SemSet> sets_ ABSL_GUARDED_BY(mu_);  // by index
  uint32_t seq_ ABSL_GUARDED_BY(mu_) = 0;
  // Every process's undo list, so SETVAL/SETALL/IPC_RMID can clear
  // entries (Linux does this per semaphore).
  std::vector<std::weak_ptr<SemUndo>> undos_ ABSL_GUARDED_BY(mu_);

 public:
  void Track(const std::shared_ptr<SemUndo>& u);
};

}  // namespace sentry

#endif  // SENTRY_KERNEL_IPC_SEM_H_
