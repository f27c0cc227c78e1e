#include "common/embedded_postgres.h"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace stratus {
namespace fs = std::filesystem;
namespace {

absl::StatusOr<std::string> FindBinDir() {
  std::vector<std::string> dirs;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    if (fs::exists(entry.path() / "bin" / "postgres")) dirs.push_back(entry.path() / "bin");
  }
  if (dirs.empty()) {
    return absl::FailedPreconditionError(
        "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres): run `make deps` "
        "or set STRATUS_DATABASE_URL to an existing server");
  }
  std::sort(dirs.begin(), dirs.end(), [](const std::string& a, const std::string& b) {
    return std::stoi(fs::path(a).parent_path().filename()) <
           std::stoi(fs::path(b).parent_path().filename());
  });
  return dirs.back();
}

absl::Status ChownRecursive(const fs::path& dir, uid_t uid, gid_t gid) {
  std::error_code ec;
  if (chown(dir.c_str(), uid, gid) != 0) {
    return absl::PermissionDeniedError(absl::StrCat("cannot chown ", dir.string()));
  }
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (lchown(e.path().c_str(), uid, gid) != 0) {
      return absl::PermissionDeniedError(absl::StrCat("cannot chown ", e.path().string()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<EmbeddedPostgres>> EmbeddedPostgres::Start(const Options& options) {
  if (options.data_dir.empty()) return absl::InvalidArgumentError("data_dir is empty");
  auto pg = std::unique_ptr<EmbeddedPostgres>(new EmbeddedPostgres(options));
  if (pg->options_.bin_dir.empty()) {
    auto bin = FindBinDir();
    if (!bin.ok()) return bin.status();
    pg->options_.bin_dir = *bin;
  }
  pg->options_.data_dir = fs::absolute(options.data_dir).lexically_normal().string();
  if (pg->options_.log_file.empty()) {
    pg->options_.log_file = (fs::path(pg->options_.data_dir).parent_path() /
                             (fs::path(pg->options_.data_dir).filename().string() + ".log"))
                                .string();
  }
  pg->port_ = options.port;
  if (pg->port_ == 0) {
    auto port = PickFreePort();
    if (!port.ok()) return port.status();
    pg->port_ = *port;
  }
  if (auto s = pg->Init(); !s.ok()) return s;
  if (auto s = pg->Launch(); !s.ok()) return s;
  // Create the database.
  std::string admin = absl::StrCat("postgresql://postgres@127.0.0.1:", pg->port_, "/postgres");
  try {
    pqxx::connection c(admin);
    pqxx::nontransaction tx(c);
    auto r = tx.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", options.database);
    if (r.empty()) tx.exec("CREATE DATABASE " + tx.quote_name(options.database));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("cannot create database ", options.database, ": ",
                                            e.what()));
  }
  return pg;
}

absl::Status EmbeddedPostgres::Init() {
  fs::path data(options_.data_dir);
  std::error_code ec;
  fs::create_directories(data, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create data folder ", data.string(), ": ", ec.message()));
  }
  const bool as_root = geteuid() == 0;
  if (as_root) {
    struct passwd* pw = getpwnam(options_.run_as_user.c_str());
    if (pw == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "running as root, PostgreSQL needs an unprivileged user '", options_.run_as_user,
          "', which does not exist (install the postgresql package)"));
    }
    if (auto s = ChownRecursive(data, pw->pw_uid, pw->pw_gid); !s.ok()) return s;
    // The server needs to traverse the parents of its data folder.
    for (fs::path p = data.parent_path(); !p.empty() && p != p.root_path(); p = p.parent_path()) {
      struct stat st {};
      if (stat(p.c_str(), &st) == 0 && (st.st_mode & S_IXOTH) == 0) {
        chmod(p.c_str(), st.st_mode | S_IXOTH);
      }
    }
    int fd = ::open(options_.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      if (fchown(fd, pw->pw_uid, pw->pw_gid) != 0) {
      }
      ::close(fd);
    }
  }
  chmod(data.c_str(), 0700);
  if (fs::exists(data / "PG_VERSION")) return absl::OkStatus();
  SLOG(INFO) << "creating PostgreSQL cluster" << Kv("data_dir", data.string());
  std::string out;
  auto code = RunCommand({.argv = {options_.bin_dir + "/initdb", "-D", data.string(), "-U",
                                   "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"},
                          .env = {{"LC_ALL", "C.UTF-8"}},
                          .run_as_user = options_.run_as_user},
                         &out);
  if (!code.ok()) return code.status();
  if (*code != 0) {
    return absl::InternalError(absl::StrCat("initdb failed (exit ", *code, "): ", out));
  }
  return absl::OkStatus();
}

absl::Status EmbeddedPostgres::Launch() {
  auto proc = Subprocess::Spawn(
      {.argv = {options_.bin_dir + "/postgres", "-D", options_.data_dir, "-p",
                std::to_string(port_), "-h", "127.0.0.1", "-k", options_.data_dir, "-c",
                "fsync=on", "-c", "max_connections=200", "-c", "shared_buffers=64MB"},
       .env = {{"LC_ALL", "C.UTF-8"}},
       .run_as_user = options_.run_as_user,
       .log_file = options_.log_file});
  if (!proc.ok()) return proc.status();
  server_ = std::move(*proc);
  std::string url = absl::StrCat("postgresql://postgres@127.0.0.1:", port_,
                                 "/postgres?connect_timeout=2");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!server_->Running()) {
      return absl::InternalError(absl::StrCat("postgres exited with code ",
                                              server_->exit_code().value_or(-1), "; see ",
                                              options_.log_file));
    }
    try {
      pqxx::connection c(url);
      return absl::OkStatus();
    } catch (const std::exception&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return absl::DeadlineExceededError(
      absl::StrCat("postgres did not accept connections within 60 s; see ", options_.log_file));
}

EmbeddedPostgres::~EmbeddedPostgres() { (void)Stop(); }

std::string EmbeddedPostgres::url() const {
  return absl::StrCat("postgresql://postgres@127.0.0.1:", port_, "/", options_.database);
}

absl::Status EmbeddedPostgres::Stop() {
  if (!server_) return absl::OkStatus();
  // SIGINT is PostgreSQL's "fast" shutdown.
  server_->Signal(SIGINT);
  if (!server_->Wait(std::chrono::seconds(30))) server_->Stop(std::chrono::seconds(1));
  server_.reset();
  return absl::OkStatus();
}

void EmbeddedPostgres::Kill() {
  if (!server_) return;
  // The whole process group: the postmaster and its backends, as a machine crash would.
  ::kill(-server_->pid(), SIGKILL);
  server_->Wait(std::chrono::seconds(10));
  server_.reset();
}

void EmbeddedPostgres::SignalAll(int sig) {
  if (!server_) return;
  const pid_t postmaster = server_->pid();
  ::kill(postmaster, sig);
  // Each backend is its own process group (PostgreSQL calls setsid() in every child): find
  // them by their parent.
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    pid_t pid = 0;
    if (!absl::SimpleAtoi(entry.path().filename().string(), &pid)) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
    auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 1));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == postmaster) ::kill(pid, sig);
  }
}

absl::Status EmbeddedPostgres::Restart() {
  (void)Stop();
  return Launch();
}

}  // namespace stratus
