#include "common/aws/credentials.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace stratus::aws {
namespace {

absl::Status FillRandom(unsigned char* out, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = getrandom(out + got, n - got, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("getrandom failed: ", std::strerror(errno)));
    }
    got += static_cast<size_t>(r);
  }
  return absl::OkStatus();
}

// `n` characters drawn uniformly from `alphabet` (rejection sampling, no modulo bias).
absl::StatusOr<std::string> RandomString(absl::string_view alphabet, size_t n) {
  std::string out;
  const unsigned limit = 256 - 256 % alphabet.size();
  while (out.size() < n) {
    unsigned char buf[64];
    if (absl::Status s = FillRandom(buf, sizeof(buf)); !s.ok()) return s;
    for (unsigned char c : buf) {
      if (c >= limit) continue;
      out.push_back(alphabet[c % alphabet.size()]);
      if (out.size() == n) break;
    }
  }
  return out;
}

bool ValidKeyId(absl::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// One parsed section of an INI file, with its original lines for rewriting.
struct Section {
  std::string name;  // "" for lines before the first section header
  std::vector<std::string> lines;
  std::map<std::string, std::string> values;  // lower-cased keys
};

std::vector<Section> ParseIni(const std::string& text) {
  std::vector<Section> sections(1);
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    std::string line(absl::StripSuffix(raw, "\r"));
    absl::string_view t = absl::StripAsciiWhitespace(line);
    if (absl::StartsWith(t, "[") && absl::EndsWith(t, "]")) {
      Section s;
      s.name = std::string(absl::StripAsciiWhitespace(t.substr(1, t.size() - 2)));
      sections.push_back(std::move(s));
    } else if (!t.empty() && t[0] != '#' && t[0] != ';') {
      size_t eq = t.find('=');
      if (eq != absl::string_view::npos) {
        std::string key = absl::AsciiStrToLower(absl::StripAsciiWhitespace(t.substr(0, eq)));
        sections.back().values[key] = std::string(absl::StripAsciiWhitespace(t.substr(eq + 1)));
      }
    }
    sections.back().lines.push_back(std::move(line));
  }
  return sections;
}

absl::Status EnsureParentDir(const std::string& path) {
  std::filesystem::path p(path);
  std::error_code ec;
  if (p.has_parent_path() && !std::filesystem::exists(p.parent_path(), ec)) {
    std::filesystem::create_directories(p.parent_path(), ec);
    if (ec) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot create ", p.parent_path().string(), ": ", ec.message()));
    }
    ::chmod(p.parent_path().c_str(), 0700);
  }
  return absl::OkStatus();
}

// An exclusive advisory lock on "<path>.lock" (flock), so that services started together
// (`stratus up`) agree on one generated key pair instead of overwriting each other's.
class FileLock {
 public:
  static absl::StatusOr<std::unique_ptr<FileLock>> Acquire(const std::string& path) {
    if (absl::Status s = EnsureParentDir(path); !s.ok()) return s;
    std::string lock_path = path + ".lock";
    int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot open ", lock_path, ": ", std::strerror(errno)));
    }
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return absl::InternalError(absl::StrCat("cannot lock ", lock_path, ": ", std::strerror(err)));
    }
    return std::unique_ptr<FileLock>(new FileLock(fd));
  }
  ~FileLock() { ::close(fd_); }  // releases the lock

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

absl::Status WriteFileAtomically(const std::string& path, const std::string& content) {
  if (absl::Status s = EnsureParentDir(path); !s.ok()) return s;
  static std::atomic<uint64_t> counter{0};
  std::string tmp = absl::StrCat(path, ".tmp.", ::getpid(), ".", counter++);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create ", tmp, ": ", std::strerror(errno)));
  }
  ::fchmod(fd, 0600);  // O_CREAT's mode is masked by umask and ignored if tmp existed
  size_t done = 0;
  while (done < content.size()) {
    ssize_t w = ::write(fd, content.data() + done, content.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return absl::InternalError(absl::StrCat("cannot write ", tmp, ": ", std::strerror(err)));
    }
    done += static_cast<size_t>(w);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return absl::InternalError(absl::StrCat("cannot flush ", tmp, ": ", std::strerror(err)));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return absl::InternalError(
        absl::StrCat("cannot rename ", tmp, " to ", path, ": ", std::strerror(err)));
  }
  return absl::OkStatus();
}

}  // namespace

CredentialsStore::CredentialsStore(const std::vector<AwsCredentials>& creds) {
  for (const auto& c : creds) {
    if (ValidKeyId(c.access_key_id) && !c.secret_access_key.empty()) by_id_[c.access_key_id] = c;
  }
}

