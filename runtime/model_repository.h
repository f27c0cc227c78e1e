// The model repository: every sub-folder of a directory is a model (runtime/MODELS.md).
//
//   auto repo = ModelRepository::Load("/root/.cache/stratus/models", RuntimeOptions{});
//   for (const ModelInfo& m : (*repo)->List()) ...        // READY or FAILED with the reason
//   absl::StatusOr<const Model*> faces = (*repo)->Get("faces");
//
// A folder that fails (missing/inconsistent config, model.pt that does not load, unknown
// decoder, outputs the decoder does not expect) is listed as FAILED with its message and logged;
// the others load and serve. Folders whose name starts with '.' (importers' temporaries) are
// skipped.
//
// Thread safety: immutable after Load(); List()/Get() and the returned models may be used from
// any thread. Models live as long as the repository.
#ifndef STRATUS_RUNTIME_MODEL_REPOSITORY_H_
#define STRATUS_RUNTIME_MODEL_REPOSITORY_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/model.h"

namespace stratus::runtime {

// SKIPPED: a model the image runtime does not serve (text_classification: the sentiment
// service loads those itself); listed so that `stratus models` shows every folder.
enum class ModelState { kReady, kFailed, kSkipped };

struct ModelInfo {
  std::string name;      // folder name
  ModelState state = ModelState::kFailed;
  std::string error;     // FAILED: why (names the model and the problem)
  std::string version;   // from the config, when it parsed
  std::string task;
  std::string decoder;
  std::string device;    // READY: "cpu", "cuda:0"
  std::string layout;    // READY: "channels_last" / "nchw"
  double load_ms = 0;
};

const char* ModelStateName(ModelState s);  // "READY", "FAILED", "SKIPPED"

class ModelRepository {
 public:
  // Loads every model folder under `dir` (sorted by name). NotFound if `dir` does not exist or
  // is not a directory; per-model failures do not fail the call.
  static absl::StatusOr<std::unique_ptr<ModelRepository>> Load(const std::string& dir,
                                                               const RuntimeOptions& options);
  // Only these folders (names), for services that need a few models. A listed name without a
  // folder is reported as FAILED ("not found in <dir>").
  static absl::StatusOr<std::unique_ptr<ModelRepository>> Load(
      const std::string& dir, const std::vector<std::string>& only, const RuntimeOptions& options);

  ~ModelRepository();

  const std::string& dir() const { return dir_; }
  // Every model, READY or FAILED, sorted by name.
  std::vector<ModelInfo> List() const;
  // The READY model `name`; NotFound if there is no such folder, FailedPrecondition (carrying
  // the load error) if it FAILED.
  absl::StatusOr<const Model*> Get(std::string_view name) const;
  // True when every listed model is READY or SKIPPED (readiness for a service).
  bool AllReady() const;

 private:
  struct Entry {
    ModelInfo info;
    std::unique_ptr<Model> model;
  };
  ModelRepository() = default;
  std::string dir_;
  std::vector<Entry> entries_;
};

}  // namespace stratus::runtime

#endif  // STRATUS_RUNTIME_MODEL_REPOSITORY_H_
