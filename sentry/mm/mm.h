// MemoryManager: one application address space.
//
// It owns two maps, as Linux's mm and gVisor's mm do:
//  - VMAs: what the application asked for (mmap, brk, stack, ...): range,
//    protection, anonymous or a Mappable file at an offset, shared/private.
//  - PMAs: which MemoryFile pages currently back which addresses, and
//    whether they are mirrored into the platform's AddressSpace. PMAs are
//    created lazily, on an application fault or when the Sentry itself
//    copies in or out, a large aligned chunk at a time so a fresh mapping
//    costs few faults.
//
// Private pages shared after fork are marked copy-on-write in both memory
// managers and mapped read-only; the first write copies the page unless it
// is the last reference.
//
// Thread safety: all public methods may be called concurrently.
// Lock order: MemoryManager::mu_ > (Mappable locks) > AddressSpace locks >
// MemoryFile::mu_. Copy-in/out hold mu_ shared; anything that changes
// VMAs or PMAs holds it exclusively.
#ifndef SENTRY_MM_MM_H_
#define SENTRY_MM_MM_H_

#include <sys/mman.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "fs/vfs/mount.h"
#include "platform/platform.h"
#include "sentry/base/error.h"
#include "sentry/mm/mappable.h"
#include "sentry/mm/memory_file.h"
#include "sentry/usermem/addr.h"

namespace sentry {

struct MMapOpts {
  uint64_t length = 0;
  UserAddr addr;           // hint, or the address with fixed
  bool fixed = false;      // MAP_FIXED: replace what is there
  bool fixed_noreplace = false;
  int prot = 0;            // PROT_*
  int max_prot = PROT_READ | PROT_WRITE | PROT_EXEC;
  bool shared = false;     // MAP_SHARED
  bool growsdown = false;  // MAP_GROWSDOWN / the main stack
  bool populate = false;   // MAP_POPULATE
  std::shared_ptr<Mappable> mappable;  // null: anonymous
  uint64_t offset = 0;     // file offset of addr
  std::string name;        // /proc/pid/maps: file path, or "[heap]", "[stack]"
};

// One VMA as /proc/<pid>/maps and smaps show it.
struct VmaStat {
  uint64_t start = 0, end = 0;
  int prot = 0;
  int max_prot = 0;
  bool shared = false;
  bool growsdown = false;
  bool file = false;         // backed by a Mappable
  uint64_t offset = 0;       // file offset of start
  uint64_t dev = 0, ino = 0;  // the Mappable's identity
  std::string name;
  uint64_t resident = 0;     // bytes backed by pages now
};

// What a fault came to.
enum class FaultOutcome { kHandled, kSegvMapErr, kSegvAccErr, kBusErr };

class MemoryManager {
 public:
  MemoryManager(Platform* platform, MemoryFile* mf);
  ~MemoryManager();
  MemoryManager(const MemoryManager&) = delete;

  // The platform address space; created on first use.
  ErrorOr<AddressSpace*> GetAddressSpace();

  // --- mappings (syscall semantics, Linux errnos) ---
  ErrorOr<UserAddr> MMap(const MMapOpts& opts);
  Errno MUnmap(UserAddr addr, uint64_t len);
  Errno MProtect(UserAddr addr, uint64_t len, int prot);
  ErrorOr<UserAddr> MRemap(UserAddr old_addr, uint64_t old_len, uint64_t new_len, int flags,
                           UserAddr new_addr);
  // brk(2): returns the new (or unchanged) break.
  UserAddr Brk(UserAddr addr);
  Errno MAdvise(UserAddr addr, uint64_t len, int advice);
  // mincore/msync/mlock helpers: whether [addr, addr+len) is fully mapped.
  bool IsMapped(UserAddr addr, uint64_t len);
  // mincore(2): one byte per page of [addr, addr + pages pages), 1 where a
  // page of memory backs it now. Pages not yet faulted in, or never
  // written in a populate window, read 0 as on Linux.
  std::vector<uint8_t> Residency(UserAddr addr, uint64_t pages);

