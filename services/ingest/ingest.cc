#include "services/ingest/ingest.h"

#include <google/protobuf/util/json_util.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_channel.h"
#include "common/logging.h"
#include "common/path_root.h"

namespace stratus::ingest {

absl::Status ValidateStreamConfig(const v1::StreamConfig& c) {
  static const std::regex kName("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$");
  if (!std::regex_match(c.name(), kName)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "name '", c.name(), "' must be 1-64 characters of letters, digits, '.', '_' or '-'"));
  }
  if (auto uri = ParseSourceUri(c.uri()); !uri.ok()) return uri.status();
  if (c.sample_fps() < 0 || c.sample_fps() > 60) {
    return absl::InvalidArgumentError("sample_fps must be between 0 and 60");
  }
  if (c.sample_every_n_frames() < 0) {
    return absl::InvalidArgumentError("sample_every_n_frames must not be negative");
  }
  if (c.min_confidence() < 0 || c.min_confidence() > 1) {
    return absl::InvalidArgumentError("min_confidence must be between 0 and 1");
  }
  for (int a : c.analyses()) {
    if (a == v1::StreamConfig::ANALYSIS_UNSPECIFIED) {
      return absl::InvalidArgumentError("analyses holds ANALYSIS_UNSPECIFIED");
    }
    if (a == v1::StreamConfig::FACE_SEARCH && c.collection_id().empty()) {
      return absl::InvalidArgumentError("FACE_SEARCH needs collection_id");
    }
  }
  return absl::OkStatus();
}

Ingest::Ingest(Database* db, metrics::Registry* registry, Options options)
    : db_(db),
      registry_(registry),
      options_(std::move(options)),
      leases_(db, {options_.replica_id, options_.lease}) {
  streams_gauge_ = &metrics::BuildGauge()
                        .Name("stratus_ingest_streams")
                        .Help("Streams this replica runs.")
                        .Register(*registry)
                        .Add({});
  spool_gauge_ = &metrics::BuildGauge()
                      .Name("stratus_ingest_spooled_events")
                      .Help("Events waiting in this replica's disk spool for PostgreSQL.")
                      .Register(*registry)
                      .Add({});
  auto& leases =
      metrics::BuildCounter()
          .Name("stratus_ingest_lease_changes_total")
          .Help("Streams this replica started or stopped running (lease taken, lost, given back).")
          .Register(*registry);
  leases_taken_ = &leases.Add({{"change", "taken"}});
  leases_released_ = &leases.Add({{"change", "released"}});
  fenced_ = &leases.Add({{"change", "fenced"}});
}

absl::StatusOr<std::unique_ptr<Ingest>> Ingest::Create(Database* db, metrics::Registry* registry,
                                                       const Options& options) {
  if (options.replica_id.empty()) return absl::InvalidArgumentError("replica_id is empty");
  if (options.lease.count() < 1) return absl::InvalidArgumentError("lease must be >= 1 s");
  auto ingest = std::unique_ptr<Ingest>(new Ingest(db, registry, options));
  auto sources = SourcePolicy::Create(options.sources);
  if (!sources.ok()) return sources.status();
  ingest->sources_ = std::move(*sources);
  ingest->deps_.sources = ingest->sources_.get();
  auto events = EventStore::Create(db, {.spool_dir = options.spool_dir,
                                        .spool_max_bytes = options.spool_max_bytes,
                                        .metrics = registry});
  if (!events.ok()) return events.status();
  ingest->events_ = std::move(*events);
  ingest->deps_.events = ingest->events_.get();
  // round_robin over every address a target resolves to (a headless Service's ready pods),
  // UNAVAILABLE retries, keepalive on the long-lived streams: common/grpc_channel.h.
  ingest->deps_.detector = stratus::MakeChannel(options.detector_address);
  if (!options.mask_address.empty()) {
    ingest->deps_.mask = stratus::MakeChannel(options.mask_address);
  }
  if (!options.recognition_address.empty()) {
    ingest->deps_.recognition = stratus::MakeChannel(options.recognition_address);
  }
  ingest->deps_.metrics = registry;
  ingest->deps_.replica = options.replica_id;
  if (!options.snapshot_dir.empty()) {
    // Absolute, so that events' snapshot_refs are file:///... URIs that name the file wherever
    // they are read (a relative folder would give "file://var/...").
    std::error_code ec;
    std::filesystem::path dir = std::filesystem::absolute(options.snapshot_dir, ec);
    if (ec) {
      return absl::InvalidArgumentError(absl::StrCat("snapshot_dir '", options.snapshot_dir,
                                                     "' cannot be made absolute: ", ec.message()));
    }
    ingest->options_.snapshot_dir = dir.lexically_normal().string();
  }
  ingest->deps_.snapshot_dir = ingest->options_.snapshot_dir;
  Retention::Options retention = options.retention;
  retention.snapshot_dir = ingest->options_.snapshot_dir;
  ingest->retention_ =
      std::make_unique<Retention>(db, ingest->events_.get(), registry, std::move(retention));
  if (!options.mqtt_url.empty()) {
    auto mqtt = MqttPublisher::Create({.url = options.mqtt_url,
                                       .client_id = "stratus-ingest-" + options.replica_id,
                                       .topic_prefix = options.mqtt_topic_prefix},
                                      registry);
    if (!mqtt.ok()) return mqtt.status();
    ingest->mqtt_ = std::move(*mqtt);
    ingest->deps_.mqtt = ingest->mqtt_.get();
  }
  return ingest;
}

