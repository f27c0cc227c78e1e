#include "common/embedded_postgres.h"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
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

// Whether `user` may traverse every folder above `dir` (owner, group or other execute bit).
bool Reachable(const fs::path& dir, const struct passwd& user) {
  for (fs::path p = dir.parent_path(); !p.empty(); p = p.parent_path()) {
    struct stat st {};
    if (stat(p.c_str(), &st) != 0) return false;
    const bool ok = st.st_uid == user.pw_uid   ? (st.st_mode & S_IXUSR) != 0
                    : st.st_gid == user.pw_gid ? (st.st_mode & S_IXGRP) != 0
                                               : (st.st_mode & S_IXOTH) != 0;
    if (!ok) return false;
    if (p == p.root_path()) break;
  }
  return true;
}

absl::StatusOr<std::string> NewPassword() {
  unsigned char bytes[24];
  int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::read(fd, bytes, sizeof(bytes)) != static_cast<ssize_t>(sizeof(bytes))) {
    if (fd >= 0) ::close(fd);
    return absl::InternalError("cannot read /dev/urandom");
  }
  ::close(fd);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

// Writes `text` to a new file `path` with mode 0600 (replacing one that exists).
absl::Status WritePrivateFile(const fs::path& path, const std::string& text, uid_t uid, gid_t gid) {
  const fs::path tmp = path.string() + ".tmp";
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return absl::PermissionDeniedError(absl::StrCat("cannot write ", tmp.string()));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ok && (geteuid() != 0 || fchown(fd, uid, gid) == 0);
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return absl::PermissionDeniedError(absl::StrCat("cannot write ", path.string()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFirstLine(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line) || line.empty()) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path.string()));
  }
  return line;
}

constexpr char kPasswordFile[] = "stratus.password";

// Password authentication for every connection; written on every start (the file is ours).
constexpr char kHbaScram[] =
    "# Written by Stratus (common/embedded_postgres.cc) on every start.\n"
    "local all all scram-sha-256\n"
    "host all all 127.0.0.1/32 scram-sha-256\n"
    "host all all ::1/128 scram-sha-256\n";
