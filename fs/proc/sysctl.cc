// /proc/sys: the sysctls programs commonly read, with Linux 6.1's
// defaults or the sandbox's real limits.
//
// Only the UTS names can be written (with sethostname(2)'s rule: it takes
// CAP_SYS_ADMIN). Every other sysctl is read-only: its mode is 0444 and
// opening it for writing fails with EACCES even for root, as
// proc_sys_permission does, rather than accepting a value the Sentry would
// silently ignore.
#include "absl/strings/str_format.h"
#include "fs/proc/proc_internal.h"
#include "sentry/base/random.h"

namespace sentry::proc {
namespace {

constexpr int kCapSysAdmin = 21;
constexpr size_t kUtsNameLen = 64;  // __NEW_UTS_LEN

void Ro(kernfs::StaticDir* d, std::string name, kernfs::Generator gen) {
  d->AddFile(std::move(name), 0444, std::move(gen));  // no writer: EACCES on open
}

void RoText(kernfs::StaticDir* d, std::string name, std::string value) {
  Ro(d, std::move(name), kernfs::Constant(value + "\n"));
}

// proc_do_uts_string: the value is what comes before the first newline,
// cut to the name length; a write at a non-zero offset changes nothing.
kernfs::Writer UtsWriter(Kernel* k, bool host) {
  return [k, host](Task* t, std::string_view data, int64_t off) -> SysRet {
    if (t != nullptr && !t->creds().HasCap(kCapSysAdmin)) return SysRet::Err(EPERM);
    if (off != 0) return static_cast<int64_t>(data.size());
    std::string_view v = data.substr(0, data.find_first_of(std::string_view("\n\0", 2)));
    std::string name(v.substr(0, kUtsNameLen));
    if (host) {
      k->SetHostname(std::move(name));
    } else {
      k->SetDomainname(std::move(name));
    }
    return static_cast<int64_t>(data.size());
  };
}

void BuildKernel(ProcFs* fs, kernfs::StaticDir* d) {
  Kernel* k = fs->kernel();
  d->AddFile("hostname", 0644, [k](Task*) -> ErrorOr<std::string> { return k->hostname() + "\n"; },
             UtsWriter(k, true));
  d->AddFile("domainname", 0644,
             [k](Task*) -> ErrorOr<std::string> { return k->domainname() + "\n"; },
             UtsWriter(k, false));
  RoText(d, "ostype", "Linux");
  RoText(d, "osrelease", fs->opts().release);
  RoText(d, "version", fs->opts().version);
  RoText(d, "pid_max", "4194304");      // the kernel's pid allocator limit
  RoText(d, "threads-max", "65536");    // RLIMIT_NPROC's ceiling
  RoText(d, "ngroups_max", "65536");
  RoText(d, "cap_last_cap", absl::StrFormat("%d", kCapLastCap));
  RoText(d, "overflowuid", "65534");
  RoText(d, "overflowgid", "65534");
  RoText(d, "shmmax", "18446744073692774399");
  RoText(d, "shmall", "18446744073692774399");
  RoText(d, "shmmni", "4096");
  RoText(d, "msgmax", "8192");
  RoText(d, "msgmnb", "16384");
  RoText(d, "msgmni", "32000");
  RoText(d, "sem", "32000\t1024000000\t500\t32000");
  RoText(d, "randomize_va_space", "2");
  RoText(d, "core_pattern", "core");
  RoText(d, "perf_event_paranoid", "2");
  RoText(d, "tainted", "0");
  auto random = d->AddDir("random");
  RoText(random.get(), "boot_id", fs->boot_id());
  Ro(random.get(), "uuid", [](Task*) -> ErrorOr<std::string> { return NewUuid() + "\n"; });
  RoText(random.get(), "entropy_avail", "256");
  RoText(random.get(), "poolsize", "256");
  // Classic ptrace permissions (no Yama restriction): what
  // MayAccessTask implements for /proc's magic links.
  RoText(d->AddDir("yama").get(), "ptrace_scope", "0");
}

}  // namespace

std::string NewUuid() {
  uint8_t b[16];
  RandomBytes(b, sizeof(b));
  b[6] = (b[6] & 0x0f) | 0x40;  // version 4
  b[8] = (b[8] & 0x3f) | 0x80;  // RFC 4122 variant
  return absl::StrFormat("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                         b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
                         b[12], b[13], b[14], b[15]);
}

void BuildSysctl(ProcFs* fs, kernfs::StaticDir* sys) {
  BuildKernel(fs, sys->AddDir("kernel").get());

  auto vm = sys->AddDir("vm");
  RoText(vm.get(), "overcommit_memory", "0");
  RoText(vm.get(), "overcommit_ratio", "50");
  RoText(vm.get(), "max_map_count", "65530");
  RoText(vm.get(), "mmap_min_addr", "4096");  // the MemoryManager's lowest mappable page
  RoText(vm.get(), "nr_hugepages", "0");

  auto fsd = sys->AddDir("fs");
  RoText(fsd.get(), "file-max", "9223372036854775807");
  RoText(fsd.get(), "nr_open", "1048576");      // RLIMIT_NOFILE's hard ceiling
  RoText(fsd.get(), "pipe-max-size", "1048576");  // F_SETPIPE_SZ's limit (fs/pipe)
  auto inotify = fsd->AddDir("inotify");
  RoText(inotify.get(), "max_user_instances", "128");
  RoText(inotify.get(), "max_user_watches", "8192");
  RoText(inotify.get(), "max_queued_events", "16384");

  RoText(sys->AddDir("net")->AddDir("core").get(), "somaxconn", "4096");
}

}  // namespace sentry::proc