absl::Status CredentialsStore::Add(const AwsCredentials& creds) {
  if (!ValidKeyId(creds.access_key_id)) {
    return absl::InvalidArgumentError("access key id must be 1-128 characters of [A-Za-z0-9]");
  }
  if (creds.secret_access_key.empty()) {
    return absl::InvalidArgumentError("secret access key must not be empty");
  }
  std::lock_guard<std::mutex> lock(mu_);
  by_id_[creds.access_key_id] = creds;
  return absl::OkStatus();
}

std::optional<AwsCredentials> CredentialsStore::Find(const std::string& access_key_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_id_.find(access_key_id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

size_t CredentialsStore::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return by_id_.size();
}

absl::StatusOr<AwsCredentials> GenerateCredentials() {
  AwsCredentials c;
  absl::StatusOr<std::string> id = RandomString("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16);
  if (!id.ok()) return id.status();
  absl::StatusOr<std::string> secret =
      RandomString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40);
  if (!secret.ok()) return secret.status();
  c.access_key_id = "AKIA" + *id;
  c.secret_access_key = *std::move(secret);
  return c;
}

absl::StatusOr<AwsCredentials> ReadSharedCredentialsFile(const std::string& path,
                                                         const std::string& profile) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("no credentials file at ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  for (const Section& s : ParseIni(ss.str())) {
    if (s.name != profile) continue;
    AwsCredentials c;
    auto get = [&](const char* key) {
      auto it = s.values.find(key);
      return it == s.values.end() ? std::string() : it->second;
    };
    c.access_key_id = get("aws_access_key_id");
    c.secret_access_key = get("aws_secret_access_key");
    c.session_token = get("aws_session_token");
    if (c.access_key_id.empty() || c.secret_access_key.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("profile [", profile, "] in ", path,
                       " lacks aws_access_key_id or aws_secret_access_key"));
    }
    return c;
  }
  return absl::NotFoundError(absl::StrCat("no profile [", profile, "] in ", path));
}

namespace {

// True for a line setting one of the keys WriteSharedCredentialsFile owns.
bool IsAwsKeyLine(absl::string_view line) {
  absl::string_view t = absl::StripAsciiWhitespace(line);
  size_t eq = t.find('=');
  if (eq == absl::string_view::npos) return false;
  std::string key = absl::AsciiStrToLower(absl::StripAsciiWhitespace(t.substr(0, eq)));
  return key == "aws_access_key_id" || key == "aws_secret_access_key" || key == "aws_session_token";
}

// WriteSharedCredentialsFile without taking the lock (the caller holds it).
absl::Status WriteSharedCredentialsFileLocked(const std::string& path, const std::string& profile,
                                              const AwsCredentials& creds) {
  if (profile.empty() || profile.find_first_of("[]\r\n") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("invalid profile name: '", profile, "'"));
  }
  for (const std::string* v :
       {&creds.access_key_id, &creds.secret_access_key, &creds.session_token}) {
    if (v->find_first_of("\r\n") != std::string::npos) {
      return absl::InvalidArgumentError("credentials must not contain line breaks");
    }
  }
  if (creds.access_key_id.empty() || creds.secret_access_key.empty()) {
    return absl::InvalidArgumentError("access key id and secret must not be empty");
  }
  std::string existing;
  if (std::ifstream in(path, std::ios::binary); in) {
    std::stringstream ss;
    ss << in.rdbuf();
    existing = ss.str();
  }
  std::string out;
  std::vector<std::string> kept;  // the profile's other keys (e.g. stratus_api_key)
  for (const Section& s : ParseIni(existing)) {
    if (!s.name.empty() && s.name == profile) {
      for (size_t i = 1; i < s.lines.size(); ++i) {
        if (!IsAwsKeyLine(s.lines[i])) kept.push_back(s.lines[i]);
      }
      continue;  // rewritten below
    }
    std::vector<std::string> lines = s.lines;
    while (!lines.empty() && absl::StripAsciiWhitespace(lines.back()).empty()) lines.pop_back();
    if (lines.empty()) continue;
    absl::StrAppend(&out, absl::StrJoin(lines, "\n"), "\n\n");
  }
  while (!kept.empty() && absl::StripAsciiWhitespace(kept.back()).empty()) kept.pop_back();
  absl::StrAppend(&out, "[", profile, "]\naws_access_key_id = ", creds.access_key_id,
                  "\naws_secret_access_key = ", creds.secret_access_key, "\n");
  if (!creds.session_token.empty()) {
    absl::StrAppend(&out, "aws_session_token = ", creds.session_token, "\n");
  }
  for (const std::string& line : kept) absl::StrAppend(&out, line, "\n");
  return WriteFileAtomically(path, out);
}

}  // namespace

