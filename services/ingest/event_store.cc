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
std::string RejectedPath(const std::string& dir) { return dir + "/events.rejected.jsonl"; }

struct Spool {
  std::vector<v1::Event> events;  // in file order, uid set
  std::vector<std::string> bad;   // lines that do not parse (a torn last line, damage)
};

Spool ReadSpool(const std::string& path) {
  Spool out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto tab = line.find('\t');
    absl::StatusOr<v1::Event> e =
        tab == std::string::npos ? absl::DataLossError("no tab") : FromJson(line.substr(tab + 1));
    if (!e.ok() || tab == 0) {
      out.bad.push_back(std::move(line));
      continue;
    }
    e->set_uid(line.substr(0, tab));
    out.events.push_back(std::move(*e));
  }
  return out;
}

// Appends `data` to `path` and makes it durable: fdatasync, and an fsync of the folder when the
// file is new (so that its name survives a crash too).
absl::Status AppendDurably(const std::string& path, const std::string& data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("cannot open ", path));
  const bool created = ::lseek(fd, 0, SEEK_END) == 0;
  size_t written = 0;
  while (written < data.size()) {
    ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  bool ok = written == data.size() && ::fdatasync(fd) == 0;
  ::close(fd);
  if (ok && created) {
    int dir = ::open(fs::path(path).parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ok = dir >= 0 && ::fsync(dir) == 0;
    if (dir >= 0) ::close(dir);
  }
  if (!ok) {
    // A partial line (disk full) is left behind; it is moved aside when the spool is read.
    return absl::ResourceExhaustedError(absl::StrCat("cannot write to ", path));
  }
  return absl::OkStatus();
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
    pending += ReadSpool(p).events.size();
  }
  for (const auto& p : {FlushingPath(options.spool_dir), SpoolPath(options.spool_dir)}) {
    // A rewrite that a crash interrupted: the file it was to replace is still whole.
    fs::remove(p + ".trim", ec);
  }
  if (pending > 0) {
    store->spooling_ = true;
    store->SetSpooled(pending);
    SLOG(INFO) << "events waiting in the spool" << Kv("count", pending);
  }
  // A spool left larger than the bound (lowered since) is trimmed by the flush thread at once.
  store->over_limit_ = options.spool_max_bytes > 0 && store->SpoolBytes() > options.spool_max_bytes;
  store->flusher_ = std::thread([s = store.get()] { s->FlushLoop(); });
  store->writer_ = std::thread([s = store.get()] { s->WriteLoop(); });
  return store;
}

EventStore::EventStore(Database* db, Options options) : db_(db), options_(std::move(options)) {
  if (options_.metrics == nullptr) return;
  metrics::Registry& r = *options_.metrics;
  spool_gauge_ = &metrics::BuildGauge()
                      .Name("stratus_ingest_spool_events")
                      .Help("Events waiting in this replica's disk spool for the database.")
                      .Register(r)
                      .Add({});
  dropped_total_ = &metrics::BuildCounter()
                        .Name("stratus_ingest_spool_dropped_total")
                        .Help(
                            "Spooled events dropped, oldest first, to keep the spool within "
                            "--spool-max-bytes while the database was unreachable.")
                        .Register(r)
                        .Add({});
  spool_bytes_ = &metrics::BuildGauge()
                      .Name("stratus_ingest_spool_bytes")
                      .Help("Bytes this replica's disk spool takes.")
                      .Register(r)
                      .Add({});
  rejected_total_ = &metrics::BuildCounter()
                         .Name("stratus_ingest_spool_rejected_total")
                         .Help("Spool lines that did not parse, moved to events.rejected.jsonl.")
                         .Register(r)
                         .Add({});
  auto& writes = metrics::BuildCounter()
                     .Name("stratus_ingest_event_writes_total")
                     .Help(
                         "Events recorded: stored (in the database), spooled (on disk, the "
                         "database down or past the write deadline), failed (neither); fenced: "
                         "those the database then refused, produced after the stream's lease had "
                         "passed on.")
                     .Register(r);
  stored_total_ = &writes.Add({{"result", "stored"}});
  fenced_total_ = &writes.Add({{"result", "fenced"}});
  spooled_total_ = &writes.Add({{"result", "spooled"}});
  failed_total_ = &writes.Add({{"result", "failed"}});
}

EventStore::~EventStore() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    write_stop_ = true;
  }
  write_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void EventStore::SetSpooled(size_t n) {
  spooled_ = n;
  if (spool_gauge_ != nullptr) spool_gauge_->Set(static_cast<double>(n));
  if (spool_bytes_ != nullptr) spool_bytes_->Set(static_cast<double>(SpoolBytes()));
}

int64_t EventStore::SpoolBytes() const {
  int64_t total = 0;
  for (const auto& p : {FlushingPath(options_.spool_dir), SpoolPath(options_.spool_dir)}) {
    std::error_code ec;
    const uintmax_t size = fs::file_size(p, ec);
    if (!ec) total += static_cast<int64_t>(size);
  }
  return total;
}