Ingest::~Ingest() { Stop(); }

void Ingest::Start() {
  loop_ = std::thread([this] { Loop(); });
  fence_ = std::thread([this] { FenceLoop(); });
  retention_->Start();
}

void Ingest::Stop(bool release_leases) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (retention_) retention_->Stop();
  if (loop_.joinable()) loop_.join();
  if (fence_.joinable()) fence_.join();
  std::map<std::string, std::shared_ptr<StreamWorker>> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    workers.swap(workers_);
  }
  for (auto& [name, w] : workers) w->Stop();
  if (!release_leases) return;
  if (auto s = leases_.ReleaseAll(); !s.ok()) {
    SLOG(WARNING) << "could not give leases back; they expire by themselves"
                  << Kv("error", s.message());
  }
}

void Ingest::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    if (auto s = Reconcile(); !s.ok()) {
      SLOG(WARNING) << "lease round failed; streams keep running" << Kv("error", s.message());
    }
    lock.lock();
    cv_.wait_for(lock, options_.lease / 3, [this] { return stop_ || kick_; });
    kick_ = false;
  }
}

void Ingest::FenceLoop() {
  // Alone at the last round: nobody else could take the streams, so they keep running through
  // an outage (the spool keeps their events; a replica that starts meanwhile takes the streams
  // only once the leases have expired, and the epoch check then refuses what came after).
  // Stop with a margin of a third of the lease: rounds run every third, so one round that
  // fails (or hangs until its statement timeout) is tolerated, two are not.
  const auto fence_after = options_.lease * 2 / 3;
  const auto period = std::max<std::chrono::milliseconds>(
      std::chrono::milliseconds(20),
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.lease) / 20);
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, period, [this] { return stop_; });
    if (stop_ || workers_.empty() || !has_peers_) continue;
    if (std::chrono::steady_clock::now() - renewed_at_ < fence_after) continue;
    std::map<std::string, std::shared_ptr<StreamWorker>> fenced;
    fenced.swap(workers_);
    streams_gauge_->Set(0);
    lock.unlock();
    SLOG(WARNING) << "leases not renewed in time; stopping every stream before they can expire"
                  << Kv("streams", fenced.size());
    fenced_->Increment(static_cast<double>(fenced.size()));
    for (auto& [name, w] : fenced) w->Stop();
    fenced.clear();
    lock.lock();
  }
}

