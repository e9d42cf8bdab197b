// ELF64 parsing and mapping for the loader.
#ifndef SENTRY_LOADER_ELF_H_
#define SENTRY_LOADER_ELF_H_

#include <elf.h>

#include <memory>
#include <string>
#include <vector>

#include "fs/vfs/file.h"
#include "sentry/base/error.h"
#include "sentry/mm/mm.h"

namespace sentry {

struct ElfInfo {
  Elf64_Ehdr ehdr{};
  std::vector<Elf64_Phdr> phdrs;
  std::string interp;  // PT_INTERP path, empty if static
};

// Reads and validates the ELF header and program headers (ENOEXEC).
ErrorOr<ElfInfo> ReadElf(vfs::FileDescription* f);

struct MappedElf {
  uint64_t bias = 0;       // load bias (0 for ET_EXEC)
  uint64_t entry = 0;      // e_entry + bias
  uint64_t phdr_addr = 0;  // where the program headers are in memory
  uint64_t end = 0;        // end of the highest segment (brk start)
};

// Maps the PT_LOAD segments of `info` into `mm`. For ET_DYN, `base` is the
// desired load address (0 lets the mm choose).
ErrorOr<MappedElf> MapElf(MemoryManager* mm, vfs::FileDescription* f, const ElfInfo& info,
                          uint64_t base, const std::string& name);

}  // namespace sentry

#endif  // SENTRY_LOADER_ELF_H_