void EventStore::WriteLoop() {
  std::unique_lock<std::mutex> lock(write_mu_);
  for (;;) {
    write_cv_.wait(lock, [this] { return write_stop_ || !writes_.empty(); });
    if (writes_.empty()) return;  // stopping, nothing left
    // Everything queued goes in one transaction; writes whose callers gave up are skipped
    // (they are in the spool).
    std::vector<std::shared_ptr<Write>> batch;
    while (!writes_.empty() && batch.size() < 500) {
      if (!writes_.front()->abandoned) batch.push_back(std::move(writes_.front()));
      writes_.pop_front();
    }
    lock.unlock();
    if (!batch.empty()) {
      std::vector<v1::Event> events;
      for (const auto& w : batch) events.push_back(w->event);
      absl::Status s = Insert(events);
      for (const auto& w : batch) w->done.set_value(s);
    }
    lock.lock();
  }
}

absl::Status EventStore::InsertWithDeadline(const v1::Event& event) {
  auto w = std::make_shared<Write>();
  w->event = event;
  std::future<absl::Status> done = w->done.get_future();
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    if (write_stop_) return absl::UnavailableError("the event store is closing");
    writes_.push_back(w);
  }
  write_cv_.notify_all();
  if (done.wait_for(options_.write_deadline) != std::future_status::ready) {
    // It may still commit later; the spooled copy then finds it there by its uid.
    w->abandoned = true;
    return absl::DeadlineExceededError(
        absl::StrCat("database write took over ", options_.write_deadline.count(), " ms"));
  }
  return done.get();
}

namespace {
// The advisory lock that orders event ids (any constant that no other lock of the database uses).
constexpr int64_t kEventIdLock = 0x5354524154455654;  // "STRATEVT"
}  // namespace

absl::Status EventStore::Insert(const std::vector<v1::Event>& events) {
  return db_->Transact([&](pqxx::work& tx) {
    tx.exec(absl::StrCat("SET LOCAL statement_timeout = ", options_.write_deadline.count()));
    // Ids in commit order: the sequence is drawn under a lock held until commit, shared by
    // every replica, so once a reader sees id N every smaller id is committed or never will
    // be, and After() cannot skip an event that commits late.
    tx.exec(absl::StrCat("SELECT pg_advisory_xact_lock(", kEventIdLock, ")"));
    for (const auto& e : events) {
      // Fenced: a newer lease of the stream had begun when the event happened, so its replica
      // should have stopped; the new owner reports the stream from then on.
      if (e.lease_epoch() != 0 &&
          tx.exec_params1("SELECT EXISTS (SELECT 1 FROM ingest_stream_epochs WHERE stream = $1 "
                          "AND epoch > $2 AND since <= to_timestamp($3::double precision / 1000))",
                          e.stream(), e.lease_epoch(), UnixMs(e.time()))[0]
              .as<bool>()) {
        SLOG(WARNING) << "event refused: produced under a lease that had passed on"
                      << Kv("stream", e.stream()) << Kv("epoch", e.lease_epoch())
                      << Kv("uid", e.uid());
        if (fenced_total_ != nullptr) fenced_total_->Increment();
        continue;
      }
      tx.exec_params(
          "INSERT INTO ingest_events (event_uid, stream, type, at, payload, lease_epoch) "
          "VALUES ($1, $2, $3, to_timestamp($4::double precision / 1000), $5::jsonb, $6) "
          "ON CONFLICT (event_uid) DO NOTHING",
          e.uid(), e.stream(), v1::Event::Type_Name(e.type()), UnixMs(e.time()), ToJson(e),
          e.lease_epoch());
    }
    return absl::OkStatus();
  });
}

absl::Status EventStore::AppendToSpool(const v1::Event& event) {
  absl::Status s = AppendDurably(SpoolPath(options_.spool_dir),
                                 absl::StrCat(event.uid(), "\t", ToJson(event), "\n"));
  if (!s.ok()) {
    if (failed_total_ != nullptr) failed_total_->Increment();
    return s;
  }
  SetSpooled(spooled_ + 1);
  if (spooled_total_ != nullptr) spooled_total_->Increment();
  if (options_.spool_max_bytes > 0 && !over_limit_ && SpoolBytes() > options_.spool_max_bytes) {
    over_limit_ = true;  // the flush thread drops the oldest events
    cv_.notify_all();
  }
  return absl::OkStatus();
}

