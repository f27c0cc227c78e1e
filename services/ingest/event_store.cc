#include "services/ingest/event_store.h"

#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/logging.h"

namespace stratus::ingest {
namespace fs = std::filesystem;
namespace {

std::string NewUid() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return absl::StrCat(absl::Hex(rng(), absl::kZeroPad16), absl::Hex(rng(), absl::kZeroPad16));
}

std::string ToJson(const v1::Event& e) {
  std::string out;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(e, &out, opts);
  return out;
}

absl::StatusOr<v1::Event> FromJson(const std::string& json) {
  v1::Event e;
  auto s = google::protobuf::util::JsonStringToMessage(json, &e);
  if (!s.ok()) return absl::DataLossError(absl::StrCat("bad event json: ", s.ToString()));
  return e;
}

int64_t UnixMs(const google::protobuf::Timestamp& t) {
  return google::protobuf::util::TimeUtil::TimestampToMilliseconds(t);
}

std::string SpoolPath(const std::string& dir) { return dir + "/events.jsonl"; }
std::string FlushingPath(const std::string& dir) { return dir + "/events.flushing.jsonl"; }

absl::StatusOr<std::vector<std::pair<std::string, v1::Event>>> ReadSpool(const std::string& path) {
  std::vector<std::pair<std::string, v1::Event>> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    auto tab = line.find('\t');
    if (tab == std::string::npos) continue;  // a torn last line from a crash mid-append
    auto e = FromJson(line.substr(tab + 1));
    if (!e.ok()) continue;
    out.emplace_back(line.substr(0, tab), std::move(*e));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<EventStore>> EventStore::Create(Database* db,
                                                               const Options& options) {
  if (options.spool_dir.empty()) return absl::InvalidArgumentError("spool_dir is empty");
  std::error_code ec;
  fs::create_directories(options.spool_dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create spool folder ", options.spool_dir, ": ", ec.message()));
  }
  auto store = std::unique_ptr<EventStore>(new EventStore(db, options));
  // Events spooled by an earlier run of this replica are replayed first.
  size_t pending = 0;
  for (const auto& p : {FlushingPath(options.spool_dir), SpoolPath(options.spool_dir)}) {
    auto lines = ReadSpool(p);
    if (lines.ok()) pending += lines->size();
  }
  if (pending > 0) {
    store->spooling_ = true;
    store->spooled_ = pending;
    SLOG(INFO) << "events waiting in the spool" << Kv("count", pending);
  }
  store->flusher_ = std::thread([s = store.get()] { s->FlushLoop(); });
  return store;
}

EventStore::~EventStore() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
}

absl::Status EventStore::Insert(const std::vector<v1::Event>& events) {
  return db_->Transact([&](pqxx::work& tx) {
    for (const auto& e : events) {
      tx.exec_params(
          "INSERT INTO ingest_events (event_uid, stream, type, at, payload) "
          "VALUES ($1, $2, $3, to_timestamp($4::double precision / 1000), $5::jsonb) "
          "ON CONFLICT (event_uid) DO NOTHING",
          e.uid(), e.stream(), v1::Event::Type_Name(e.type()), UnixMs(e.time()), ToJson(e));
    }
    return absl::OkStatus();
  });
}

absl::Status EventStore::AppendToSpool(const v1::Event& event) {
  std::string line = absl::StrCat(event.uid(), "\t", ToJson(event), "\n");
  int fd = ::open(SpoolPath(options_.spool_dir).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                  0644);
  if (fd < 0) return absl::UnavailableError("cannot open the event spool");
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
            ::fdatasync(fd) == 0;
  ::close(fd);
  if (!ok) return absl::ResourceExhaustedError("cannot write to the event spool");
  spooled_++;
  return absl::OkStatus();
}

absl::Status EventStore::Record(v1::Event event) {
  if (event.uid().empty()) event.set_uid(NewUid());
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (spooling_) return AppendToSpool(event);
  }
  absl::Status s = Insert({event});
  if (s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  if (!spooling_) {
    SLOG(WARNING) << "database unavailable; spooling events to disk"
                  << Kv("spool", options_.spool_dir) << Kv("error", s.message());
  }
  spooling_ = true;
  cv_.notify_all();
  return AppendToSpool(event);
}

absl::Status EventStore::Flush() {
  std::lock_guard<std::mutex> flush_lock(flush_mu_);
  const std::string spool = SpoolPath(options_.spool_dir);
  const std::string flushing = FlushingPath(options_.spool_dir);
  for (;;) {
    {
      // Take the current spool aside; new events start a fresh one behind it.
      std::lock_guard<std::mutex> lock(mu_);
      if (!fs::exists(flushing)) {
        if (!fs::exists(spool)) {
          spooling_ = false;
          spooled_ = 0;
          return absl::OkStatus();
        }
        std::error_code ec;
        fs::rename(spool, flushing, ec);
        if (ec) return absl::InternalError("cannot rotate the event spool");
      }
    }
    auto events = ReadSpool(flushing);
    if (!events.ok()) return events.status();
    std::vector<v1::Event> batch;
    for (auto& [uid, e] : *events) {
      e.set_uid(uid);
      batch.push_back(std::move(e));
    }
    // In chunks, each in its own transaction; a failure leaves the file for the next try, and
    // the chunks already committed are skipped then by their uids.
    for (size_t i = 0; i < batch.size(); i += 500) {
      std::vector<v1::Event> chunk(batch.begin() + i,
                                   batch.begin() + std::min(batch.size(), i + 500));
      if (auto s = Insert(chunk); !s.ok()) return s;
    }
    std::error_code ec;
    fs::remove(flushing, ec);
    size_t n = batch.size();
    size_t before = spooled_.load();
    spooled_ = before > n ? before - n : 0;
    SLOG(INFO) << "spooled events written to the database" << Kv("count", n);
  }
}

void EventStore::FlushLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, options_.flush_interval);
    if (stop_ || !spooling_) continue;
    lock.unlock();
    (void)Flush();
    lock.lock();
  }
}

