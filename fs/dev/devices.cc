// /dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom and /dev/tty
// (see devices.h). Reads and writes follow drivers/char/mem.c: lseek on
// the memory devices always lands at 0, writes to null/zero succeed
// without looking at the buffer, /dev/full fails every write with ENOSPC.
#include "fs/dev/devices.h"

#include <linux/random.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "fs/tty/pty.h"
#include "fs/vfs/device.h"
#include "sentry/base/random.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mappable.h"
#include "sentry/usermem/addr.h"

namespace sentry::dev {
namespace {

// Pages of a /dev/zero mapping come in runs of this size, so a fresh
// mapping costs one allocation per 64 KiB touched.
constexpr uint64_t kZeroChunk = 16 * kPageSize;

// An anonymous object of unbounded size whose pages are allocated (zeroed)
// on first touch and shared by every mapping of it.
class ZeroMappable : public Mappable {
 public:
  explicit ZeroMappable(MemoryFile* mf) : mf_(mf) {}
  ~ZeroMappable() override {
    absl::MutexLock l(&mu_);
    for (const auto& [idx, off] : chunks_) mf_->DecRef({off, off + kZeroChunk});
  }

  ErrorOr<FileRange> Translate(uint64_t off, uint64_t max_len, bool write) override {
    uint64_t idx = off / kZeroChunk;
    uint64_t in = off - idx * kZeroChunk;
    absl::MutexLock l(&mu_);
    auto it = chunks_.find(idx);
    if (it == chunks_.end()) {
      uint64_t base = TRY_ASSIGN(mf_->Allocate(kZeroChunk));
      it = chunks_.emplace(idx, base).first;
    }
    uint64_t len = std::min(std::max(max_len, kPageSize), kZeroChunk - in);
    FileRange r{it->second + in, it->second + in + len};
    mf_->IncRef(r);
    return r;
  }

 private:
  MemoryFile* const mf_;
  absl::Mutex mu_;  // leaf, taken under MemoryManager::mu_
  std::map<uint64_t, uint64_t> chunks_ ABSL_GUARDED_BY(mu_);  // chunk index -> file offset
};

// Fills the rest of `dst` with zeros.
SysRet ReadZeros(IOSequence& dst) {
  size_t n = dst.remaining();
  if (n == 0) return 0;
  auto r = dst.Blocks(n, /*write=*/true, [](uint8_t* p, size_t len) -> ErrorOr<size_t> {
    memset(p, 0, len);
    return len;
  });
  if (!r.ok()) return SysRet::Err(r.error());
  return static_cast<int64_t>(*r);
}

// The memory devices: no file position worth the name.
class MemDevice : public vfs::FileDescription {
 public:
  ErrorOr<int64_t> Seek(int64_t, int) override {
    absl::MutexLock l(&pos_mu_);
    pos_ = 0;
    return int64_t{0};
  }
  SysRet Read(Task* t, IOSequence& dst) override { return PRead(t, dst, 0); }
  SysRet Write(Task* t, IOSequence& src) override { return PWrite(t, src, 0); }
};

class NullFile : public MemDevice {
 public:
  SysRet PRead(Task*, IOSequence&, int64_t) override { return 0; }
  SysRet PWrite(Task*, IOSequence& src, int64_t) override {
    return static_cast<int64_t>(src.remaining());
  }
};

class ZeroFile : public MemDevice {
 public:
  explicit ZeroFile(MemoryFile* mf) : mf_(mf) {}
  SysRet PRead(Task*, IOSequence& dst, int64_t) override { return ReadZeros(dst); }
  SysRet PWrite(Task*, IOSequence& src, int64_t) override {
    return static_cast<int64_t>(src.remaining());
  }
  ErrorOr<std::shared_ptr<Mappable>> GetMappable() override {
    if (mf_ == nullptr) return Err(ENODEV);
    return std::shared_ptr<Mappable>(std::make_shared<ZeroMappable>(mf_));
  }

