#include "services/ingest/retention.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace stratus::ingest {
namespace fs = std::filesystem;

Retention::Retention(Database* db, EventStore* events, metrics::Registry* registry, Options options)
    : db_(db), events_(events), options_(std::move(options)) {
  auto& deleted = metrics::BuildCounter()
                      .Name("stratus_ingest_retention_deleted_total")
                      .Help(
                          "What retention deleted: events (rows older than --event-retention) "
                          "and snapshots (JPEGs past --snapshot-retention or over "
                          "--snapshot-max-bytes).")
                      .Register(*registry);
  events_deleted_ = &deleted.Add({{"what", "events"}});
  snapshots_deleted_ = &deleted.Add({{"what", "snapshots"}});
  snapshot_bytes_ =
      &metrics::BuildGauge()
           .Name("stratus_ingest_snapshot_bytes")
           .Help("Bytes the snapshot folder's JPEGs took after the last retention pass.")
           .Register(*registry)
           .Add({});
}

Retention::~Retention() { Stop(); }

std::chrono::system_clock::time_point Retention::Now() const {
  return options_.now ? options_.now() : std::chrono::system_clock::now();
}

void Retention::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stop_) return;
  thread_ = std::thread([this] { Loop(); });
}

void Retention::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Retention::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    auto pass = RunOnce();
    if (!pass.ok()) {
      SLOG(WARNING) << "retention pass failed; tried again next interval"
                    << Kv("error", pass.status().message());
    }
    lock.lock();
    cv_.wait_for(lock, std::max<std::chrono::seconds>(options_.interval, std::chrono::seconds(1)),
                 [this] { return stop_; });
  }
}

absl::StatusOr<Retention::Pass> Retention::RunOnce() {
  std::lock_guard<std::mutex> pass_lock(pass_mu_);
  Pass pass;
  absl::Status first;
  auto note = [&first](const absl::Status& s) {
    if (first.ok() && !s.ok()) first = s;
  };
  if (auto n = DeleteOldEvents(&pass.events_skipped, &pass.epochs_deleted); n.ok()) {
    pass.events_deleted = *n;
  } else {
    note(n.status());
  }
  if (auto n = TrimSnapshots(&pass.snapshot_bytes); n.ok()) {
    pass.snapshots_deleted = *n;
  } else {
    note(n.status());
  }
  if (events_ != nullptr) {
    if (auto n = events_->EnforceSpoolLimit(); n.ok()) {
      pass.spool_dropped = *n;
    } else {
      note(n.status());
    }
  }
  if (pass.events_deleted > 0 || pass.epochs_deleted > 0 || pass.snapshots_deleted > 0 ||
      pass.spool_dropped > 0) {
    SLOG(INFO) << "retention pass" << Kv("events_deleted", pass.events_deleted)
               << Kv("epochs_deleted", pass.epochs_deleted)
               << Kv("snapshots_deleted", pass.snapshots_deleted)
               << Kv("snapshot_bytes", pass.snapshot_bytes)
               << Kv("spool_dropped", pass.spool_dropped);
  }
  if (!first.ok()) return first;
  return pass;
}

