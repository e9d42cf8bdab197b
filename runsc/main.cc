// runsc: the OCI runtime CLI and the entry point of the sandbox processes
// (the Sentry is "runsc boot", the Gofer "runsc gofer").
#include <unistd.h>

#include <climits>
#include <cstdio>

#include <set>

#include "CLI/CLI.hpp"
#include "gofer/seccomp.h"
#include "absl/strings/str_format.h"
#include "platform/systrap/systrap.h"
#include "runsc/flags.h"
#include "runsc/oci.h"
#include "runsc/seccomp.h"
#include "syscalls/table.h"

namespace runsc {

std::string SelfExe() {
  static const std::string path = [] {
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string("/proc/self/exe");
  }();
  return path;
}

std::string DefaultPlatform() {
  // systrap where the host allows it: 4-6x cheaper syscalls than ptrace,
  // process creation and pipes on a par (bench/RESULTS.md); else ptrace.
  static const std::string best =
      sentry::systrap::SystrapPlatform::Probe().ok() ? "systrap" : "ptrace";
  return best;
}

int GoferMain(const GlobalFlags& g, const std::string& root, bool read_only,
              const std::vector<int>& sock_fds, int log_fd, bool detached,
              const std::vector<std::string>& binds);

namespace {

int PrintSyscalls() {
  const char* kSupport[] = {"full", "partial", "error", "unimplemented"};
  for (const sentry::SyscallInfo& s : sentry::AllSyscalls()) {
    std::string extra = s.note;
    if (s.support == sentry::Support::kError) {
      extra = absl::StrFormat("%s%s", strerrorname_np(s.error), extra.empty() ? "" : ": " + extra);
    }
    printf("%-4d %-24s %-13s %s\n", s.nr, s.name, kSupport[static_cast<int>(s.support)],
           extra.c_str());
  }
  return 0;
}

}  // namespace
}  // namespace runsc

