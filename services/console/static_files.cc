#include "services/console/static_files.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "common/path_root.h"

namespace stratus::console {
namespace fs = std::filesystem;

namespace {

std::string ContentType(const fs::path& file) {
  const std::string ext = absl::AsciiStrToLower(file.extension().string());
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json" || ext == ".map") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".webmanifest") return "application/manifest+json";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

HttpResponse NotFound(const std::string& path) {
  HttpResponse r = HttpResponse::Text(404, "no such file: " + path + "\n");
  r.headers = SecurityHeaders();
  return r;
}

}  // namespace

const std::vector<std::pair<std::string, std::string>>& SecurityHeaders() {
  static const auto* kHeaders = new std::vector<std::pair<std::string, std::string>>{
      {"Content-Security-Policy",
       "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
  };
  return *kHeaders;
}

HttpResponse ServeStatic(const std::string& dir, const std::string& path) {
  if (dir.empty()) return NotFound(path);
  const fs::path rel = fs::path(path).relative_path();
  const bool has_extension = rel.has_extension();
  fs::path file = fs::path(dir) / rel;
  std::error_code ec;
  if (rel.empty() || !has_extension || fs::is_directory(file, ec)) {
    file = fs::path(dir) / "index.html";
  }
  if (!IsUnderRoot(fs::weakly_canonical(file, ec), fs::weakly_canonical(dir, ec))) {
    return NotFound(path);
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return NotFound(path);
  std::ostringstream body;
  body << in.rdbuf();
  HttpResponse r;
  r.content_type = ContentType(file);
  r.body = body.str();
  r.headers = SecurityHeaders();
  // Vite names assets by content hash: cache them for good; index.html must be re-checked.
  r.headers.emplace_back("Cache-Control", absl::StartsWith(path, "/assets/")
                                              ? "public, max-age=31536000, immutable"
                                              : "no-cache");
  return r;
}

}  // namespace stratus::console
