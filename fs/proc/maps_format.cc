// /proc/<pid>/{maps,smaps} (fs/proc/task_mmu.c: show_map_vma, show_smap)
// and the memory summary status/stat/statm derive from the same VMAs.
#include <sys/mman.h>
#include <sys/sysmacros.h>

#include <algorithm>

#include "absl/strings/str_format.h"
#include "fs/proc/format.h"

namespace sentry::proc {
namespace {

uint64_t Size(const VmaStat& v) { return v.end - v.start; }
bool IsStack(const VmaStat& v) { return v.growsdown || v.name == "[stack]"; }

// The "start-end perms offset dev inode " prefix; the name, if any,
// starts at column 73 (seq_setwidth(25 + 6 * sizeof(void*) - 1) plus the
// separating blank).
void AppendMapsLine(std::string* s, const VmaStat& v) {
  size_t line_start = s->size();
  absl::StrAppendFormat(s, "%08x-%08x %c%c%c%c %08x %02x:%02x %u ", v.start, v.end,
                        (v.prot & PROT_READ) ? 'r' : '-', (v.prot & PROT_WRITE) ? 'w' : '-',
                        (v.prot & PROT_EXEC) ? 'x' : '-', v.shared ? 's' : 'p', v.offset,
                        major(v.dev), minor(v.dev), v.ino);
  if (!v.name.empty()) {
    size_t col = s->size() - line_start;
    if (col < 73) s->append(73 - col, ' ');
    s->append(v.name);
  }
  s->push_back('\n');
}

}  // namespace

MemSummary SummarizeVmas(const std::vector<VmaStat>& vmas, std::string_view exe) {
  MemSummary m;
  bool code_seen = false, data_seen = false;
  for (const VmaStat& v : vmas) {
    m.vm_size += Size(v);
    m.vm_rss += v.resident;
    if (!v.file) {
      m.rss_anon += v.resident;
    } else if (v.shared && v.ino == 0) {
      m.rss_shmem += v.resident;  // shared anonymous memory (/dev/zero)
    } else {
      m.rss_file += v.resident;
    }
    bool own = !exe.empty() && v.name == exe;
    if (IsStack(v)) {
      m.vm_stk += Size(v);
    } else if ((v.prot & PROT_WRITE) && !v.shared) {
      m.vm_data += Size(v);
    }
    if ((v.prot & PROT_EXEC) && !(v.prot & PROT_WRITE) && !IsStack(v)) {
      (own ? m.vm_exe : m.vm_lib) += Size(v);
    }
    // The program's text and data segments (mm->start_code..end_data).
    if (own && (v.prot & PROT_EXEC) && !code_seen) {
      m.start_code = v.start;
      m.end_code = v.end;
      code_seen = true;
    }
    if (own && (v.prot & PROT_WRITE)) {
      if (!data_seen) m.start_data = v.start;
      m.end_data = v.end;
      data_seen = true;
    }
  }
  return m;
}

std::string FormatMaps(const std::vector<VmaStat>& vmas) {
  std::string s;
  for (const VmaStat& v : vmas) AppendMapsLine(&s, v);
  return s;
}

std::string FormatSmaps(const std::vector<VmaStat>& vmas) {
  std::string s;
  auto kb = [&s](const char* key, uint64_t bytes) {
    // SEQ_PUT_DEC: the key padded to 16 columns, the value to 8.
    absl::StrAppendFormat(&s, "%-16s%8u kB\n", key, bytes / 1024);
  };
  for (const VmaStat& v : vmas) {
    AppendMapsLine(&s, v);
    // No page is shared between processes as far as accounting goes, and
    // nothing is swapped: Pss is Rss, everything resident is private.
    bool anon = !v.file;
    kb("Size:", Size(v));
    kb("KernelPageSize:", kPageSize);
    kb("MMUPageSize:", kPageSize);
    kb("Rss:", v.resident);
    kb("Pss:", v.resident);
    kb("Pss_Dirty:", anon ? v.resident : 0);
    kb("Shared_Clean:", 0);
    kb("Shared_Dirty:", 0);
    kb("Private_Clean:", anon ? 0 : v.resident);
    kb("Private_Dirty:", anon ? v.resident : 0);
    kb("Referenced:", v.resident);
    kb("Anonymous:", anon ? v.resident : 0);
    kb("LazyFree:", 0);
    kb("AnonHugePages:", 0);
    kb("ShmemPmdMapped:", 0);
    kb("FilePmdMapped:", 0);
    kb("Shared_Hugetlb:", 0);
    kb("Private_Hugetlb:", 0);
    kb("Swap:", 0);
    kb("SwapPss:", 0);
    kb("Locked:", 0);
    absl::StrAppendFormat(&s, "%-16s%8d\n", "THPeligible:", 0);
    // show_smap_vma_flags: two-letter names, each followed by a blank.
    s += "VmFlags: ";
    auto flag = [&s](bool on, const char* name) {
      if (on) absl::StrAppendFormat(&s, "%s ", name);
    };
    flag(v.prot & PROT_READ, "rd");
    flag(v.prot & PROT_WRITE, "wr");
    flag(v.prot & PROT_EXEC, "ex");
    flag(v.shared, "sh");
    flag(v.max_prot & PROT_READ, "mr");
    flag(v.max_prot & PROT_WRITE, "mw");
    flag(v.max_prot & PROT_EXEC, "me");
    flag(v.shared, "ms");
    flag(v.growsdown, "gd");
    flag(!v.shared && (v.prot & PROT_WRITE), "ac");
    s += '\n';
  }
  return s;
}

}  // namespace sentry::proc
