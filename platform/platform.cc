#include "platform/platform.h"

#include "absl/strings/str_format.h"
#include "platform/ptrace/ptrace.h"
#include "platform/systrap/systrap.h"

namespace sentry {

std::vector<std::string> PlatformNames() { return {"systrap", "ptrace"}; }

absl::StatusOr<std::unique_ptr<Platform>> CreatePlatform(std::string_view name, MemoryFile* mf) {
  if (name == "systrap") {
    auto p = systrap::SystrapPlatform::Create(mf);
    if (!p.ok()) return p.status();
    return std::unique_ptr<Platform>(std::move(*p));
  }
  if (name == "ptrace") {
    auto p = ptrace_platform::PtracePlatform::Create(mf);
    if (!p.ok()) return p.status();
    return std::unique_ptr<Platform>(std::move(*p));
  }
  return absl::InvalidArgumentError(absl::StrFormat("unknown platform \"%s\"", name));
}

}  // namespace sentry
