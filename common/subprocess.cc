#include "common/subprocess.h"

#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"

extern char** environ;

namespace stratus {

absl::StatusOr<std::unique_ptr<Subprocess>> Subprocess::Spawn(const Options& options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("empty argv");
  uid_t uid = 0;
  gid_t gid = 0;
  bool switch_user = !options.run_as_user.empty() && geteuid() == 0;
  std::string home;
  if (switch_user) {
    struct passwd* pw = getpwnam(options.run_as_user.c_str());
    if (pw == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("user '", options.run_as_user, "' does not exist"));
    }
    uid = pw->pw_uid;
    gid = pw->pw_gid;
    home = pw->pw_dir;
  }
  // Everything the child needs is prepared before fork: only async-signal-safe calls after.
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : options.env) env[k] = v;
  if (switch_user) {
    env["HOME"] = home;
    env["USER"] = options.run_as_user;
  }
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, argv;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = options.argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  int log_fd = -1;
  if (!options.log_file.empty()) {
    log_fd = open(options.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot open log file ", options.log_file, ": ", std::strerror(errno)));
    }
    if (switch_user && fchown(log_fd, uid, gid) != 0) {
      // Not fatal: the child only writes through the inherited descriptor.
    }
  }
  // An exec failure is reported through a close-on-exec pipe.
  int err_pipe[2];
  if (pipe2(err_pipe, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork failed: ", std::strerror(errno)));
  if (pid == 0) {
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    if (log_fd >= 0) {
      dup2(log_fd, STDOUT_FILENO);
      dup2(log_fd, STDERR_FILENO);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    if (!options.working_dir.empty() && chdir(options.working_dir.c_str()) != 0) {
      int e = errno;
      ssize_t ignored = write(err_pipe[1], &e, sizeof(e));
      (void)ignored;
      _exit(127);
    }
    if (switch_user) {
      if (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
        int e = errno;
        ssize_t ignored = write(err_pipe[1], &e, sizeof(e));
        (void)ignored;
        _exit(127);
      }
    }
    execvpe(argv[0], argv.data(), envp.data());
    int e = errno;
    ssize_t ignored = write(err_pipe[1], &e, sizeof(e));
    (void)ignored;
    _exit(127);
  }
  close(err_pipe[1]);
  if (log_fd >= 0) close(log_fd);
  int child_errno = 0;
  ssize_t n = read(err_pipe[0], &child_errno, sizeof(child_errno));
  close(err_pipe[0]);
  if (n == static_cast<ssize_t>(sizeof(child_errno))) {
    waitpid(pid, nullptr, 0);
    return absl::FailedPreconditionError(absl::StrCat("cannot run ", options.argv[0], ": ",
                                                      std::strerror(child_errno)));
  }
  return std::unique_ptr<Subprocess>(new Subprocess(pid));
}

Subprocess::~Subprocess() {
  if (Running()) {
    kill(pid_, SIGKILL);
    Wait(std::chrono::milliseconds(5000));
  }
}

bool Subprocess::Running() {
  if (exit_code_.has_value()) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  if (r == pid_) {
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  } else {
    exit_code_ = -1;
  }
  return false;
}

void Subprocess::Signal(int sig) {
  if (Running()) kill(pid_, sig);
}

std::optional<int> Subprocess::Wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (Running()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return exit_code_;
}

int Subprocess::Stop(std::chrono::milliseconds grace) {
  Signal(SIGTERM);
  if (auto code = Wait(grace)) return *code;
  Signal(SIGKILL);
  return Wait(std::chrono::milliseconds(5000)).value_or(-1);
}

absl::StatusOr<int> RunCommand(const Subprocess::Options& options, std::string* output) {
  Subprocess::Options opts = options;
  std::string tmp;
  if (output != nullptr && opts.log_file.empty()) {
    char name[] = "/tmp/stratus-cmd-XXXXXX";
    int fd = mkstemp(name);
    if (fd < 0) return absl::InternalError("mkstemp failed");
    close(fd);
    tmp = name;
    opts.log_file = tmp;
    if (!opts.run_as_user.empty() && geteuid() == 0) {
      if (struct passwd* pw = getpwnam(opts.run_as_user.c_str())) {
        if (chown(name, pw->pw_uid, pw->pw_gid) != 0) {
        }
      }
    }
  }
  auto proc = Subprocess::Spawn(opts);
  if (!proc.ok()) {
    if (!tmp.empty()) unlink(tmp.c_str());
    return proc.status();
  }
  auto code = (*proc)->Wait(std::chrono::hours(1));
  if (!tmp.empty()) {
    std::ifstream in(tmp);
    std::stringstream ss;
    ss << in.rdbuf();
    *output = ss.str();
    unlink(tmp.c_str());
  }
  return code.value_or(-1);
}

absl::StatusOr<int> PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return absl::UnavailableError("bind failed");
  }
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

}  // namespace stratus
