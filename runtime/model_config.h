// The config.yaml of a model folder (contract: runtime/MODELS.md), parsed and validated.
#ifndef STRATUS_RUNTIME_MODEL_CONFIG_H_
#define STRATUS_RUNTIME_MODEL_CONFIG_H_

#include <array>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace stratus::runtime {

enum class ResizePolicy { kStretch, kLetterbox, kPadBottomRight, kPadCenter };
enum class Interpolation { kBilinear, kTfBilinear, kNearest };

struct InputSpec {
  int width = 0;
  int height = 0;
  ResizePolicy resize = ResizePolicy::kStretch;
  Interpolation interpolation = Interpolation::kBilinear;
  bool bgr = false;                       // color: bgr
  std::array<float, 3> mean = {0, 0, 0};  // 0..255 units, per model input channel
  std::array<float, 3> std = {1, 1, 1};
  float pad_value = 0;                    // letterbox default 114, others 0
};

struct ModelConfig {
  std::string name;
  std::string version;
  std::string task;
  std::string source;
  InputSpec input;
  std::string decoder_type;
  std::string decoder_yaml;  // the `decoder:` mapping re-emitted as YAML (for CreateDecoder)
  std::vector<std::string> labels;
};

// Known values of `task`.
const std::vector<std::string>& KnownTasks();

// Parses and validates a config. `folder` (the model folder's name) is used in messages and
// must equal `name`. Errors are InvalidArgument: "model '<folder>': config.yaml: <problem>".
absl::StatusOr<ModelConfig> ParseModelConfig(const std::string& yaml_text,
                                             const std::string& folder);

// Reads `<dir>/config.yaml` and parses it (NotFound if the file is missing).
absl::StatusOr<ModelConfig> LoadModelConfig(const std::string& dir);

}  // namespace stratus::runtime

#endif  // STRATUS_RUNTIME_MODEL_CONFIG_H_
