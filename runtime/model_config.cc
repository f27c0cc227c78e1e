#include "runtime/model_config.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"

namespace stratus::runtime {
namespace {

class Parser {
 public:
  explicit Parser(const std::string& folder) : folder_(folder) {}

  absl::Status Error(const std::string& msg) const {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", folder_, "': config.yaml: ", msg));
  }

  template <typename T>
  absl::Status Get(const YAML::Node& parent, const std::string& key, const std::string& path,
                   bool required, T& out) const {
    const YAML::Node n = parent[key];
    if (!n || n.IsNull()) {
      return required ? Error(absl::StrCat("missing '", path, "'")) : absl::OkStatus();
    }
    try {
      out = n.as<T>();
    } catch (const YAML::Exception&) {
      return Error(absl::StrCat("'", path, "' has the wrong type"));
    }
    return absl::OkStatus();
  }

  absl::Status Triple(const YAML::Node& parent, const std::string& key, const std::string& path,
                      std::array<float, 3>& out) const {
    const YAML::Node n = parent[key];
    if (!n || n.IsNull()) return absl::OkStatus();
    std::vector<float> v;
    try {
      if (n.IsScalar()) {
        v.assign(3, n.as<float>());
      } else {
        v = n.as<std::vector<float>>();
      }
    } catch (const YAML::Exception&) {
      return Error(absl::StrCat("'", path, "' must be a number or a list of 3 numbers"));
    }
    if (v.size() != 3) {
      return Error(absl::StrCat("'", path, "' must have 3 values (one per channel), has ",
                                v.size()));
    }
    for (int i = 0; i < 3; ++i) out[i] = v[i];
    return absl::OkStatus();
  }

 private:
  std::string folder_;
};

}  // namespace

const std::vector<std::string>& KnownTasks() {
  static const auto* tasks = new std::vector<std::string>{
      "object_detection", "face_detection",  "face_landmarks",       "face_embedding",
      "face_age_gender",  "face_expression", "image_classification", "text_classification"};
  return *tasks;
}

absl::StatusOr<ModelConfig> ParseModelConfig(const std::string& yaml_text,
                                             const std::string& folder) {
  Parser p(folder);
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return p.Error(absl::StrCat("not valid YAML: ", e.what()));
  }
  if (!root.IsMap()) return p.Error("expected a mapping at the top level");

  ModelConfig c;
  STRATUS_RETURN_IF_ERROR(p.Get(root, "name", "name", true, c.name));
  if (c.name != folder) {
    return p.Error(absl::StrCat("name '", c.name, "' does not match the folder name '", folder,
                                "'"));
  }
  STRATUS_RETURN_IF_ERROR(p.Get(root, "version", "version", false, c.version));
  STRATUS_RETURN_IF_ERROR(p.Get(root, "task", "task", true, c.task));
  if (std::find(KnownTasks().begin(), KnownTasks().end(), c.task) == KnownTasks().end()) {
    return p.Error(absl::StrCat("unknown task '", c.task, "' (known: ",
                                absl::StrJoin(KnownTasks(), ", "), ")"));
  }
  STRATUS_RETURN_IF_ERROR(p.Get(root, "source", "source", false, c.source));
  STRATUS_RETURN_IF_ERROR(p.Get(root, "labels", "labels", false, c.labels));

  const YAML::Node input = root["input"];
  if (c.task != "text_classification") {
    if (!input || !input.IsMap()) return p.Error("missing 'input' (a mapping)");
    InputSpec& in = c.input;
    STRATUS_RETURN_IF_ERROR(p.Get(input, "width", "input.width", true, in.width));
    STRATUS_RETURN_IF_ERROR(p.Get(input, "height", "input.height", true, in.height));
    if (in.width <= 0 || in.height <= 0 || in.width > 8192 || in.height > 8192) {
      return p.Error(absl::StrCat("input size ", in.width, "x", in.height,
                                  " out of range (1..8192)"));
    }
    std::string resize = "stretch", interp = "bilinear", color = "rgb";
    STRATUS_RETURN_IF_ERROR(p.Get(input, "resize", "input.resize", false, resize));
    STRATUS_RETURN_IF_ERROR(p.Get(input, "interpolation", "input.interpolation", false, interp));
    STRATUS_RETURN_IF_ERROR(p.Get(input, "color", "input.color", false, color));
    if (resize == "stretch") {
      in.resize = ResizePolicy::kStretch;
    } else if (resize == "letterbox") {
      in.resize = ResizePolicy::kLetterbox;
      in.pad_value = 114;
    } else if (resize == "pad_bottom_right") {
      in.resize = ResizePolicy::kPadBottomRight;
    } else if (resize == "pad_center") {
      in.resize = ResizePolicy::kPadCenter;
    } else {
      return p.Error(absl::StrCat("input.resize '", resize,
                                  "' unknown (stretch, letterbox, pad_bottom_right, pad_center)"));
    }
    if (interp == "bilinear") {
      in.interpolation = Interpolation::kBilinear;
    } else if (interp == "tf_bilinear") {
      in.interpolation = Interpolation::kTfBilinear;
    } else if (interp == "nearest") {
      in.interpolation = Interpolation::kNearest;
    } else {
      return p.Error(absl::StrCat("input.interpolation '", interp,
                                  "' unknown (bilinear, tf_bilinear, nearest)"));
    }
    if (color == "rgb") {
      in.bgr = false;
    } else if (color == "bgr") {
      in.bgr = true;
    } else {
      return p.Error(absl::StrCat("input.color '", color, "' unknown (rgb, bgr)"));
    }
    STRATUS_RETURN_IF_ERROR(p.Triple(input, "mean", "input.mean", in.mean));
    STRATUS_RETURN_IF_ERROR(p.Triple(input, "std", "input.std", in.std));
    for (float s : in.std) {
      if (!(s > 0)) return p.Error("input.std values must be > 0");
    }
    STRATUS_RETURN_IF_ERROR(p.Get(input, "pad_value", "input.pad_value", false, in.pad_value));
  }

  const YAML::Node decoder = root["decoder"];
  if (!decoder) return p.Error("missing 'decoder'");
  if (decoder.IsScalar()) {
    c.decoder_type = decoder.as<std::string>();
    c.decoder_yaml = absl::StrCat("{type: ", c.decoder_type, "}");
  } else if (decoder.IsMap()) {
    STRATUS_RETURN_IF_ERROR(p.Get(decoder, "type", "decoder.type", true, c.decoder_type));
    YAML::Emitter e;
    e << YAML::Flow << decoder;
    c.decoder_yaml = e.c_str();
  } else {
    return p.Error("'decoder' must be a mapping with a 'type'");
  }
  // Labels a task needs.
  if ((c.task == "face_expression" || c.task == "image_classification") && c.labels.empty()) {
    return p.Error(absl::StrCat("task ", c.task, " needs 'labels'"));
  }
  if (c.decoder_type == "age_gender" && c.labels.size() != 2) {
    return p.Error("decoder age_gender needs 'labels' with the 2 genders in output order");
  }
  return c;
}

absl::StatusOr<ModelConfig> LoadModelConfig(const std::string& dir) {
  std::filesystem::path d = std::filesystem::path(dir).lexically_normal();
  if (d.filename().empty()) d = d.parent_path();  // "dir/" -> "dir"
  const std::filesystem::path path = d / "config.yaml";
  const std::string folder = d.filename().string();
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("model '", folder, "': no config.yaml in ", dir));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseModelConfig(ss.str(), folder);
}

}  // namespace stratus::runtime
