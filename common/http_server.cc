#include "common/http_server.h"

#include <civetweb.h>

#include <exception>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace stratus {
namespace {

std::once_flag g_init;

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

void Send(mg_connection* conn, const HttpResponse& r) {
  std::string head = absl::StrCat("HTTP/1.1 ", r.status, " ", ReasonPhrase(r.status),
                                  "\r\nContent-Type: ", r.content_type,
                                  "\r\nContent-Length: ", r.body.size(), "\r\n");
  for (const auto& [k, v] : r.headers) absl::StrAppend(&head, k, ": ", v, "\r\n");
  head += "\r\n";
  mg_write(conn, head.data(), head.size());
  if (!r.body.empty()) mg_write(conn, r.body.data(), r.body.size());
}

}  // namespace

std::string HttpRequest::Header(const std::string& name) const {
  auto it = headers.find(absl::AsciiStrToLower(name));
  return it == headers.end() ? "" : it->second;
}

HttpResponse HttpResponse::Text(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse HttpResponse::Json(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Create(const Options& options) {
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("http port out of range: ", options.port));
  }
  if (options.threads < 1) return absl::InvalidArgumentError("http threads must be >= 1");
  std::call_once(g_init, [] { mg_init_library(0); });
  return std::unique_ptr<HttpServer>(new HttpServer(options));
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Handle(const std::string& path, HttpHandler handler) {
  handlers_[path] = std::move(handler);
}

absl::Status HttpServer::Start() {
  std::string listen = absl::StrCat(options_.address, ":", options_.port);
  std::string threads = std::to_string(options_.threads);
  const char* opts[] = {"listening_ports", listen.c_str(), "num_threads", threads.c_str(),
                        "enable_keep_alive", "yes", nullptr};
  mg_callbacks callbacks{};
  ctx_ = mg_start(&callbacks, this, opts);
  if (ctx_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot listen for HTTP on ", listen));
  }
  mg_server_port ports[4];
  int n = mg_get_server_ports(ctx_, 4, ports);
  port_ = n > 0 ? ports[0].port : options_.port;
  mg_set_request_handler(ctx_, "/", &HttpServer::Dispatch, this);
  return absl::OkStatus();
}

void HttpServer::Stop() {
  if (ctx_ != nullptr) {
    mg_stop(ctx_);
    ctx_ = nullptr;
  }
}

int HttpServer::Dispatch(mg_connection* conn, void* self_ptr) {
  auto* self = static_cast<HttpServer*>(self_ptr);
  const mg_request_info* info = mg_get_request_info(conn);
  HttpRequest req;
  req.method = info->request_method ? info->request_method : "";
  req.path = info->local_uri ? info->local_uri : "";
  req.query = info->query_string ? info->query_string : "";
  req.remote_address = info->remote_addr;
  for (int i = 0; i < info->num_headers; ++i) {
    req.headers[absl::AsciiStrToLower(info->http_headers[i].name)] = info->http_headers[i].value;
  }
  auto it = self->handlers_.find(req.path);
  if (it == self->handlers_.end()) {
    Send(conn, HttpResponse::Text(404, absl::StrCat("no such path: ", req.path, "\n")));
    return 200;
  }
  if (info->content_length > static_cast<long long>(self->options_.max_body_bytes)) {
    Send(conn, HttpResponse::Json(413, absl::StrCat("{\"message\":\"request body of ",
                                                    info->content_length, " bytes exceeds ",
                                                    self->options_.max_body_bytes, "\"}")));
    return 200;
  }
  char buf[16384];
  for (;;) {
    int n = mg_read(conn, buf, sizeof(buf));
    if (n <= 0) break;
    req.body.append(buf, n);
    if (req.body.size() > self->options_.max_body_bytes) {
      Send(conn, HttpResponse::Json(413, "{\"message\":\"request body too large\"}"));
      return 200;
    }
  }
  HttpResponse resp;
  try {
    resp = it->second(req);
  } catch (const std::exception& e) {
    SLOG(ERROR) << "http handler failed" << Kv("path", req.path) << Kv("error", e.what());
    resp = HttpResponse::Text(500, absl::StrCat("internal error: ", e.what(), "\n"));
  }
  Send(conn, resp);
  return 200;
}

}  // namespace stratus
