#include "runtime/model_repository.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace stratus::runtime {

namespace fs = std::filesystem;

const char* ModelStateName(ModelState s) {
  switch (s) {
    case ModelState::kReady:
      return "READY";
    case ModelState::kSkipped:
      return "SKIPPED";
    case ModelState::kFailed:
      break;
  }
  return "FAILED";
}

ModelRepository::~ModelRepository() = default;

absl::StatusOr<std::unique_ptr<ModelRepository>> ModelRepository::Load(
    const std::string& dir, const RuntimeOptions& options) {
  return Load(dir, {}, options);
}

absl::StatusOr<std::unique_ptr<ModelRepository>> ModelRepository::Load(
    const std::string& dir, const std::vector<std::string>& only, const RuntimeOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::NotFoundError(absl::StrCat("model repository ", dir, " is not a directory"));
  }
  std::vector<std::string> names;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if (n.empty() || n[0] == '.' || !e.is_directory(ec)) continue;
    if (!only.empty() && std::find(only.begin(), only.end(), n) == only.end()) continue;
    names.push_back(n);
  }
  if (ec) return absl::InternalError(absl::StrCat("listing ", dir, ": ", ec.message()));
  for (const std::string& n : only) {
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  }
  std::sort(names.begin(), names.end());

  auto repo = std::unique_ptr<ModelRepository>(new ModelRepository());
  repo->dir_ = dir;
  for (const std::string& n : names) {
    Entry entry;
    entry.info.name = n;
    const fs::path folder = fs::path(dir) / n;
    if (!fs::is_directory(folder, ec)) {
      entry.info.error = absl::StrCat("model '", n, "': not found in ", dir);
    } else {
      auto config = LoadModelConfig(folder.string());
      if (!config.ok() && !fs::exists(folder / "config.yaml", ec) &&
          !fs::exists(folder / "model.pt", ec)) {
        // Another component's data kept in the repository (e.g. the sentiment service's
        // language profiles), not a broken model: listed as skipped, not failed.
        entry.info.state = ModelState::kSkipped;
        entry.info.error =
            absl::StrCat("model '", n, "': not a model folder (no config.yaml or model.pt)");
        repo->entries_.push_back(std::move(entry));
        continue;
      }
      if (config.ok()) {
        entry.info.version = config->version;
        entry.info.task = config->task;
        entry.info.decoder = config->decoder_type;
      }
      if (config.ok() && config->task == "text_classification") {
        entry.info.state = ModelState::kSkipped;
        entry.info.error =
            absl::StrCat("model '", n, "': a text model, not served by the image runtime");
        repo->entries_.push_back(std::move(entry));
        continue;
      }
      auto model = Model::Load(folder.string(), options);
      if (model.ok()) {
        entry.info.state = ModelState::kReady;
        entry.info.device = (*model)->device();
        entry.info.layout = (*model)->layout();
        entry.info.load_ms = (*model)->load_ms();
        entry.model = std::move(*model);
      } else {
        entry.info.error = std::string(model.status().message());
      }
    }
    if (entry.info.state == ModelState::kFailed) {
      SLOG(ERROR) << "model failed to load" << Kv("model", n) << Kv("error", entry.info.error);
    }
    repo->entries_.push_back(std::move(entry));
  }
  return repo;
}

std::vector<ModelInfo> ModelRepository::List() const {
  std::vector<ModelInfo> out;
  for (const Entry& e : entries_) out.push_back(e.info);
  return out;
}

absl::StatusOr<const Model*> ModelRepository::Get(std::string_view name) const {
  for (const Entry& e : entries_) {
    if (e.info.name != name) continue;
    if (e.model) return e.model.get();
    return absl::FailedPreconditionError(e.info.error);
  }
  return absl::NotFoundError(absl::StrCat("no model '", std::string(name), "' in ", dir_));
}

bool ModelRepository::AllReady() const {
  return std::all_of(entries_.begin(), entries_.end(), [](const Entry& e) {
    return e.model != nullptr || e.info.state == ModelState::kSkipped;
  });
}

}  // namespace stratus::runtime