// Only while a cluster made with trust authentication gets its password: the Unix socket in the
// cluster folder (0700, reachable by the cluster's user and root only), no TCP.
constexpr char kHbaMigrate[] =
    "# Written by Stratus (common/embedded_postgres.cc) while setting the password.\n"
    "local all postgres trust\n";

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
  try {
    pqxx::connection c(pg->AdminUrl("postgres"));
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
  const fs::path data(options_.data_dir);
  std::error_code ec;
  fs::create_directories(data, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create data folder ", data.string(), ": ", ec.message()));
  }
  chmod(data.c_str(), 0700);
  fs::path cluster = data;
  uid_t uid = geteuid();
  gid_t gid = getegid();
  const bool as_root = geteuid() == 0;
  if (as_root) {
    struct passwd* pw = getpwnam(options_.run_as_user.c_str());
    if (pw == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "running as root, PostgreSQL needs an unprivileged user '", options_.run_as_user,
          "', which does not exist (install the postgresql package)"));
    }
    uid = pw->pw_uid;
    gid = pw->pw_gid;
    if (fs::is_symlink(data / "cluster")) {
      cluster = fs::read_symlink(data / "cluster", ec);
    } else if (!fs::exists(data / "PG_VERSION") && !Reachable(data, *pw)) {
      // The user cannot reach the data folder: the cluster goes where it can, in a folder it
      // owns under its home, rather than opening the folders above the data folder to others.
      const fs::path home = pw->pw_dir;
      const fs::path base = home / "stratus";
      if (!Reachable(base, *pw)) {
        return absl::FailedPreconditionError(absl::StrCat(
            "running as root: user '", options_.run_as_user, "' can reach neither ", data.string(),
            " nor ", base.string(), "; choose a data folder it can reach"));
      }
      cluster = base / absl::StrCat(absl::Hex(std::hash<std::string>()(data.string())));
      fs::create_directories(cluster, ec);
      if (ec || chown(base.c_str(), uid, gid) != 0) {
        return absl::PermissionDeniedError(
            absl::StrCat("cannot create the cluster folder ", cluster.string()));
      }
      chmod(base.c_str(), 0700);
      fs::create_symlink(cluster, data / "cluster", ec);
      if (ec) {
        return absl::PermissionDeniedError(
            absl::StrCat("cannot link ", (data / "cluster").string(), ": ", ec.message()));
      }
    }
    if (auto s = ChownRecursive(cluster, uid, gid); !s.ok()) return s;
    int fd = ::open(options_.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      if (fchown(fd, uid, gid) != 0) {
      }
      ::close(fd);
    }
  }
  cluster_dir_ = cluster.string();
  chmod(cluster.c_str(), 0700);
  const fs::path password_file = data / kPasswordFile;
  auto password = ReadFirstLine(password_file);
  const bool have_cluster = fs::exists(cluster / "PG_VERSION");
  if (have_cluster && password.ok()) {
    password_ = *password;
    return absl::OkStatus();
  }
  auto fresh = NewPassword();
  if (!fresh.ok()) return fresh.status();
  password_ = *fresh;
  if (have_cluster) return SetPasswordOnTrustCluster();

  SLOG(INFO) << "creating PostgreSQL cluster" << Kv("data_dir", cluster.string());
  // initdb reads the superuser's password from a file of its user's, removed right after.
  char pwfile[] = "/tmp/stratus-pg-pw-XXXXXX";
  int fd = mkstemp(pwfile);
  if (fd < 0) return absl::InternalError("cannot create a temporary file");
  bool written =
      ::write(fd, password_.data(), password_.size()) == static_cast<ssize_t>(password_.size()) &&
      (!as_root || fchown(fd, uid, gid) == 0);
  ::close(fd);
  if (!written) {
    ::unlink(pwfile);
    return absl::InternalError("cannot write the temporary password file");
  }
  std::string out;
  auto code = RunCommand({.argv = {options_.bin_dir + "/initdb", "-D", cluster.string(), "-U",
                                   "postgres", "--auth=scram-sha-256",
                                   absl::StrCat("--pwfile=", pwfile), "-E", "UTF8", "--no-sync"},
                          .env = {{"LC_ALL", "C.UTF-8"}},
                          .run_as_user = options_.run_as_user},
                         &out);
  ::unlink(pwfile);
  if (!code.ok()) return code.status();
  if (*code != 0) {
    return absl::InternalError(absl::StrCat("initdb failed (exit ", *code, "): ", out));
  }
  if (auto s = WritePrivateFile(cluster / "pg_hba.conf", kHbaScram, uid, gid); !s.ok()) return s;
  return WritePrivateFile(password_file, password_ + "\n", geteuid(), getegid());
}

