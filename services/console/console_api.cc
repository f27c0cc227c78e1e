#include "services/console/console_api.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "clients/cpp/service_client.h"
#include "common/aws/sigv4.h"
#include "common/health_client.h"
#include "common/logging.h"
#include "common/percent_decode.h"
#include "common/status.h"
#include "nlohmann/json.hpp"
#include "services/console/static_files.h"
#include "stratus/v1/ingest.grpc.pb.h"

namespace stratus::console {
namespace {

using json = nlohmann::json;
constexpr char kCookie[] = "stratus_session";

HttpResponse Error(const absl::Status& status) {
  HttpResponse r = HttpResponse::Json(HttpStatusOf(status.code()), ErrorJson(status));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

HttpResponse JsonOk(int status, std::string body) {
  HttpResponse r = HttpResponse::Json(status, std::move(body));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

absl::Status Refused(absl::StatusCode code, const std::string& reason, const std::string& message) {
  return WithReason(absl::Status(code, message), reason);
}

// Query parameters, %-decoded ('+' as space, as forms send it).
std::map<std::string, std::string> ParseQuery(const std::string& query) {
  std::map<std::string, std::string> out;
  for (absl::string_view part : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::string p(part);
    std::replace(p.begin(), p.end(), '+', ' ');
    size_t eq = p.find('=');
    out[PercentDecode(p.substr(0, eq))] =
        eq == std::string::npos ? "" : PercentDecode(p.substr(eq + 1));
  }
  return out;
}

std::string CookieValue(const HttpRequest& req, absl::string_view name) {
  for (absl::string_view c : absl::StrSplit(req.Header("cookie"), ';')) {
    c = absl::StripAsciiWhitespace(c);
    if (absl::ConsumePrefix(&c, name) && absl::ConsumePrefix(&c, "=")) return std::string(c);
  }
  return "";
}

std::string SessionJson(const Session& s) {
  json scopes = json::array();
  for (const auth::Scope& scope : s.key.scopes) {
    scopes.push_back({{"service", scope.service},
                      {"level", scope.level == auth::Level::kAdmin ? "ADMIN" : "READ"}});
  }
  return json{
      {"keyId", s.key.id}, {"name", s.key.name}, {"scopes", scopes}, {"csrfToken", s.csrf_token}}
      .dump();
}

std::string SseEvent(absl::string_view event, absl::string_view data, absl::string_view id = "") {
  std::string out;
  if (!id.empty()) absl::StrAppend(&out, "id: ", id, "\n");
  absl::StrAppend(&out, "event: ", event, "\n");
  for (absl::string_view line : absl::StrSplit(data, '\n'))
    absl::StrAppend(&out, "data: ", line, "\n");
  out += "\n";
  return out;
}

std::string SseError(const absl::Status& s) {
  return SseEvent("error", json{{"code", absl::StatusCodeToString(s.code())},
                                {"message", std::string(s.message())}}
                               .dump());
}

class Api {
 public:
  explicit Api(const ConsoleApiOptions& o) : o_(o), ingest_(o.ingest, {.address = "ingest"}) {}

  // The caller's session (from the cookie, or an API key in Authorization), or the refusal.
  // State-changing methods through the cookie must carry the session's CSRF token.
  absl::StatusOr<Session> Authenticate(const HttpRequest& req) {
    const std::string authorization = req.Header("authorization");
    if (!authorization.empty()) {
      absl::string_view key = authorization;
      if (!absl::ConsumePrefix(&key, "Bearer ")) {
        return absl::UnauthenticatedError("Authorization must be 'Bearer <API key>'");
      }
      absl::StatusOr<auth::KeyRecord> record = o_.keys->Verify(key);
      if (!record.ok()) return record.status();
      return Session{"", "", std::string(key), *record};
    }
    const std::string id = CookieValue(req, kCookie);
    std::optional<Session> s = id.empty() ? std::nullopt : o_.sessions->Find(id);
    if (!s) {
      return Refused(absl::StatusCode::kUnauthenticated, "NO_SESSION",
                     "not logged in: open the console link that `stratus up` printed, or log "
                     "in with an API key (POST /api/session)");
    }
    const bool safe = req.method == "GET" || req.method == "HEAD" || req.method == "OPTIONS";
    if (!safe) {
      const std::string token = req.Header("x-csrf-token");
      if (token.empty()) {
        return Refused(absl::StatusCode::kPermissionDenied, "CSRF_TOKEN_MISSING",
                       "state-changing requests need the X-CSRF-Token header of the session");
      }
      if (!aws::ConstantTimeEquals(token, s->csrf_token)) {
        return Refused(absl::StatusCode::kPermissionDenied, "CSRF_TOKEN_MISMATCH",
                       "X-CSRF-Token does not belong to this session");
      }
    }
    return *s;
  }

  std::string SetCookie(const Session& s) const {
    return absl::StrCat(kCookie, "=", s.id, "; Path=/; HttpOnly; SameSite=Strict",
                        o_.secure_cookies ? "; Secure" : "");
  }

  HttpResponse Login(const HttpRequest& req) {
    const std::string token = ParseQuery(req.query)["token"];
    absl::StatusOr<Session> s = o_.sessions->LogInWithToken(token);
    if (!s.ok()) {
      HttpResponse r;
      r.status = 401;
      r.content_type = "text/html; charset=utf-8";
      r.headers = SecurityHeaders();
      r.body = absl::StrCat(
          "<!doctype html><meta charset=utf-8><title>Stratus console</title>"
          "<p>",
          s.status().message(), ".</p><p><a href=\"/\">Log in with an API key</a></p>\n");
      return r;
    }
    HttpResponse r = HttpResponse::Text(303, "");
    r.headers = SecurityHeaders();
    r.headers.emplace_back("Location", "/");
    r.headers.emplace_back("Set-Cookie", SetCookie(*s));
    return r;
  }

  HttpResponse SessionRoute(const HttpRequest& req) {
    if (req.method == "POST") {
      json body = json::parse(req.body, nullptr, false);
      if (!body.is_object() || !body.contains("apiKey") || !body["apiKey"].is_string()) {
        return Error(absl::InvalidArgumentError("body must be {\"apiKey\": \"stk_...\"}"));
      }
      absl::StatusOr<Session> s = o_.sessions->LogIn(body["apiKey"].get<std::string>());
      if (!s.ok()) return Error(s.status());
      HttpResponse r = JsonOk(200, SessionJson(*s));
      r.headers.emplace_back("Set-Cookie", SetCookie(*s));
      return r;
    }
    absl::StatusOr<Session> s = Authenticate(req);
    if (!s.ok()) return Error(s.status());
    if (req.method == "GET") return JsonOk(200, SessionJson(*s));
    if (req.method == "DELETE") {
      o_.sessions->LogOut(s->id);
      HttpResponse r = HttpResponse::Text(204, "");
      r.headers.emplace_back(
          "Set-Cookie", absl::StrCat(kCookie, "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"));
      return r;
    }
    return Error(absl::UnimplementedError("GET, POST or DELETE"));
  }

  HttpResponse Services(const HttpRequest& req) {
    if (absl::StatusOr<Session> s = Authenticate(req); !s.ok()) return Error(s.status());
    json list = json::array();
    for (const ServiceTarget& t : o_.services) {
      auto h = CheckHealth(t.address, "", std::chrono::milliseconds(1000));
      json e = {{"name", t.name}, {"address", t.address}};
      if (!h.ok()) {
        e["status"] = "UNREACHABLE";
        e["message"] = std::string(h.status().message());
      } else {
        e["status"] = *h == ServingStatus::kServing ? "SERVING" : "NOT_SERVING";
        e["message"] = "";
      }
      list.push_back(e);
    }
    return JsonOk(200, json{{"services", list}}.dump());
  }

  HttpResponse Rpc(const HttpRequest& req) {
    absl::StatusOr<Session> s = Authenticate(req);
    if (!s.ok()) return Error(s.status());
    if (req.method != "POST") {
      return Error(absl::InvalidArgumentError("RPCs are called with POST"));
    }
    absl::string_view rest = absl::StripPrefix(req.path, "/api/rpc/");
    std::vector<std::string> parts = absl::StrSplit(rest, '/');
    if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
      return Error(absl::NotFoundError("path must be /api/rpc/<package.Service>/<Method>"));
    }
    absl::StatusOr<std::string> answer = o_.bridge->Call(parts[0], parts[1], req.body, s->api_key);
    if (!answer.ok()) return Error(answer.status());
    return JsonOk(200, std::move(*answer));
  }

  HttpResponse Snapshot(const HttpRequest& req) {
    absl::StatusOr<Session> s = Authenticate(req);
    if (!s.ok()) return Error(s.status());
    v1::GetSnapshotRequest request;
    request.set_snapshot_ref(ParseQuery(req.query)["ref"]);
    v1::GetSnapshotResponse response;
    const auto ctx = Context(*s, CallKind::kControl);
    if (grpc::Status st = ingest_.stub().GetSnapshot(ctx.get(), request, &response); !st.ok()) {
      return Error(FromGrpcStatus(st));
    }
    HttpResponse r;
    r.content_type = "image/jpeg";
    r.body = std::move(*response.mutable_jpeg());
    r.headers = {{"Cache-Control", "private, max-age=3600"}, {"X-Content-Type-Options", "nosniff"}};
    return r;
  }

  HttpResponse Cost(const HttpRequest& req) {
    if (absl::StatusOr<Session> s = Authenticate(req); !s.ok()) return Error(s.status());
    if (o_.cost == nullptr) return Error(absl::UnavailableError("cost reporting is off"));
    absl::StatusOr<std::string> report = o_.cost->ReportJson();
    if (!report.ok()) return Error(report.status());
    return JsonOk(200, std::move(*report));
  }

  // SSE of IngestService.WatchEvents. A helper thread sends pings and cancels the call when
  // the browser goes away or the server stops.
  HttpResponse LiveEvents(const HttpRequest& req) {
    absl::StatusOr<Session> s = Authenticate(req);
    if (!s.ok()) return Error(s.status());
    auto q = ParseQuery(req.query);
    v1::WatchEventsRequest request;
    for (absl::string_view name : absl::StrSplit(q["streams"], ',', absl::SkipEmpty())) {
      request.add_streams(std::string(name));
    }
    for (absl::string_view type : absl::StrSplit(q["types"], ',', absl::SkipEmpty())) {
      v1::Event::Type t;
      if (!v1::Event::Type_Parse(std::string(type), &t)) {
        return Error(absl::InvalidArgumentError(absl::StrCat("types: unknown event type ", type)));
      }
      request.add_types(t);
    }
    int64_t after = 0;
    const std::string last_id = req.Header("last-event-id");
    const std::string& after_text = last_id.empty() ? q["afterId"] : last_id;
    if (!after_text.empty() && (!absl::SimpleAtoi(after_text, &after) || after < 0)) {
      return Error(absl::InvalidArgumentError("afterId must be a non-negative event id"));
    }
    request.set_after_id(after);
    Session session = *s;
    return HttpResponse::EventStream([this, request, session](HttpStream& out) {
      const auto ctx = Context(session, CallKind::kStream);
      std::atomic<bool> done{false};
      std::thread keeper([&] {
        auto next_ping = std::chrono::steady_clock::now() + o_.ping_interval;
        while (!done) {
          if (out.WaitUntilClosed(std::chrono::milliseconds(200))) break;
          if (std::chrono::steady_clock::now() >= next_ping) {
            if (!out.Write(": ping\n\n")) break;
            next_ping = std::chrono::steady_clock::now() + o_.ping_interval;
          }
        }
        ctx->TryCancel();
      });
      out.Write(": watching\n\n");
      auto reader = ingest_.stub().WatchEvents(ctx.get(), request);
      v1::Event event;
      while (reader->Read(&event)) {
        if (!out.Write(SseEvent("event", ToConsoleJson(event), std::to_string(event.id())))) break;
      }
      grpc::Status st = reader->Finish();
      done = true;
      if (!st.ok() && st.error_code() != grpc::StatusCode::CANCELLED) {
        out.Write(SseError(FromGrpcStatus(st)));
      }
      keeper.join();
    });
  }

  // SSE of a stream's analysed frames, polled with IngestService.GetStreamFrame.
  HttpResponse LiveFrames(const HttpRequest& req) {
    absl::StatusOr<Session> s = Authenticate(req);
    if (!s.ok()) return Error(s.status());
    auto q = ParseQuery(req.query);
    const std::string stream = q["stream"];
    if (stream.empty()) return Error(absl::InvalidArgumentError("stream: required"));
    double max_fps = 5;
    if (!q["maxFps"].empty() &&
        (!absl::SimpleAtod(q["maxFps"], &max_fps) || !(max_fps > 0) || max_fps > 30)) {
      return Error(absl::InvalidArgumentError("maxFps must be in (0, 30]"));
    }
    Session session = *s;
    return HttpResponse::EventStream([this, stream, max_fps, session](HttpStream& out) {
      const auto period = std::chrono::milliseconds(static_cast<int>(1000 / max_fps));
      int64_t last = 0;
      std::string last_wait;
      auto last_write = std::chrono::steady_clock::now();
      out.Write(": frames\n\n");
      for (;;) {
        const auto started = std::chrono::steady_clock::now();
        v1::GetStreamFrameRequest request;
        request.set_stream(stream);
        request.set_after_sequence(last);
        request.set_wait_ms(1000);
        v1::GetStreamFrameResponse frame;
        const auto ctx = Context(session, CallKind::kControl);
        grpc::Status st = ingest_.stub().GetStreamFrame(ctx.get(), request, &frame);
        bool wrote = false;
        if (st.ok() && frame.sequence() > last) {
          last = frame.sequence();
          last_wait.clear();
          wrote = true;
          if (!out.Write(SseEvent("frame", ToConsoleJson(frame), std::to_string(last)))) return;
        } else if (!st.ok()) {
          absl::Status err = FromGrpcStatus(st);
          const bool transient = absl::IsFailedPrecondition(err) || absl::IsUnavailable(err) ||
                                 absl::IsDeadlineExceeded(err);
          if (!transient) {
            out.Write(SseError(err));
            return;
          }
          // No picture yet (connecting, or another replica holds it): say so once, keep trying.
          if (last_wait != err.message()) {
            last_wait = std::string(err.message());
            wrote = true;
            if (!out.Write(SseEvent("waiting", json{{"message", last_wait}}.dump()))) return;
          }
          if (out.WaitUntilClosed(std::chrono::seconds(1))) return;
        }
        const auto now = std::chrono::steady_clock::now();
        if (wrote) {
          last_write = now;
        } else if (now - last_write >= o_.ping_interval) {
          if (!out.Write(": ping\n\n")) return;
          last_write = now;
        }
        const auto spent = now - started;
        if (spent < period &&
            out.WaitUntilClosed(
                std::chrono::duration_cast<std::chrono::milliseconds>(period - spent))) {
          return;
        }
        if (out.WaitUntilClosed(std::chrono::milliseconds(0))) return;
      }
    });
  }

  HttpResponse Static(const HttpRequest& req) {
    if (req.method != "GET" && req.method != "HEAD") {
      return Error(absl::NotFoundError(absl::StrCat("no route ", req.method, " ", req.path)));
    }
    return ServeStatic(o_.web_dir, req.path);
  }

 private:
  // A call on behalf of the session: its own API key, the deadline of `kind`.
  std::unique_ptr<grpc::ClientContext> Context(const Session& s, CallKind kind) const {
    auto ctx = ingest_.Context(kind);
    ctx->AddMetadata("authorization", absl::StrCat("Bearer ", s.api_key));
    return ctx;
  }

  const ConsoleApiOptions o_;
  const clients::IngestClient ingest_;
};

}  // namespace

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

std::string ErrorJson(const absl::Status& status) {
  json metadata = json::object();
  for (const auto& [k, v] : ErrorMetadata(status)) metadata[k] = v;
  return json{{"error",
               {{"code", absl::StatusCodeToString(status.code())},
                {"message", std::string(status.message())},
                {"reason", ErrorReason(status)},
                {"metadata", metadata}}}}
      .dump();
}

void RegisterConsoleApi(HttpServer* http, const ConsoleApiOptions& options) {
  auto api = std::make_shared<Api>(options);
  auto route = [api](HttpResponse (Api::*f)(const HttpRequest&)) {
    return [api, f](const HttpRequest& req) { return ((*api).*f)(req); };
  };
  http->Handle("/login", route(&Api::Login));
  http->Handle("/api/session", route(&Api::SessionRoute));
  http->Handle("/api/services", route(&Api::Services));
  http->HandlePrefix("/api/rpc/", route(&Api::Rpc));
  http->Handle("/api/snapshot", route(&Api::Snapshot));
  http->Handle("/api/cost", route(&Api::Cost));
  http->Handle("/api/live/events", route(&Api::LiveEvents));
  http->Handle("/api/live/frames", route(&Api::LiveFrames));
  http->HandlePrefix("/api/", [](const HttpRequest& req) {
    return Error(absl::NotFoundError(absl::StrCat("no API route ", req.path)));
  });
  http->HandlePrefix("/", route(&Api::Static));
}

}  // namespace stratus::console