namespace {

std::string TypeList(const std::vector<v1::Event::Type>& types) {
  std::vector<std::string> names;
  for (auto t : types) names.push_back(v1::Event::Type_Name(t));
  return absl::StrJoin(names, ",");
}

}  // namespace

absl::StatusOr<std::pair<std::vector<v1::Event>, std::string>> EventStore::List(
    const Filter& filter, int page_size, const std::string& page_token, bool newest_first) {
  if (page_size <= 0) page_size = 100;
  page_size = std::min(page_size, 1000);
  int64_t cursor = 0;
  if (!page_token.empty() && (!absl::SimpleAtoi(page_token, &cursor) || cursor < 0)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid page_token '", page_token, "'"));
  }
  using Result = std::pair<std::vector<v1::Event>, std::string>;
  return db_->Query<Result>([&](pqxx::work& tx) -> absl::StatusOr<Result> {
    std::string sql = absl::StrCat(
        "SELECT id, payload::text FROM ingest_events WHERE ($1 = '' OR stream = $1) "
        "AND ($2 = '' OR type = ANY(string_to_array($2, ','))) "
        "AND ($3 = 0 OR at >= to_timestamp($3::double precision / 1000)) "
        "AND ($4 = 0 OR at < to_timestamp($4::double precision / 1000)) ",
        newest_first ? "AND ($5 = 0 OR id < $5) ORDER BY id DESC" : "AND id > $5 ORDER BY id",
        " LIMIT $6");
    auto rows = tx.exec_params(sql, filter.stream, TypeList(filter.types), filter.start_unix_ms,
                               filter.end_unix_ms, cursor, page_size + 1);
    Result result;
    for (const auto& row : rows) {
      if (static_cast<int>(result.first.size()) == page_size) {
        result.second = std::to_string(result.first.back().id());
        break;
      }
      auto e = FromJson(row[1].as<std::string>());
      if (!e.ok()) return e.status();
      e->set_id(row[0].as<int64_t>());
      result.first.push_back(std::move(*e));
    }
    return result;
  });
}

absl::StatusOr<std::vector<v1::Event>> EventStore::After(int64_t after_id, const Filter& filter,
                                                         int limit) {
  return db_->Query<std::vector<v1::Event>>(
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<v1::Event>> {
        auto rows = tx.exec_params(
            "SELECT id, payload::text FROM ingest_events WHERE id > $1 "
            "AND ($2 = '' OR stream = ANY(string_to_array($2, ','))) "
            "AND ($3 = '' OR type = ANY(string_to_array($3, ','))) ORDER BY id LIMIT $4",
            after_id, absl::StrJoin(filter.streams, ","), TypeList(filter.types), limit);
        std::vector<v1::Event> out;
        for (const auto& row : rows) {
          auto e = FromJson(row[1].as<std::string>());
          if (!e.ok()) return e.status();
          e->set_id(row[0].as<int64_t>());
          out.push_back(std::move(*e));
        }
        return out;
      });
}

absl::StatusOr<int64_t> EventStore::LastId() {
  return db_->Query<int64_t>([](pqxx::work& tx) -> absl::StatusOr<int64_t> {
    return tx.exec1("SELECT coalesce(max(id), 0) FROM ingest_events")[0].as<int64_t>();
  });
}

}  // namespace stratus::ingest