absl::Status EmbeddedPostgres::SetPasswordOnTrustCluster() {
  SLOG(INFO) << "setting a password on the PostgreSQL cluster" << Kv("data_dir", cluster_dir_);
  uid_t uid = geteuid();
  gid_t gid = getegid();
  if (geteuid() == 0) {
    if (struct passwd* pw = getpwnam(options_.run_as_user.c_str())) {
      uid = pw->pw_uid;
      gid = pw->pw_gid;
    }
  }
  const fs::path hba = fs::path(cluster_dir_) / "pg_hba.conf";
  if (auto s = WritePrivateFile(hba, kHbaMigrate, uid, gid); !s.ok()) return s;
  // The server without TCP while the password is unset.
  auto proc = Subprocess::Spawn(
      {.argv = {options_.bin_dir + "/postgres", "-D", cluster_dir_, "-p", std::to_string(port_),
                "-c", "listen_addresses=", "-k", cluster_dir_},
       .env = {{"LC_ALL", "C.UTF-8"}},
       .run_as_user = options_.run_as_user,
       .log_file = options_.log_file});
  if (!proc.ok()) return proc.status();
  const std::string socket_url = absl::StrCat("postgresql://postgres@/postgres?host=", cluster_dir_,
                                              "&port=", port_, "&connect_timeout=2");
  absl::Status result = absl::DeadlineExceededError(
      absl::StrCat("postgres did not accept connections within 60 s; see ", options_.log_file));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline && (*proc)->Running()) {
    try {
      pqxx::connection c(socket_url);
      pqxx::nontransaction tx(c);
      tx.exec("SET password_encryption = 'scram-sha-256'");
      tx.exec("ALTER ROLE postgres PASSWORD " + tx.quote(password_));
      result = absl::OkStatus();
      break;
    } catch (const pqxx::broken_connection&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    } catch (const std::exception& e) {
      result = absl::InternalError(absl::StrCat("cannot set the password: ", e.what()));
      break;
    }
  }
  (*proc)->Signal(SIGINT);
  if (!(*proc)->Wait(std::chrono::seconds(30))) (*proc)->Stop(std::chrono::seconds(1));
  if (!result.ok()) return result;
  if (auto s = WritePrivateFile(hba, kHbaScram, uid, gid); !s.ok()) return s;
  return WritePrivateFile(fs::path(options_.data_dir) / kPasswordFile, password_ + "\n", geteuid(),
                          getegid());
}

std::string EmbeddedPostgres::AdminUrl(const std::string& database) const {
  return absl::StrCat("postgresql://postgres:", password_, "@127.0.0.1:", port_, "/", database);
}

absl::Status EmbeddedPostgres::Launch() {
  auto proc = Subprocess::Spawn(
      {.argv = {options_.bin_dir + "/postgres", "-D", cluster_dir_, "-p", std::to_string(port_),
                "-h", "127.0.0.1", "-k", cluster_dir_, "-c", "fsync=on", "-c",
                "max_connections=200", "-c", "shared_buffers=64MB"},
       .env = {{"LC_ALL", "C.UTF-8"}},
       .run_as_user = options_.run_as_user,
       .log_file = options_.log_file});
  if (!proc.ok()) return proc.status();
  server_ = std::move(*proc);
  const std::string url = AdminUrl("postgres?connect_timeout=2");
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

std::string EmbeddedPostgres::url() const { return AdminUrl(options_.database); }

absl::Status EmbeddedPostgres::Stop() {
  if (!server_) return absl::OkStatus();
  // SIGINT is PostgreSQL's "fast" shutdown.
  server_->Signal(SIGINT);
  if (!server_->Wait(std::chrono::seconds(30))) server_->Stop(std::chrono::seconds(1));
  server_.reset();
  return absl::OkStatus();
}

namespace {

// The processes whose parent is `parent` (PostgreSQL's backends: each is its own process group,
// as PostgreSQL calls setsid() in every child, so a group signal misses them).
std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> children;
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
    if (ppid == parent) children.push_back(pid);
  }
  return children;
}

}  // namespace

void EmbeddedPostgres::Kill() {
  if (!server_) return;
  // The postmaster and every backend, as a machine crash would. The postmaster is stopped
  // first, so that it forks no backend the scan could miss, and the backends are found while
  // it is still their parent: a backend left alive would go on answering its client's
  // connection for a while.
  const pid_t postmaster = server_->pid();
  ::kill(postmaster, SIGSTOP);
  for (pid_t pid : ChildrenOf(postmaster)) ::kill(pid, SIGKILL);
  ::kill(-postmaster, SIGKILL);
  server_->Wait(std::chrono::seconds(10));
  server_.reset();
}

void EmbeddedPostgres::SignalAll(int sig) {
  if (!server_) return;
  // The postmaster first: stopped, it forks no backend the scan below could miss.
  const pid_t postmaster = server_->pid();
  ::kill(postmaster, sig);
  for (pid_t pid : ChildrenOf(postmaster)) ::kill(pid, sig);
}

absl::Status EmbeddedPostgres::Restart() {
  (void)Stop();
  return Launch();
}

}  // namespace stratus