absl::Status Ingest::Reconcile() {
  std::lock_guard<std::mutex> reconcile_lock(reconcile_mu_);
  spool_gauge_->Set(static_cast<double>(events_->spooled()));
  const auto round_began = std::chrono::steady_clock::now();
  auto round = leases_.Tick();
  if (!round.ok()) return round.status();
  const std::map<std::string, LeaseManager::Lease>* held = &round->held;
  auto current = [](const StreamWorker& w, const LeaseManager::Lease& lease) {
    return lease.epoch == w.lease_epoch() &&
           lease.config.SerializeAsString() == w.config().SerializeAsString();
  };
  // Each worker this round starts gets a first block of track ids, reserved under its lease
  // before the worker exists (outside mu_: these are database calls).
  std::map<std::string, std::shared_ptr<TrackIds>> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return absl::OkStatus();
    // Renewed now, before the reservations below (which a slow database may hold up).
    renewed_at_ = round_began;
    has_peers_ = round->live_replicas > 1;
    for (const auto& [name, lease] : *held) {
      auto it = workers_.find(name);
      if (it == workers_.end() || !current(*it->second, lease)) ids[name] = nullptr;
    }
  }
  for (auto& [name, slot] : ids) {
    auto t = std::make_shared<TrackIds>(db_, name, options_.replica_id, held->at(name).epoch);
    if (auto s = t->Reserve(); !s.ok()) {
      SLOG(WARNING) << "cannot reserve track ids; the stream starts on a later round"
                    << Kv("stream", name) << Kv("error", s.message());
      continue;
    }
    slot = std::move(t);
  }
  std::vector<std::shared_ptr<StreamWorker>> to_stop;
  std::vector<StreamWorker*> to_start;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return absl::OkStatus();
    for (auto it = workers_.begin(); it != workers_.end();) {
      auto h = held->find(it->first);
      if (h == held->end() || !current(*it->second, h->second)) {
        SLOG(INFO) << "stream released" << Kv("stream", it->first);
        leases_released_->Increment();
        to_stop.push_back(std::move(it->second));
        it = workers_.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& [name, lease] : *held) {
      if (workers_.count(name)) continue;
      auto reserved = ids.find(name);
      if (reserved == ids.end() || reserved->second == nullptr) continue;  // a later round
      SLOG(INFO) << "stream taken" << Kv("stream", name) << Kv("replica", options_.replica_id)
                 << Kv("epoch", lease.epoch);
      leases_taken_->Increment();
      WorkerDeps deps = deps_;
      deps.lease_epoch = lease.epoch;
      deps.track_ids = reserved->second;
      auto w = std::make_shared<StreamWorker>(lease.config, deps, options_.worker);
      to_start.push_back(w.get());
      workers_[name] = std::move(w);
    }
    streams_gauge_->Set(static_cast<double>(workers_.size()));
  }
  for (auto& w : to_stop) w->Stop();
  {
    // Started only once the workers they replace have stopped, and only if the fence has not
    // taken them away meanwhile.
    std::lock_guard<std::mutex> lock(mu_);
    for (auto* w : to_start) {
      for (const auto& [name, live] : workers_) {
        if (live.get() == w) {
          w->Start();
          break;
        }
      }
    }
  }
  std::map<std::string, v1::StreamStatus> statuses;
  std::vector<std::shared_ptr<TrackIds>> low;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [name, w] : workers_) {
      statuses[name] = w->status();
      if (w->track_ids() && w->track_ids()->Low()) low.push_back(w->track_ids());
    }
  }
  // Track ids topped up ahead of need, so that trackers never wait for the database.
  for (const auto& t : low) {
    if (auto s = t->Reserve(); !s.ok()) {
      SLOG(WARNING) << "cannot reserve more track ids" << Kv("stream", t->stream())
                    << Kv("error", s.message());
    }
  }
  return leases_.PublishStatus(statuses);
}

std::vector<std::string> Ingest::RunningStreams() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> names;
  for (const auto& [name, w] : workers_) names.push_back(name);
  return names;
}

