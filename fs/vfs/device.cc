#include "fs/vfs/device.h"

#include <sys/sysmacros.h>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace sentry::vfs {
namespace {

struct Registry {
  absl::Mutex mu;
  absl::flat_hash_map<uint64_t, std::shared_ptr<const CharDeviceFactory>> chr ABSL_GUARDED_BY(mu);
  std::shared_ptr<const FifoOpener> fifo ABSL_GUARDED_BY(mu);
};

Registry& Reg() {
  // Never destroyed: devices may be opened while static destructors run.
  static Registry* r = new Registry;
  return *r;
}

}  // namespace

void RegisterCharDevice(uint32_t major, uint32_t minor, CharDeviceFactory factory) {
  Registry& r = Reg();
  absl::MutexLock l(&r.mu);
  r.chr[makedev(major, minor)] = std::make_shared<const CharDeviceFactory>(std::move(factory));
}

void UnregisterCharDevice(uint32_t major, uint32_t minor) {
  Registry& r = Reg();
  absl::MutexLock l(&r.mu);
  r.chr.erase(makedev(major, minor));
}

ErrorOr<std::shared_ptr<FileDescription>> OpenCharDevice(uint64_t rdev, const VirtualDentry& vd,
                                                         uint32_t flags, Task* task) {
  std::shared_ptr<const CharDeviceFactory> f;
  {
    Registry& r = Reg();
    absl::MutexLock l(&r.mu);
    auto it = r.chr.find(rdev);
    if (it == r.chr.end()) return Err(ENXIO);
    f = it->second;
  }
  // Called without the registry lock: a driver's open may be slow or
  // register other devices.
  return (*f)(vd, flags, task);
}

void SetFifoOpener(FifoOpener fn) {
  Registry& r = Reg();
  absl::MutexLock l(&r.mu);
  r.fifo = std::make_shared<const FifoOpener>(std::move(fn));
}

ErrorOr<std::shared_ptr<FileDescription>> OpenFifo(const std::shared_ptr<Inode>& inode,
                                                   const VirtualDentry& vd, uint32_t flags,
                                                   Task* task) {
  std::shared_ptr<const FifoOpener> f;
  {
    Registry& r = Reg();
    absl::MutexLock l(&r.mu);
    f = r.fifo;
  }
  if (!f) return Err(ENXIO);
  return (*f)(inode, vd, flags, task);
}

}  // namespace sentry::vfs