absl::StatusOr<int64_t> Retention::DeleteOldEvents(bool* skipped, int64_t* epochs_deleted) {
  *skipped = false;
  if (epochs_deleted != nullptr) *epochs_deleted = 0;
  if (options_.event_retention.count() <= 0) return 0;
  const int64_t cutoff_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                (Now() - options_.event_retention).time_since_epoch())
                                .count();
  const int batch = std::max(1, options_.event_batch);
  int64_t total = 0;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) break;  // shutting down: the rest waits for the next start
    }
    bool locked = true;
    auto deleted = db_->Query<int64_t>([&](pqxx::work& tx) -> absl::StatusOr<int64_t> {
      tx.exec("SET LOCAL statement_timeout = 60000");
      // One replica at a time: the lock lasts until this batch commits; a replica that finds
      // it taken leaves the events to the one holding it.
      locked =
          tx.exec_params1("SELECT pg_try_advisory_xact_lock($1)", kRetentionLock)[0].as<bool>();
      if (!locked) return 0;
      auto r = tx.exec_params(
          "DELETE FROM ingest_events WHERE id IN (SELECT id FROM ingest_events "
          "WHERE at < to_timestamp($1::double precision / 1000) ORDER BY at LIMIT $2)",
          cutoff_ms, batch);
      return static_cast<int64_t>(r.affected_rows());
    });
    if (!deleted.ok()) return deleted.status();
    if (!locked) {
      if (total == 0) *skipped = true;
      break;
    }
    total += *deleted;
    events_deleted_->Increment(static_cast<double>(*deleted));
    if (*deleted < batch) break;
  }
  if (*skipped) return total;
  // Lease epochs that no event kept from now on needs: an older epoch, begun before the cutoff,
  // is superseded for the fencing check by the newest one begun before it.
  auto pruned = db_->Query<int64_t>([&](pqxx::work& tx) -> absl::StatusOr<int64_t> {
    tx.exec("SET LOCAL statement_timeout = 60000");
    if (!tx.exec_params1("SELECT pg_try_advisory_xact_lock($1)", kRetentionLock)[0].as<bool>()) {
      return 0;
    }
    auto r = tx.exec_params(
        "DELETE FROM ingest_stream_epochs e "
        "WHERE since < to_timestamp($1::double precision / 1000) AND EXISTS ("
        "  SELECT 1 FROM ingest_stream_epochs n WHERE n.stream = e.stream AND n.epoch > e.epoch "
        "  AND n.since < to_timestamp($1::double precision / 1000))",
        cutoff_ms);
    return static_cast<int64_t>(r.affected_rows());
  });
  if (!pruned.ok()) return pruned.status();
  if (epochs_deleted != nullptr) *epochs_deleted = *pruned;
  return total;
}

absl::StatusOr<int64_t> Retention::TrimSnapshots(int64_t* bytes_left) {
  *bytes_left = 0;
  if (options_.snapshot_dir.empty()) return 0;
  struct File {
    fs::path path;
    std::chrono::system_clock::time_point modified;
    int64_t size = 0;
  };
  std::vector<File> files;
  std::error_code ec;
  if (!fs::is_directory(options_.snapshot_dir, ec)) return 0;  // none written yet
  fs::recursive_directory_iterator it(options_.snapshot_dir,
                                      fs::directory_options::skip_permission_denied, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot list ", options_.snapshot_dir, ": ", ec.message()));
  }
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    // Only snapshots: regular files (not followed links) named *.jpg.
    if (it->symlink_status(ec).type() != fs::file_type::regular) continue;
    if (it->path().extension() != ".jpg") continue;
    std::error_code fec;
    const auto size = it->file_size(fec);
    const auto modified = it->last_write_time(fec);
    if (fec) continue;  // gone meanwhile
    files.push_back({it->path(),
                     std::chrono::time_point_cast<std::chrono::system_clock::duration>(
                         std::chrono::file_clock::to_sys(modified)),
                     static_cast<int64_t>(size)});
  }
  std::sort(files.begin(), files.end(),
            [](const File& a, const File& b) { return a.modified < b.modified; });
  int64_t total = 0;
  for (const auto& f : files) total += f.size;
  const bool by_age = options_.snapshot_retention.count() > 0;
  const auto cutoff = Now() - options_.snapshot_retention;
  int64_t deleted = 0;
  for (const auto& f : files) {
    const bool too_old = by_age && f.modified < cutoff;
    const bool too_much = options_.snapshot_max_bytes > 0 && total > options_.snapshot_max_bytes;
    if (!too_old && !too_much) break;  // oldest first: the rest are newer and fit
    std::error_code rec;
    if (fs::remove(f.path, rec)) {
      ++deleted;
      snapshots_deleted_->Increment();
    }
    // Gone either way, unless it could not be removed (then it still counts).
    if (!rec) total -= f.size;
  }
  *bytes_left = total;
  snapshot_bytes_->Set(static_cast<double>(total));
  return deleted;
}

}  // namespace stratus::ingest