  // Sets up the break right after the executable's data (exec).
  void SetBrkStart(UserAddr a);
  UserAddr brk_start() const;
  // Where the next top-down mmap starts (exec sets it below the stack).
  void SetMmapBase(uint64_t base);
  uint64_t mmap_base() const;

  // --- faults ---
  // Handles an application fault at `addr` (access type unknown: the
  // platform does not tell; see the .cc for how it is inferred).
  // `generation` is what generation() returned before the faulting thread
  // last entered the application: a fault that another thread's change
  // has resolved meanwhile is retried, not turned into SIGSEGV.
  FaultOutcome HandleFault(UserAddr addr, uint64_t generation);
  // Counts changes to the platform address space's mappings.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  // --- copy-in/out (EFAULT semantics) ---
  // Copy as much as possible; returns bytes copied (short on fault).
  size_t CopyOutPartial(UserAddr dst, const void* src, size_t n);
  size_t CopyInPartial(UserAddr src, void* dst, size_t n);
  size_t ZeroOutPartial(UserAddr dst, size_t n);
  Errno CopyOut(UserAddr dst, const void* src, size_t n) {
    return CopyOutPartial(dst, src, n) == n ? 0 : EFAULT;
  }
  Errno CopyIn(UserAddr src, void* dst, size_t n) {
    return CopyInPartial(src, dst, n) == n ? 0 : EFAULT;
  }
  // Reads a NUL-terminated string of at most max_len bytes (without NUL).
  // ENAMETOOLONG if no NUL within max_len, EFAULT on a bad address.
  ErrorOr<std::string> CopyInString(UserAddr src, size_t max_len);

  // Calls fn(ptr, len) on the Sentry's view of each contiguous piece of
  // [addr, addr+n), with the pieces kept alive for the call. `write`: the
  // caller stores into them. Stops at the first fault or when fn returns
  // false; returns bytes covered by completed calls (fn's own count via
  // fn's return protocol is the caller's business).
  using BlockFn = std::function<bool(uint8_t* p, size_t len)>;
  size_t WithBlocks(UserAddr addr, size_t n, bool write, const BlockFn& fn);

  // For futex keys: whether `addr` is in a shared mapping and, if so, the
  // MemoryFile offset backing it (populating the page). EFAULT if unmapped.
  Errno SharedOffset(UserAddr addr, bool* shared, uint64_t* off);

  // --- process lifetime ---
  // A copy-on-write copy for fork().
  ErrorOr<std::shared_ptr<MemoryManager>> Fork();

  // /proc/<pid>/maps text.
  std::string MapsText();
  // Every VMA in address order, with its resident bytes (smaps, status).
  std::vector<VmaStat> VmaStats();
  // Resident set size in bytes (pages backed by this mm), for /proc.
  uint64_t ResidentBytes();
  uint64_t VirtualBytes();

  Platform* platform() const { return platform_; }
  MemoryFile* memory_file() const { return mf_; }

  // Name of the executable (for /proc/pid/exe and maps).
  void SetExecutablePath(std::string p);
  std::string executable_path();
  // The executable file itself (Linux's mm->exe_file): what the
  // /proc/<pid>/exe magic link opens even after a rename.
  void SetExecutable(vfs::VirtualDentry vd);
  vfs::VirtualDentry executable();
  // argv/envp ranges on the initial stack (for /proc/pid/cmdline, environ).
  void SetArgvRange(AddrRange argv, AddrRange envp);
  AddrRange argv_range();
  AddrRange envp_range();
  void SetAuxv(std::vector<uint64_t> auxv);
  std::vector<uint64_t> auxv();

 private:
  struct Vma {
    uint64_t end;
    int prot;
    int max_prot;
    bool shared;
    bool growsdown;
    std::shared_ptr<Mappable> mappable;
    uint64_t offset;  // file offset at the VMA's start
    std::string name;
  };
  struct Pma {
    uint64_t end;
    uint64_t off;      // MemoryFile offset of the pma's start
    bool cow;          // private page possibly shared: copy before write
    bool mapped;       // mirrored into the AddressSpace
    int mapped_prot;   // the protection it is mirrored with
  };
  using VmaMap = std::map<uint64_t, Vma>;  // keyed by start
  using PmaMap = std::map<uint64_t, Pma>;