absl::Status WriteSharedCredentialsFile(const std::string& path, const std::string& profile,
                                        const AwsCredentials& creds) {
  absl::StatusOr<std::unique_ptr<FileLock>> lock = FileLock::Acquire(path);
  if (!lock.ok()) return lock.status();
  return WriteSharedCredentialsFileLocked(path, profile, creds);
}

absl::StatusOr<AwsCredentials> LoadCredentials(const CredentialSources& sources) {
  if (!sources.access_key_id.empty() || !sources.secret_access_key.empty()) {
    if (sources.access_key_id.empty() || sources.secret_access_key.empty()) {
      return absl::InvalidArgumentError(
          "an access key id needs a secret access key and vice versa");
    }
    AwsCredentials c{sources.access_key_id, sources.secret_access_key, sources.session_token};
    if (!ValidKeyId(c.access_key_id)) {
      return absl::InvalidArgumentError("access key id must be 1-128 characters of [A-Za-z0-9]");
    }
    if (sources.write_explicit_keys && !sources.shared_credentials_file.empty()) {
      if (absl::Status s =
              WriteSharedCredentialsFile(sources.shared_credentials_file, sources.profile, c);
          !s.ok()) {
        return s;
      }
    }
    return c;
  }
  if (sources.shared_credentials_file.empty()) {
    return absl::NotFoundError("no AWS credentials configured (no keys and no credentials file)");
  }
  absl::StatusOr<AwsCredentials> read =
      ReadSharedCredentialsFile(sources.shared_credentials_file, sources.profile);
  if (read.ok() || !absl::IsNotFound(read.status()) || !sources.create_if_missing) return read;
  // Generate under the lock, after reading again: another process may have just written it.
  absl::StatusOr<std::unique_ptr<FileLock>> lock =
      FileLock::Acquire(sources.shared_credentials_file);
  if (!lock.ok()) return lock.status();
  read = ReadSharedCredentialsFile(sources.shared_credentials_file, sources.profile);
  if (read.ok() || !absl::IsNotFound(read.status())) return read;
  absl::StatusOr<AwsCredentials> fresh = GenerateCredentials();
  if (!fresh.ok()) return fresh.status();
  if (absl::Status s = WriteSharedCredentialsFileLocked(sources.shared_credentials_file,
                                                        sources.profile, *fresh);
      !s.ok()) {
    return s;
  }
  return fresh;
}

absl::StatusOr<std::string> ReadCredentialsValue(const std::string& path,
                                                 const std::string& profile,
                                                 const std::string& key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("no credentials file at ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  for (const Section& s : ParseIni(ss.str())) {
    if (s.name != profile) continue;
    auto it = s.values.find(absl::AsciiStrToLower(key));
    if (it != s.values.end() && !it->second.empty()) return it->second;
  }
  return absl::NotFoundError(absl::StrCat("no ", key, " in profile [", profile, "] of ", path));
}

absl::Status WriteCredentialsValue(const std::string& path, const std::string& profile,
                                   const std::string& key, const std::string& value) {
  if (profile.empty() || profile.find_first_of("[]\r\n") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("invalid profile name: '", profile, "'"));
  }
  if (key.empty() || key.find_first_of("=[]\r\n") != std::string::npos ||
      value.find_first_of("\r\n") != std::string::npos) {
    return absl::InvalidArgumentError("invalid credentials key or value");
  }
  absl::StatusOr<std::unique_ptr<FileLock>> lock = FileLock::Acquire(path);
  if (!lock.ok()) return lock.status();
  std::string existing;
  if (std::ifstream in(path, std::ios::binary); in) {
    std::stringstream ss;
    ss << in.rdbuf();
    existing = ss.str();
  }
  const std::string lower = absl::AsciiStrToLower(key);
  std::string out;
  bool written = false;
  for (const Section& s : ParseIni(existing)) {
    std::vector<std::string> lines = s.lines;
    while (!lines.empty() && absl::StripAsciiWhitespace(lines.back()).empty()) lines.pop_back();
    if (!s.name.empty() && s.name == profile && !written) {
      std::vector<std::string> kept;
      for (const std::string& line : lines) {
        absl::string_view t = absl::StripAsciiWhitespace(line);
        size_t eq = t.find('=');
        if (eq != absl::string_view::npos &&
            absl::AsciiStrToLower(absl::StripAsciiWhitespace(t.substr(0, eq))) == lower) {
          continue;
        }
        kept.push_back(line);
      }
      kept.push_back(absl::StrCat(key, " = ", value));
      lines = std::move(kept);
      written = true;
    }
    if (lines.empty()) continue;
    absl::StrAppend(&out, absl::StrJoin(lines, "\n"), "\n\n");
  }
  if (!written) absl::StrAppend(&out, "[", profile, "]\n", key, " = ", value, "\n");
  return WriteFileAtomically(path, out);
}

}  // namespace stratus::aws