absl::Status EventStore::Record(v1::Event event) {
  if (event.uid().empty()) event.set_uid(NewUid());
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (spooling_) return AppendToSpool(event);
  }
  absl::Status s = InsertWithDeadline(event);
  if (s.ok()) {
    if (stored_total_ != nullptr) stored_total_->Increment();
    return s;
  }
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
          SetSpooled(0);
          return absl::OkStatus();
        }
        std::error_code ec;
        fs::rename(spool, flushing, ec);
        if (ec) return absl::InternalError("cannot rotate the event spool");
      }
    }
    Spool read = ReadSpool(flushing);
    std::vector<v1::Event>& batch = read.events;
    // In chunks, each in its own transaction; a failure leaves the file for the next try, and
    // the chunks already committed are skipped then by their uids.
    for (size_t i = 0; i < batch.size(); i += 500) {
      std::vector<v1::Event> chunk(batch.begin() + i,
                                   batch.begin() + std::min(batch.size(), i + 500));
      if (auto s = Insert(chunk); !s.ok()) return s;
    }
    if (!read.bad.empty()) {
      // Kept for a person to look at; the file is removed only once they are safe there.
      std::string lines;
      for (const auto& l : read.bad) absl::StrAppend(&lines, l, "\n");
      if (auto s = AppendDurably(RejectedPath(options_.spool_dir), lines); !s.ok()) return s;
      rejected_ += read.bad.size();
      if (rejected_total_ != nullptr)
        rejected_total_->Increment(static_cast<double>(read.bad.size()));
      SLOG(ERROR) << "spool lines that do not parse moved aside" << Kv("count", read.bad.size())
                  << Kv("file", RejectedPath(options_.spool_dir));
    }
    std::error_code ec;
    fs::remove(flushing, ec);
    size_t n = batch.size();
    {
      std::lock_guard<std::mutex> lock(mu_);
      size_t before = spooled_.load();
      SetSpooled(before > n ? before - n : 0);
    }
    SLOG(INFO) << "spooled events written to the database" << Kv("count", n);
  }
}

absl::StatusOr<size_t> EventStore::EnforceSpoolLimit() {
  std::lock_guard<std::mutex> flush_lock(flush_mu_);
  std::lock_guard<std::mutex> lock(mu_);
  return TrimSpoolLocked();
}

absl::StatusOr<size_t> EventStore::TrimSpoolLocked() {
  over_limit_ = false;
  const int64_t max = options_.spool_max_bytes;
  const int64_t total = SpoolBytes();
  if (max <= 0 || total <= max) return 0;
  // Down to 90% of the bound, so that a full spool is not rewritten for every new event.
  int64_t excess = total - (max - max / 10);
  size_t dropped = 0;
  int64_t dropped_bytes = 0;
  absl::Status status;
  // Oldest first: the file being replayed, then the current one from its start.
  for (const auto& path : {FlushingPath(options_.spool_dir), SpoolPath(options_.spool_dir)}) {
    if (excess <= 0) break;
    std::error_code ec;
    const int64_t size = static_cast<int64_t>(fs::file_size(path, ec));
    if (ec) continue;
    std::ifstream in(path, std::ios::binary);
    std::string line;
    int64_t skipped = 0;
    size_t lines = 0;
    while (skipped < excess && std::getline(in, line)) {
      skipped += static_cast<int64_t>(line.size()) + 1;
      if (!line.empty()) ++lines;
    }
    if (skipped >= size || in.peek() == std::char_traits<char>::eof()) {
      in.close();
      fs::remove(path, ec);
    } else {
      // The rest goes to a new file that replaces this one once it is durable.
      const std::string tmp = path + ".trim";
      int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      bool ok = fd >= 0;
      std::vector<char> buf(1 << 20);
      while (ok && in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        const char* p = buf.data();
        size_t left = static_cast<size_t>(in.gcount());
        while (ok && left > 0) {
          ssize_t n = ::write(fd, p, left);
          ok = n > 0;
          if (ok) {
            p += n;
            left -= static_cast<size_t>(n);
          }
        }
      }
      ok = ok && ::fdatasync(fd) == 0;
      if (fd >= 0) ::close(fd);
      in.close();
      if (ok) fs::rename(tmp, path, ec);
      if (!ok || ec) {
        // Nothing of this file was dropped after all (disk full); tried again later.
        fs::remove(tmp, ec);
        status = absl::ResourceExhaustedError(absl::StrCat("cannot rewrite ", path));
        break;
      }
    }
    dropped += lines;
    excess -= skipped;
    dropped_bytes += skipped;
  }
  if (int dir = ::open(options_.spool_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
    (void)::fsync(dir);
    ::close(dir);
  }
  if (dropped > 0) {
    dropped_ += dropped;
    if (dropped_total_ != nullptr) dropped_total_->Increment(static_cast<double>(dropped));
    SLOG(ERROR) << "event spool over its bound; the oldest spooled events were dropped"
                << Kv("dropped", dropped) << Kv("bytes", dropped_bytes)
                << Kv("spool_max_bytes", max) << Kv("spool", options_.spool_dir);
  }
  const size_t before = spooled_.load();
  SetSpooled(before > dropped ? before - dropped : 0);
  if (!status.ok()) return status;
  return dropped;
}

void EventStore::FlushLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, options_.flush_interval, [this] { return stop_ || over_limit_; });
    if (stop_) continue;
    const bool trim = over_limit_;
    if (!spooling_ && !trim) continue;
    lock.unlock();
    if (trim) (void)EnforceSpoolLimit();
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
