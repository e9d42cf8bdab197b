// System V shared memory (shmget, shmat, shmdt, shmctl) for the sandbox's
// one IPC namespace.
//
// A segment's pages are a shared anonymous object in the MemoryFile; every
// attach maps the segment's Mappable, so the number of references to it
// beyond the registry's own is the attach count (fork and VMA splits count
// as Linux counts them: one per VMA). IPC_RMID with attaches left turns
// the registry's reference into a weak one: the memory goes with the last
// mapping, and the entry with the next look at the registry.
//
// Lock order: ShmRegistry::mu_ is a leaf (mapping happens outside it).
#ifndef SENTRY_KERNEL_IPC_SHM_H_
#define SENTRY_KERNEL_IPC_SHM_H_

#include <sys/shm.h>

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "fs/vfs/types.h"
#include "sentry/base/error.h"
#include "sentry/kernel/ipc_perm.h"
#include "sentry/mm/mappable.h"

namespace sentry {

// st_dev /proc/<pid>/maps shows for segments (the shm mount's).
inline constexpr uint64_t kShmDev = 1;

class ShmRegistry {
 public:
  explicit ShmRegistry(MemoryFile* mf) : mf_(mf) {}

  using Caller = IpcCaller;
  // shmget(2).
  ErrorOr<int> Get(const Caller& c, key_t key, uint64_t size, int flags);
  // For shmat: the segment's Mappable and size, after the permission check
  // (`write`: read-write attach). Records the attach time and pid.
  struct Attach {
    std::shared_ptr<Mappable> mappable;
    uint64_t size = 0;
  };
  ErrorOr<Attach> ForAttach(const Caller& c, int id, bool write, bool exec);
  // The size of segment `id` (shmdt), even if removed but still mapped.
  ErrorOr<uint64_t> SizeOf(int id);
  void Detached(int id, int32_t pid);
  // shmctl(2) commands; `buf` in/out as the command needs.
  ErrorOr<int> Stat(const Caller& c, int id_or_index, int cmd, struct shmid_ds* out);
  Errno Set(const Caller& c, int id, const struct shmid_ds& in);
  Errno Remove(const Caller& c, int id);
  Errno Lock(const Caller& c, int id, bool lock);
  // IPC_INFO / SHM_INFO: the highest index in use (0 if none).
  int Info(struct shminfo* info);
  int Usage(struct shm_info* info);

 private:
  struct Segment {
    int id = 0;
    key_t key = 0;
    uint64_t size = 0;
    struct ipc_perm perm = {};
    int32_t cpid = 0, lpid = 0;
    int64_t atime = 0, dtime = 0, ctime = 0;
    bool removed = false;  // IPC_RMID with attaches left
    bool locked = false;
    std::shared_ptr<Mappable> strong;  // null once removed
    std::weak_ptr<Mappable> weak;
    uint64_t nattch() const;
  };
  void PurgeLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Segment* FindLocked(int id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FillLocked(const Segment& s, struct shmid_ds* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  MemoryFile* const mf_;
  absl::Mutex mu_;
  std::map<int, Segment> segs_ ABSL_GUARDED_BY(mu_);  // by index (id % 32768)
  uint32_t seq_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace sentry

#endif  // SENTRY_KERNEL_IPC_SHM_H_