absl::StatusOr<v1::StreamStatus> Ingest::AddStream(const v1::StreamConfig& config, bool replace) {
  if (auto s = ValidateStreamConfig(config); !s.ok()) return s;
  if (auto s = sources_->Check(config.uri()); !s.ok()) return s.status();
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(config, &json);
  absl::Status s = db_->Transact([&](pqxx::work& tx) -> absl::Status {
    if (replace) {
      tx.exec_params(
          "INSERT INTO ingest_streams (name, config) VALUES ($1, $2::jsonb) "
          "ON CONFLICT (name) DO UPDATE SET config = EXCLUDED.config, status = NULL",
          config.name(), json);
      return absl::OkStatus();
    }
    auto r = tx.exec_params(
        "INSERT INTO ingest_streams (name, config) VALUES ($1, $2::jsonb) "
        "ON CONFLICT (name) DO NOTHING RETURNING name",
        config.name(), json);
    if (r.empty()) {
      return absl::AlreadyExistsError(
          absl::StrCat("stream '", config.name(), "' exists; set replace to change it"));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    kick_ = true;
  }
  cv_.notify_all();
  v1::StreamStatus status;
  *status.mutable_config() = config;
  status.set_state(v1::StreamStatus::PENDING);
  return status;
}

absl::Status Ingest::RemoveStream(const std::string& name) {
  absl::Status s = db_->Transact([&](pqxx::work& tx) -> absl::Status {
    auto r = tx.exec_params("DELETE FROM ingest_streams WHERE name = $1 RETURNING name", name);
    if (r.empty()) return absl::NotFoundError(absl::StrCat("no stream named '", name, "'"));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    kick_ = true;
  }
  cv_.notify_all();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::StreamStatus>> Ingest::ListStreams() {
  using Result = std::vector<v1::StreamStatus>;
  auto stored = db_->Query<Result>([&](pqxx::work& tx) -> absl::StatusOr<Result> {
    Result out;
    auto rows = tx.exec(
        "SELECT name, config::text, status::text, owner, lease_until > now() "
        "FROM ingest_streams ORDER BY name");
    for (const auto& row : rows) {
      v1::StreamStatus st;
      if (!row[2].is_null()) {
        (void)google::protobuf::util::JsonStringToMessage(row[2].as<std::string>(), &st);
      }
      v1::StreamConfig config;
      (void)google::protobuf::util::JsonStringToMessage(row[1].as<std::string>(), &config);
      *st.mutable_config() = config;
      bool live = !row[4].is_null() && row[4].as<bool>();
      st.set_owner(row[3].is_null() || !live ? "" : row[3].as<std::string>());
      if (st.owner().empty()) st.set_state(v1::StreamStatus::PENDING);
      out.push_back(std::move(st));
    }
    return out;
  });
  if (!stored.ok()) return stored;
  // This replica's own streams: fresher than what it last published.
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& st : *stored) {
    auto it = workers_.find(st.config().name());
    if (it != workers_.end()) st = it->second->status();
  }
  return stored;
}

absl::StatusOr<std::shared_ptr<StreamWorker>> Ingest::HeldWorker(const std::string& stream) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = workers_.find(stream);
    if (it != workers_.end()) return it->second;
  }
  // Not here: the table says whether it exists and who holds it.
  struct Holder {
    bool exists = false;
    std::string owner;  // empty: no live lease
  };
  auto holder = db_->Query<Holder>([&](pqxx::work& tx) -> absl::StatusOr<Holder> {
    auto rows = tx.exec_params(
        "SELECT owner, lease_until > now() FROM ingest_streams WHERE name = $1", stream);
    Holder h;
    if (rows.empty()) return h;
    h.exists = true;
    const auto& row = rows[0];
    if (!row[0].is_null() && !row[1].is_null() && row[1].as<bool>()) {
      h.owner = row[0].as<std::string>();
    }
    return h;
  });
  if (!holder.ok()) return holder.status();
  if (!holder->exists) return absl::NotFoundError(absl::StrCat("no stream named '", stream, "'"));
  if (holder->owner.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("stream '", stream, "' is not held by any replica yet; try again shortly"));
  }
  if (holder->owner == options_.replica_id) {
    return absl::FailedPreconditionError(
        absl::StrCat("stream '", stream, "' is held by this replica ('", options_.replica_id,
                     "') but not running right now (starting, or stopped until its lease is "
                     "renewed); try again shortly"));
  }
  return absl::FailedPreconditionError(
      absl::StrCat("stream '", stream, "' is held by replica '", holder->owner,
                   "'; only that replica has its frames (this is '", options_.replica_id, "')"));
}

