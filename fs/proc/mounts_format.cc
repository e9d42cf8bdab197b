// /proc/<pid>/mounts and mountinfo (fs/proc_namespace.c: show_vfsmnt,
// show_mountinfo).
#include <sys/mount.h>
#include <sys/sysmacros.h>

#include "absl/strings/str_format.h"
#include "fs/proc/format.h"

namespace sentry::proc {
namespace {

// The per-mount flags, in show_mnt_opts' order, after "rw"/"ro".
std::string MountFlags(uint32_t flags) {
  std::string s = (flags & MS_RDONLY) ? "ro" : "rw";
  if (flags & MS_NOSUID) s += ",nosuid";
  if (flags & MS_NODEV) s += ",nodev";
  if (flags & MS_NOEXEC) s += ",noexec";
  if (flags & MS_NOATIME) {
    s += ",noatime";
  } else if (flags & MS_NODIRATIME) {
    s += ",nodiratime";
  } else if (!(flags & MS_STRICTATIME)) {
    s += ",relatime";  // Linux's default
  }
  return s;
}

std::string Source(const MountRow& r) {
  return MangleMountField(r.source.empty() ? "none" : r.source);
}

}  // namespace

std::string MangleMountField(std::string_view in) {
  std::string s;
  s.reserve(in.size());
  for (char c : in) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\\') {
      absl::StrAppendFormat(&s, "\\%03o", static_cast<unsigned char>(c));
    } else {
      s.push_back(c);
    }
  }
  return s;
}

std::string FormatMounts(const std::vector<MountRow>& rows) {
  std::string s;
  for (const MountRow& r : rows) {
    std::string opts = MountFlags(r.flags);
    if (!r.fs_options.empty()) absl::StrAppendFormat(&opts, ",%s", r.fs_options);
    absl::StrAppendFormat(&s, "%s %s %s %s 0 0\n", Source(r), MangleMountField(r.mount_point),
                          MangleMountField(r.fstype), opts);
  }
  return s;
}

std::string FormatMountinfo(const std::vector<MountRow>& rows) {
  std::string s;
  for (const MountRow& r : rows) {
    // No propagation (shared:/master:) fields: every mount is private.
    std::string super = (r.flags & MS_RDONLY) ? "ro" : "rw";
    if (!r.fs_options.empty()) absl::StrAppendFormat(&super, ",%s", r.fs_options);
    absl::StrAppendFormat(&s, "%d %d %d:%d %s %s %s - %s %s %s\n", r.id, r.parent_id,
                          major(r.dev), minor(r.dev), MangleMountField(r.root),
                          MangleMountField(r.mount_point), MountFlags(r.flags),
                          MangleMountField(r.fstype), Source(r), super);
  }
  return s;
}

}  // namespace sentry::proc