  ErrorOr<UserAddr> DuplicateSharedLocked(VmaMap::iterator vit, uint64_t start, uint64_t new_len,
                                          int flags, UserAddr new_addr)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Address-space layout helpers.
  bool RangeIsFreeLocked(uint64_t start, uint64_t end) ABSL_SHARED_LOCKS_REQUIRED(mu_);
  ErrorOr<uint64_t> FindAvailableLocked(uint64_t len, uint64_t hint) ABSL_SHARED_LOCKS_REQUIRED(mu_);
  bool OverlapsReserved(uint64_t start, uint64_t end) const;

  // Splits VMAs/PMAs so that `at` is a boundary.
  void SplitVmaLocked(uint64_t at) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SplitPmaLocked(uint64_t at) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  VmaMap::iterator FindVmaLocked(uint64_t addr) ABSL_SHARED_LOCKS_REQUIRED(mu_);
  PmaMap::iterator FindPmaLocked(uint64_t addr) ABSL_SHARED_LOCKS_REQUIRED(mu_);

  // Removes mappings in [start, end): VMAs and PMAs (pages released after
  // the address space stopped mapping them).
  void UnmapLocked(uint64_t start, uint64_t end) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops PMAs in [start, end) (VMAs stay): MADV_DONTNEED, munmap.
  void DropPmasLocked(uint64_t start, uint64_t end) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Makes pmas exist for [start, end) with write access if `write`.
  // Fails with EFAULT (no VMA or VMA lacks the access) or EFAULT-for-SIGBUS
  // (`*bus` set) beyond a file's end.
  Errno PopulateLocked(uint64_t start, uint64_t end, bool write, bool* bus)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Errno PopulateOneLocked(uint64_t addr, uint64_t limit_end, bool write, bool* bus)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Gives the pma containing `addr` private, writable pages (COW break).
  Errno BreakCowLocked(PmaMap::iterator it, uint64_t addr) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Mirrors a pma into the AddressSpace with the protection its VMA and
  // COW state allow.
  void MapPmaLocked(uint64_t start, Pma& p, int vma_prot) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static int PmaProt(const Pma& p, int vma_prot);
  // Applies queued AddressSpace operations (or defers them).
  void FlushLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether the range is covered by pmas with the access, for the fast
  // (shared-lock) copy path.
  bool CoveredLocked(uint64_t start, uint64_t end, bool write) ABSL_SHARED_LOCKS_REQUIRED(mu_);
  size_t CopyLocked(uint64_t addr, size_t n, bool write, const BlockFn& fn)
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  size_t DoBlocks(UserAddr addr, size_t n, bool write, const BlockFn& fn);

  Platform* const platform_;
  MemoryFile* const mf_;
  std::atomic<uint64_t> generation_{0};
  const std::vector<AddrRange> reserved_;

  mutable absl::Mutex mu_;
  std::unique_ptr<AddressSpace> as_ ABSL_GUARDED_BY(mu_);
  VmaMap vmas_ ABSL_GUARDED_BY(mu_);
  PmaMap pmas_ ABSL_GUARDED_BY(mu_);
  // Pages to release once the AddressSpace no longer maps them.
  std::vector<FileRange> to_release_ ABSL_GUARDED_BY(mu_);
  uint64_t brk_start_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t brk_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t mmap_base_ ABSL_GUARDED_BY(mu_) = 0;
  std::string exe_path_ ABSL_GUARDED_BY(mu_);
  vfs::VirtualDentry exe_ ABSL_GUARDED_BY(mu_);
  AddrRange argv_ ABSL_GUARDED_BY(mu_);
  AddrRange envp_ ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> auxv_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sentry

#endif  // SENTRY_MM_MM_H_