int main(int argc, char** argv) {
  using runsc::GlobalFlags;
  GlobalFlags g;
  CLI::App app{"runsc: an OCI runtime that runs containers in a user-space kernel"};
  app.require_subcommand(1);
  app.add_option("--platform", g.platform, "systrap or ptrace (default: the fastest that works here)");
  app.add_option("--network", g.network, "none (only loopback-less isolation so far)");
  app.add_flag("--strace", g.strace, "log every syscall of the sandbox");
  app.add_flag("--debug", g.debug, "verbose logging");
  app.add_option("--debug-log", g.debug_log, "write debug and strace output to this file");
  app.add_option("--root", g.root, "state directory");
  app.add_option("--log", g.log, "log file (runc compatible)");
  app.add_option("--log-format", g.log_format, "text or json");

  CLI::App* do_app = app.add_subcommand("do", "run a host command in a fresh sandbox");
  // Everything after "do" is the command and its own arguments.
  do_app->prefix_command();

  runsc::BootFlags boot;
  CLI::App* boot_app = app.add_subcommand("boot", "(internal) start the Sentry");
  boot_app->add_option("--gofer-fd", boot.gofer_fd)->required();
  boot_app->add_option("--spec-fd", boot.spec_fd)->required();
  boot_app->add_option("--log-fd", boot.log_fd);
  boot_app->add_option("--start-fd", boot.start_fd);
  boot_app->add_option("--control-fd", boot.control_fd);
  boot_app->add_option("--ready-fd", boot.ready_fd);
  boot_app->add_option("--bind-fd", boot.bind_fds)->allow_extra_args(false);
  boot_app->group("");

  std::string gofer_root = "/";
  bool gofer_ro = false;
  std::vector<int> gofer_socks;
  int gofer_log = -1;
  std::vector<std::string> gofer_binds;
  CLI::App* gofer_app = app.add_subcommand("gofer", "(internal) serve the root file system");
  gofer_app->add_option("--root", gofer_root);
  gofer_app->add_flag("--read-only", gofer_ro);
  gofer_app->add_option("--sock-fd", gofer_socks)->required()->allow_extra_args(false);
  gofer_app->add_option("--bind", gofer_binds, "ro:DIR or rw:DIR, served as mount 1, 2, ...")
      ->allow_extra_args(false);
  gofer_app->add_option("--log-fd", gofer_log);
  bool gofer_detached = false;
  gofer_app->add_flag("--detached", gofer_detached);
  gofer_app->group("");

  runsc::CreateFlags create;
  std::string id, signal;
  bool force = false, kill_all = false, quiet = false, ignored = false;
  std::string ignored_str;
  app.add_flag("--systemd-cgroup", ignored, "accepted for runc compatibility (no host cgroups)");
  app.set_version_flag("-v,--version", "runsc version 0.1.0\nspec: 1.0.2");
  auto add_create_flags = [&](CLI::App* c) {
    c->add_option("-b,--bundle", create.bundle, "bundle directory (config.json, rootfs)");
    c->add_option("--pid-file", create.pid_file, "write the sandbox's host pid here");
    c->add_option("--console-socket", create.console_socket, "(terminals: not supported yet)");
    c->add_flag("--no-pivot,--no-new-keyring", ignored, "accepted for runc compatibility");
    c->add_option("--preserve-fds", ignored_str, "accepted for runc compatibility");
    c->add_option("id", id, "container id")->required();
  };
  CLI::App* create_app = app.add_subcommand("create", "create a container from an OCI bundle");
  add_create_flags(create_app);
  CLI::App* run_app = app.add_subcommand("run", "create and start a container, wait for it");
  add_create_flags(run_app);
  run_app->add_flag("-d,--detach", create.detach, "do not wait for the container");
  CLI::App* start_app = app.add_subcommand("start", "start a created container");
  start_app->add_option("id", id, "container id")->required();
  CLI::App* state_app = app.add_subcommand("state", "print a container's state (JSON)");
  state_app->add_option("id", id, "container id")->required();
  CLI::App* kill_app = app.add_subcommand("kill", "send a signal to a container");
  kill_app->add_flag("-a,--all", kill_all, "every process of the container");
  kill_app->add_option("id", id, "container id")->required();
  kill_app->add_option("signal", signal, "signal name or number (default SIGTERM)");
  CLI::App* delete_app = app.add_subcommand("delete", "delete a container");
  delete_app->add_flag("-f,--force", force, "kill it if it still runs");
  delete_app->add_option("id", id, "container id")->required();
  runsc::ExecFlags execf;
  std::vector<std::string> ignored_list;
  CLI::App* exec_app = app.add_subcommand("exec", "run a process in a running container");
  exec_app->add_option("-p,--process", execf.process_file, "an OCI process JSON file");
  exec_app->add_flag("-d,--detach", execf.detach, "do not wait (the pid file's process waits)");
  exec_app->add_option("--pid-file", execf.pid_file, "a host process that exits with the process");
  exec_app->add_option("--console-socket", execf.console_socket, "(terminals: not supported yet)");
  exec_app->add_flag("-t,--tty", execf.tty, "(terminals: not supported yet)");
  exec_app->add_option("--cwd", execf.cwd, "working directory inside the container");
  // One value per occurrence: the command follows the options.
  exec_app->add_option("-e,--env", execf.env, "KEY=VALUE added to the environment")
      ->allow_extra_args(false);
  exec_app->add_option("-u,--user", execf.user, "uid[:gid]");
  exec_app->add_option("--preserve-fds,--process-label,--apparmor,-c,--cap", ignored_list,
                       "accepted for runc compatibility")
      ->allow_extra_args(false);
  exec_app->add_flag("--no-new-privs", ignored, "accepted for runc compatibility");
  // ID, then the command and its own arguments untouched.
  exec_app->prefix_command();
  std::string spec_bundle = ".";
  CLI::App* spec_app = app.add_subcommand("spec", "write a default config.json");
  spec_app->add_option("-b,--bundle", spec_bundle, "where to write it");
  app.add_subcommand("features", "print the OCI features this runtime supports (JSON)");
  CLI::App* list_app = app.add_subcommand("list", "list containers");
  list_app->add_flag("-q,--quiet", quiet, "ids only");
  list_app->add_option("-f,--format", ignored_str, "table (the only format)");

  CLI::App* pause_app = app.add_subcommand("pause", "freeze a container's processes");
  pause_app->add_option("id", id, "container id")->required();
  CLI::App* resume_app = app.add_subcommand("resume", "thaw a paused container");
  resume_app->add_option("id", id, "container id")->required();
  std::string ps_format = "table";
  CLI::App* ps_app = app.add_subcommand("ps", "list a container's host processes");
  ps_app->add_option("-f,--format", ps_format, "table or json");
  ps_app->add_option("id", id, "container id")->required();
  bool events_stats = false;
  int events_interval = 5;
  CLI::App* events_app = app.add_subcommand("events", "print a container's resource usage");
  events_app->add_flag("--stats", events_stats, "once, then exit");
  events_app->add_option("--interval", events_interval, "seconds between stats (default 5)");
  events_app->add_option("id", id, "container id")->required();

  std::string which;
  CLI::App* sa = app.add_subcommand("seccomp-allowlist", "print a host syscall allowlist");
  sa->add_option("process", which, "sentry or gofer")->required()->check(CLI::IsMember({"sentry", "gofer"}));

  app.add_subcommand("syscalls", "print the syscall table and each syscall's support level");

  CLI11_PARSE(app, argc, argv);

  if (app.got_subcommand("do")) return runsc::RunDo(g, do_app->remaining());
  if (app.got_subcommand("boot")) return runsc::RunBoot(boot);
  if (app.got_subcommand("gofer")) return runsc::GoferMain(g, gofer_root, gofer_ro, gofer_socks, gofer_log,
                                                             gofer_detached, gofer_binds);
  if (app.got_subcommand("syscalls")) return runsc::PrintSyscalls();
  runsc::SetOciLog(g.log, g.log_format);
  if (app.got_subcommand("create")) return runsc::OciCreate(g, create, id);
  if (app.got_subcommand("run")) return runsc::OciRun(g, create, id);
  if (app.got_subcommand("start")) return runsc::OciStart(g, id);
  if (app.got_subcommand("state")) return runsc::OciState(g, id);
  if (app.got_subcommand("kill")) return runsc::OciKill(g, id, signal, kill_all);
  if (app.got_subcommand("delete")) return runsc::OciDelete(g, id, force);
  if (app.got_subcommand("list")) return runsc::OciList(g, quiet);
  if (app.got_subcommand("spec")) return runsc::OciSpec(spec_bundle);
  if (app.got_subcommand("features")) return runsc::OciFeatures();
  if (app.got_subcommand("pause")) return runsc::OciPause(g, id, true);
  if (app.got_subcommand("resume")) return runsc::OciPause(g, id, false);
  if (app.got_subcommand("ps")) return runsc::OciPs(g, id, ps_format);
  if (app.got_subcommand("events")) return runsc::OciEvents(g, id, events_stats, events_interval);
  if (app.got_subcommand("exec")) {
    std::vector<std::string> rest = exec_app->remaining();
    if (rest.empty()) {
      fprintf(stderr, "runsc: exec: no container id given\n");
      return 1;
    }
    execf.args.assign(rest.begin() + 1, rest.end());
    return runsc::OciExec(g, execf, rest[0]);
  }
  if (app.got_subcommand("seccomp-allowlist")) {
    if (which == "gofer") {
      auto rules = gofer::GoferSeccompRules(/*read_only=*/true);
      fputs(gofer::FormatSeccompRules(rules).c_str(), stdout);
      std::set<int> nrs;
      for (const auto& r : rules) nrs.insert(r.nr);
      printf("# %zu host syscalls (read-only root, as for runsc do)\n", nrs.size());
      return 0;
    }
    std::vector<runsc::SeccompRule> rules =
        runsc::SentryRules(g.platform.empty() ? runsc::DefaultPlatform() : g.platform);
    fputs(runsc::FormatAllowlist(rules).c_str(), stdout);
    printf("# %zu host syscalls\n", runsc::CountSyscalls(rules));
    return 0;
  }
  return 0;
}