 private:
  MemoryFile* const mf_;
};

class FullFile : public MemDevice {
 public:
  SysRet PRead(Task*, IOSequence& dst, int64_t) override { return ReadZeros(dst); }
  SysRet PWrite(Task*, IOSequence& src, int64_t) override {
    if (src.remaining() == 0) return 0;
    return SysRet::Err(ENOSPC);
  }
};

// /dev/random and /dev/urandom are the same since Linux 5.6: both read
// the (always initialised) CRNG; here that is the host's getrandom.
class RandomFile : public vfs::FileDescription {
 public:
  SysRet Read(Task* t, IOSequence& dst) override { return PRead(t, dst, 0); }
  SysRet PRead(Task*, IOSequence& dst, int64_t) override {
    size_t n = dst.remaining();
    if (n == 0) return 0;
    auto r = dst.Blocks(n, /*write=*/true, [](uint8_t* p, size_t len) -> ErrorOr<size_t> {
      RandomBytes(p, len);
      return len;
    });
    if (!r.ok()) return SysRet::Err(r.error());
    return static_cast<int64_t>(*r);
  }
  // Writing "adds entropy": accepted and dropped.
  SysRet Write(Task* t, IOSequence& src) override { return PWrite(t, src, 0); }
  SysRet PWrite(Task*, IOSequence& src, int64_t) override {
    return static_cast<int64_t>(src.remaining());
  }
  // noop_llseek: the position never moves.
  ErrorOr<int64_t> Seek(int64_t, int) override { return pos(); }

  SysRet Ioctl(Task* t, uint32_t cmd, uint64_t arg) override {
    switch (cmd) {
      case RNDGETENTCNT: {
        if (t == nullptr) return SysRet::Err(EFAULT);
        int bits = 256;  // a full pool, as a seeded CRNG reports
        TRY(t->CopyOut(UserPtr<int>(arg), bits));
        return 0;
      }
      case RNDADDTOENTCNT:
      case RNDADDENTROPY:
      case RNDZAPENTCNT:
      case RNDCLEARPOOL:
      case RNDRESEEDCRNG:
        // Privileged pool management: allowed for CAP_SYS_ADMIN, and a
        // no-op since the pool is the host's.
        if (t == nullptr || !t->creds().HasCap(vfs::kCapSysAdmin)) return SysRet::Err(EPERM);
        return 0;
      default:
        return SysRet::Err(EINVAL);
    }
  }
};

template <typename F>
vfs::CharDeviceFactory Factory(F make) {
  return [make](const vfs::VirtualDentry&, uint32_t,
                Task*) -> ErrorOr<std::shared_ptr<vfs::FileDescription>> {
    return make();
  };
}

}  // namespace

std::shared_ptr<vfs::FileDescription> NewNullFile() { return std::make_shared<NullFile>(); }
std::shared_ptr<vfs::FileDescription> NewZeroFile(MemoryFile* mf) {
  return std::make_shared<ZeroFile>(mf);
}
std::shared_ptr<vfs::FileDescription> NewFullFile() { return std::make_shared<FullFile>(); }
std::shared_ptr<vfs::FileDescription> NewRandomFile() { return std::make_shared<RandomFile>(); }

void RegisterCharDevices(MemoryFile* mf) {
  vfs::RegisterCharDevice(kMemMajor, kNullMinor, Factory(NewNullFile));
  vfs::RegisterCharDevice(kMemMajor, kZeroMinor, Factory([mf] { return NewZeroFile(mf); }));
  vfs::RegisterCharDevice(kMemMajor, kFullMinor, Factory(NewFullFile));
  vfs::RegisterCharDevice(kMemMajor, kRandomMinor, Factory(NewRandomFile));
  vfs::RegisterCharDevice(kMemMajor, kUrandomMinor, Factory(NewRandomFile));
  vfs::RegisterCharDevice(kTtyMajor, kTtyMinor,
                          [](const vfs::VirtualDentry&, uint32_t, Task* t) {
                            return tty::OpenControllingTty(t);
                          });
}

}  // namespace sentry::dev
