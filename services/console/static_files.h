// The built front end, served from a folder: files by path with their content type, hashed
// assets cached for a year, index.html for every path without a file extension (the front
// end routes on the client), 404 for missing files that have one. Paths that leave the folder
// (.., symlinks out) are 404. Every answer carries the console's security headers
// (SecurityHeaders()).
#ifndef STRATUS_SERVICES_CONSOLE_STATIC_FILES_H_
#define STRATUS_SERVICES_CONSOLE_STATIC_FILES_H_

#include <string>
#include <utility>
#include <vector>

#include "common/http_server.h"

namespace stratus::console {

// Content-Security-Policy (same origin only, no inline scripts), nosniff, no framing, no
// referrer (the login link carries a token).
const std::vector<std::pair<std::string, std::string>>& SecurityHeaders();

// The answer for GET/HEAD `path` (decoded, starting with '/') from `dir`.
HttpResponse ServeStatic(const std::string& dir, const std::string& path);

}  // namespace stratus::console

#endif  // STRATUS_SERVICES_CONSOLE_STATIC_FILES_H_