absl::StatusOr<StreamWorker::LatestFrame> Ingest::GetFrame(const std::string& stream,
                                                           int64_t after_sequence,
                                                           std::chrono::milliseconds wait,
                                                           const std::function<bool()>& cancelled) {
  if (stream.empty()) return absl::InvalidArgumentError("stream is empty");
  if (wait.count() < 0 || wait > kMaxFrameWait) {
    return absl::InvalidArgumentError(
        absl::StrCat("wait_ms must be between 0 and ", kMaxFrameWait.count()));
  }
  const auto deadline = std::chrono::steady_clock::now() + wait;
  std::optional<StreamWorker::LatestFrame> frame;
  while (true) {
    // Looked up again on every slice: the worker may have been replaced (config changed) or
    // stopped (lease lost) meanwhile.
    auto worker = HeldWorker(stream);
    if (!worker.ok()) {
      if (frame) return *std::move(frame);  // what it had before it went
      return worker.status();
    }
    const auto now = std::chrono::steady_clock::now();
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::max(deadline - now, std::chrono::steady_clock::duration::zero()));
    frame = (*worker)->WaitForFrame(after_sequence, std::min(left, std::chrono::milliseconds(100)));
    if (frame && frame->sequence > after_sequence) break;
    if (std::chrono::steady_clock::now() >= deadline || (*worker)->stopped() ||
        (cancelled && cancelled())) {
      break;
    }
  }
  if (!frame) {
    return absl::FailedPreconditionError(
        absl::StrCat("stream '", stream, "' has no analysed frame yet"));
  }
  return *std::move(frame);
}

absl::StatusOr<std::string> Ingest::ReadSnapshot(const std::string& snapshot_ref) {
  namespace fs = std::filesystem;
  if (options_.snapshot_dir.empty()) {
    return absl::FailedPreconditionError("this replica keeps no snapshots");
  }
  constexpr absl::string_view kScheme = "file://";
  if (!absl::StartsWith(snapshot_ref, kScheme)) {
    return absl::InvalidArgumentError("snapshot_ref must be a file:// reference");
  }
  // Replicas that were given a relative snapshot folder before it was made absolute wrote
  // "file://var/..." refs: relative paths resolve against the working directory, as they were
  // written, and the folder check below applies to them all the same.
  const std::string path = snapshot_ref.substr(kScheme.size());
  if (path.empty()) return absl::InvalidArgumentError("snapshot_ref names no file");
  auto resolved = ResolveUnderRoot(path, options_.snapshot_dir);
  if (!resolved.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("snapshot_ref is outside the snapshot folder: ", resolved.status().message()));
  }
  std::error_code ec;
  const fs::file_status st = fs::status(*resolved, ec);
  if (!fs::exists(st)) {
    return absl::NotFoundError(absl::StrCat("snapshot '", snapshot_ref, "' is gone"));
  }
  if (!fs::is_regular_file(st)) {
    return absl::InvalidArgumentError(absl::StrCat("snapshot '", snapshot_ref, "' is not a file"));
  }
  const uintmax_t size = fs::file_size(*resolved, ec);
  if (!ec && size > static_cast<uintmax_t>(kMaxSnapshotBytes)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "snapshot '", snapshot_ref, "' is larger than ", kMaxSnapshotBytes >> 20, " MiB"));
  }
  std::ifstream in(*resolved, std::ios::binary);
  if (ec || !in) return absl::NotFoundError(absl::StrCat("snapshot '", snapshot_ref, "' is gone"));
  // Never more than the limit, should the file have grown since.
  std::string jpeg(static_cast<size_t>(size), '\0');
  in.read(jpeg.data(), static_cast<std::streamsize>(jpeg.size()));
  jpeg.resize(static_cast<size_t>(in.gcount()));
  if (jpeg.size() < 3 || static_cast<unsigned char>(jpeg[0]) != 0xFF ||
      static_cast<unsigned char>(jpeg[1]) != 0xD8) {
    return absl::FailedPreconditionError(
        absl::StrCat("snapshot '", snapshot_ref, "' is not a JPEG"));
  }
  return jpeg;
}

}  // namespace stratus::ingest
