#include "training/job.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "training/path_variables.h"
#include "yaml-cpp/yaml.h"

namespace stratus::training {
namespace {

std::string HexHash(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return absl::StrFormat("%016x", h);
}

class Parser {
 public:
  Parser(std::string file, std::string base_dir)
      : file_(std::move(file)), base_dir_(std::move(base_dir)) {}

  absl::Status Error(const YAML::Node& n, const std::string& key, const std::string& why) const {
    const YAML::Mark m = n.Mark();
    if (m.line < 0) {
      return absl::InvalidArgumentError(absl::StrCat(file_, ": ", key, ": ", why));
    }
    return absl::InvalidArgumentError(
        absl::StrCat(file_, ":", m.line + 1, ":", m.column + 1, ": ", key, ": ", why));
  }

  absl::Status Keys(const YAML::Node& map, const std::string& path,
                    const std::set<std::string>& allowed) const {
    if (!map.IsMap()) return Error(map, path, "must be a mapping");
    for (auto it = map.begin(); it != map.end(); ++it) {
      const std::string k = it->first.as<std::string>();
      if (allowed.count(k) == 0) {
        return Error(it->first, path.empty() ? k : path + "." + k,
                     absl::StrCat("unknown key (allowed: ", absl::StrJoin(allowed, ", "), ")"));
      }
    }
    return absl::OkStatus();
  }

  absl::Status String(const YAML::Node& parent, const std::string& key, const std::string& path,
                      bool required, std::string* out) const {
    const YAML::Node n = parent[key];
    if (!n) return required ? Error(parent, Join(path, key), "required") : absl::OkStatus();
    if (!n.IsScalar()) return Error(n, Join(path, key), "must be a string");
    *out = n.Scalar();
    return absl::OkStatus();
  }

  absl::Status Enum(const YAML::Node& parent, const std::string& key, const std::string& path,
                    bool required, const std::set<std::string>& values, std::string* out) const {
    std::string v;
    STRATUS_RETURN_IF_ERROR(String(parent, key, path, required, &v));
    if (!parent[key]) return absl::OkStatus();
    if (values.count(v) == 0) {
      return Error(parent[key], Join(path, key),
                   absl::StrCat("'", v, "' is not one of ", absl::StrJoin(values, ", ")));
    }
    *out = v;
    return absl::OkStatus();
  }

  template <typename T>
  absl::Status Number(const YAML::Node& parent, const std::string& key, const std::string& path,
                      bool required, double min, double max, T* out) const {
    const YAML::Node n = parent[key];
    if (!n) return required ? Error(parent, Join(path, key), "required") : absl::OkStatus();
    T v{};
    if (!n.IsScalar() || !YAML::convert<T>::decode(n, v)) {
      return Error(n, Join(path, key),
                   absl::StrCat("'", n.IsScalar() ? n.Scalar() : "(not a scalar)", "' is not ",
                                std::is_integral_v<T> ? "an integer" : "a number"));
    }
    if (static_cast<double>(v) < min || static_cast<double>(v) > max) {
      return Error(n, Join(path, key),
                   absl::StrCat("must be in [", min, ", ", max, "], got ", n.Scalar()));
    }
    *out = v;
    return absl::OkStatus();
  }

  absl::Status Bool(const YAML::Node& parent, const std::string& key, const std::string& path,
                    bool* out) const {
    const YAML::Node n = parent[key];
    if (!n) return absl::OkStatus();
    bool v = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) {
      return Error(n, Join(path, key), "must be true or false");
    }
    *out = v;
    return absl::OkStatus();
  }

  // Expands ${VAR} and ${VAR:-default}, then resolves against the job file's folder.
  absl::Status Path(const YAML::Node& parent, const std::string& key, const std::string& path,
                    bool required, const std::string& base, std::string* out) const {
    std::string raw;
    STRATUS_RETURN_IF_ERROR(String(parent, key, path, required, &raw));
    if (!parent[key]) return absl::OkStatus();
    auto expanded = ExpandPathVariables(raw);
    if (!expanded.ok()) {
      return Error(parent[key], Join(path, key), std::string(expanded.status().message()));
    }
    std::filesystem::path p(*expanded);
    if (p.is_relative()) p = std::filesystem::path(base.empty() ? base_dir_ : base) / p;
    *out = p.lexically_normal().string();
    return absl::OkStatus();
  }

  static std::string Join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

  const std::string& base_dir() const { return base_dir_; }

 private:
  std::string file_;
  std::string base_dir_;
};

absl::Status ParseSources(const Parser& p, const YAML::Node& list, const std::string& path,
                          const std::string& root, const Job& job, std::vector<DataSource>* out) {
  if (!list.IsSequence()) return p.Error(list, path, "must be a list of sources");
  const std::set<std::string> labels(job.labels.begin(), job.labels.end());
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node n = list[i];
    const std::string sp = absl::StrCat(path, "[", i, "]");
    STRATUS_RETURN_IF_ERROR(p.Keys(
        n, sp, {"path", "format", "header", "labels_path", "labels", "rows", "partial", "name"}));
    DataSource s;
    STRATUS_RETURN_IF_ERROR(p.Path(n, "path", sp, true, root, &s.path));
    std::string format = job.task == Task::kImageClassifier ? "folders" : "tsv";
    const std::set<std::string> formats =
        job.task == Task::kImageClassifier ? std::set<std::string>{"folders"}
                                           : std::set<std::string>{"tsv", "label_first", "lines"};
    STRATUS_RETURN_IF_ERROR(p.Enum(n, "format", sp, false, formats, &format));
    s.format = format == "tsv"           ? DataSource::Format::kTsv
               : format == "label_first" ? DataSource::Format::kLabelFirst
               : format == "lines"       ? DataSource::Format::kLines
                                         : DataSource::Format::kFolders;
    STRATUS_RETURN_IF_ERROR(p.Bool(n, "header", sp, &s.header));
    STRATUS_RETURN_IF_ERROR(
        p.Path(n, "labels_path", sp, s.format == DataSource::Format::kLines, root, &s.labels_path));
    if (n["labels_path"] && s.format != DataSource::Format::kLines) {
      return p.Error(n["labels_path"], sp + ".labels_path", "only for format: lines");
    }
    if (const YAML::Node l = n["labels"]) {
      if (!l.IsMap() || l.size() == 0) return p.Error(l, sp + ".labels", "must be a mapping");
      for (auto it = l.begin(); it != l.end(); ++it) {
        const std::string cls = it->second.as<std::string>("");
        if (labels.count(cls) == 0) {
          return p.Error(it->second, sp + ".labels." + it->first.as<std::string>(),
                         absl::StrCat("'", cls, "' is not one of the job's labels (",
                                      absl::StrJoin(job.labels, ", "), ")"));
        }
        s.labels[it->first.as<std::string>()] = cls;
      }
    } else if (s.format == DataSource::Format::kFolders) {
      for (const auto& l : job.labels) s.labels[l] = l;
    } else {
      return p.Error(n, sp + ".labels", "required (label as written -> class)");
    }
    if (const YAML::Node r = n["rows"]) {
      if (!r.IsSequence() || r.size() != 2) {
        return p.Error(r, sp + ".rows", "must be [begin, end] (end -1: to the end)");
      }
      try {
        s.rows_begin = r[0].as<int64_t>();
        s.rows_end = r[1].as<int64_t>();
      } catch (const YAML::Exception&) {
        return p.Error(r, sp + ".rows", "must be two integers");
      }
      if (s.rows_begin < 0 || (s.rows_end >= 0 && s.rows_end <= s.rows_begin)) {
        return p.Error(r, sp + ".rows", "need 0 <= begin < end (or end = -1)");
      }
    }
    STRATUS_RETURN_IF_ERROR(p.Bool(n, "partial", sp, &s.partial));
    s.name = std::filesystem::path(s.path).filename().string();
    STRATUS_RETURN_IF_ERROR(p.String(n, "name", sp, false, &s.name));
    out->push_back(std::move(s));
  }
  return absl::OkStatus();
}

absl::Status ApplyOverride(YAML::Node root, const std::string& kv) {
  const size_t eq = kv.find('=');
  if (eq == std::string::npos || eq == 0) {
    return absl::InvalidArgumentError(absl::StrCat("--set ", kv, ": expected key.path=value"));
  }
  const std::string key = kv.substr(0, eq);
  YAML::Node value;
  try {
    value = YAML::Load(kv.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("--set ", kv, ": ", e.what()));
  }
  std::vector<std::string> parts;
  std::stringstream ss(key);
  for (std::string part; std::getline(ss, part, '.');) parts.push_back(part);
  if (!root.IsMap()) {
    return absl::InvalidArgumentError(absl::StrCat("--set ", kv, ": the job is not a mapping"));
  }
  // yaml-cpp throws on subscripts it cannot take (a key that is itself a sequence, say).
  try {
    std::vector<YAML::Node> chain{root};
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      YAML::Node next = chain.back()[parts[i]];
      if (!next.IsDefined() || next.IsNull()) next = YAML::Node(YAML::NodeType::Map);
      if (!next.IsMap()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--set ", kv, ": ", parts[i], " is not a mapping"));
      }
      chain.back()[parts[i]] = next;
      chain.push_back(next);
    }
    chain.back()[parts.back()] = value;
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("--set ", kv, ": ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Job> ParseJob(const std::string& yaml_text, const std::string& file,
                             const std::vector<std::string>& overrides) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ":", e.mark.line + 1, ":", e.mark.column + 1, ": ", e.msg));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": ", e.what()));
  }
  for (const auto& kv : overrides) STRATUS_RETURN_IF_ERROR(ApplyOverride(root, kv));
  std::string base = std::filesystem::path(file).parent_path().string();
  if (base.empty()) base = ".";
  const Parser p(file, std::filesystem::absolute(base).lexically_normal().string());
  Job job;
  job.file = file;
  job.content_hash = HexHash(yaml_text + "\n--set " + absl::StrJoin(overrides, "\n--set "));
  try {
    STRATUS_RETURN_IF_ERROR(p.Keys(root, "",
                               {"name", "task", "labels", "data", "model", "augmentation",
                                "optimiser", "schedule", "epochs", "batch_size", "seed", "threads",
                                "checkpoint", "output", "version", "max_steps"}));
    STRATUS_RETURN_IF_ERROR(p.String(root, "name", "", true, &job.name));
    std::string task;
    STRATUS_RETURN_IF_ERROR(
        p.Enum(root, "task", "", true, {"image_classifier", "text_classifier"}, &task));
    job.task = task == "image_classifier" ? Task::kImageClassifier : Task::kTextClassifier;
    const YAML::Node labels = root["labels"];
    if (!labels) return p.Error(root, "labels", "required (class names, in output order)");
    if (!labels.IsSequence() || labels.size() < 2) {
      return p.Error(labels, "labels", "must be a list of at least 2 class names");
    }
    for (const auto& l : labels) {
      if (!l.IsScalar()) return p.Error(l, "labels", "class names must be strings");
      job.labels.push_back(l.Scalar());
    }
    if (std::set<std::string>(job.labels.begin(), job.labels.end()).size() != job.labels.size()) {
      return p.Error(labels, "labels", "duplicate class name");
    }

    // data
    const YAML::Node data = root["data"];
    if (!data) return p.Error(root, "data", "required");
    STRATUS_RETURN_IF_ERROR(p.Keys(
        data, "data", {"root", "train", "validation", "validation_split", "test", "test_split"}));
    std::string data_root;
    STRATUS_RETURN_IF_ERROR(p.Path(data, "root", "data", false, "", &data_root));
    if (!data["train"]) return p.Error(data, "data.train", "required");
    STRATUS_RETURN_IF_ERROR(ParseSources(p, data["train"], "data.train", data_root, job, &job.train));
    if (job.train.empty()) return p.Error(data["train"], "data.train", "needs a source");
    if (data["validation"]) {
      STRATUS_RETURN_IF_ERROR(
          ParseSources(p, data["validation"], "data.validation", data_root, job, &job.validation));
    }
    if (data["test"]) {
      STRATUS_RETURN_IF_ERROR(ParseSources(p, data["test"], "data.test", data_root, job, &job.test));
    }
    STRATUS_RETURN_IF_ERROR(
        p.Number(data, "validation_split", "data", false, 0.0, 0.9, &job.validation_split));
    STRATUS_RETURN_IF_ERROR(p.Number(data, "test_split", "data", false, 0.0, 0.9, &job.test_split));
    if (data["validation"] && data["validation_split"]) {
      return p.Error(data["validation_split"], "data.validation_split",
                     "give either validation sources or validation_split");
    }
    if (job.validation.empty() && job.validation_split == 0.0) {
      return p.Error(data, "data", "needs validation sources or validation_split > 0");
    }

    // model
    const YAML::Node model = root["model"];
    if (!model) return p.Error(root, "model", "required");
    ModelSpec& m = job.model;
    if (job.task == Task::kTextClassifier) {
      STRATUS_RETURN_IF_ERROR(
          p.Keys(model, "model",
                 {"architecture", "embedding_dim", "hidden", "vocab_size", "min_count",
                  "bigram_buckets", "max_tokens", "max_clauses", "lexicons", "mixed", "dropout"}));
      STRATUS_RETURN_IF_ERROR(
          p.Enum(model, "architecture", "model", true, {"ngram_bag"}, &m.architecture));
      STRATUS_RETURN_IF_ERROR(
          p.Number(model, "embedding_dim", "model", false, 2, 1024, &m.embedding_dim));
      STRATUS_RETURN_IF_ERROR(p.Number(model, "hidden", "model", false, 0, 4096, &m.hidden));
      STRATUS_RETURN_IF_ERROR(p.Number(model, "vocab_size", "model", false, 10, 5e6, &m.vocab_size));
      STRATUS_RETURN_IF_ERROR(p.Number(model, "min_count", "model", false, 1, 1e6, &m.min_count));
      STRATUS_RETURN_IF_ERROR(
          p.Number(model, "bigram_buckets", "model", false, 0, 1e8, &m.bigram_buckets));
      STRATUS_RETURN_IF_ERROR(p.Number(model, "max_tokens", "model", false, 1, 1e5, &m.max_tokens));
      STRATUS_RETURN_IF_ERROR(p.Number(model, "max_clauses", "model", false, 1, 64, &m.max_clauses));
      STRATUS_RETURN_IF_ERROR(p.Number(model, "dropout", "model", false, 0.0, 0.9, &m.dropout));
      if (const YAML::Node lex = model["lexicons"]) {
        STRATUS_RETURN_IF_ERROR(p.Keys(lex, "model.lexicons", {"vader", "afinn"}));
        STRATUS_RETURN_IF_ERROR(p.Path(lex, "vader", "model.lexicons", false, data_root, &m.vader_dir));
        STRATUS_RETURN_IF_ERROR(p.Path(lex, "afinn", "model.lexicons", false, data_root, &m.afinn_dir));
      }
      if (const YAML::Node mixed = model["mixed"]) {
        STRATUS_RETURN_IF_ERROR(p.Keys(mixed, "model.mixed", {"label", "positive", "negative"}));
        STRATUS_RETURN_IF_ERROR(p.String(mixed, "label", "model.mixed", true, &m.mixed_label));
        const std::set<std::string> ls(job.labels.begin(), job.labels.end());
        STRATUS_RETURN_IF_ERROR(p.Enum(mixed, "positive", "model.mixed", true, ls, &m.mixed_positive));
        STRATUS_RETURN_IF_ERROR(p.Enum(mixed, "negative", "model.mixed", true, ls, &m.mixed_negative));
        if (ls.count(m.mixed_label) > 0) {
          return p.Error(mixed["label"], "model.mixed.label",
                         "is derived, so it must not be one of the trained labels");
        }
      }
    } else {
      STRATUS_RETURN_IF_ERROR(
          p.Keys(model, "model", {"architecture", "width", "input_size", "dropout"}));
      STRATUS_RETURN_IF_ERROR(
          p.Enum(model, "architecture", "model", true, {"convnet"}, &m.architecture));
      STRATUS_RETURN_IF_ERROR(p.Number(model, "width", "model", false, 4, 512, &m.width));
      STRATUS_RETURN_IF_ERROR(p.Number(model, "input_size", "model", false, 16, 1024, &m.input_size));
      STRATUS_RETURN_IF_ERROR(p.Number(model, "dropout", "model", false, 0.0, 0.9, &m.dropout));
    }

    // augmentation
    if (const YAML::Node a = root["augmentation"]) {
      AugmentSpec& g = job.augment;
      if (job.task == Task::kImageClassifier) {
        STRATUS_RETURN_IF_ERROR(p.Keys(a, "augmentation",
                                   {"flip", "crop_scale_min", "brightness", "contrast",
                                    "rotate_degrees", "downscale_min_px", "blur"}));
        STRATUS_RETURN_IF_ERROR(p.Bool(a, "flip", "augmentation", &g.flip));
        STRATUS_RETURN_IF_ERROR(
            p.Number(a, "crop_scale_min", "augmentation", false, 0.1, 1.0, &g.crop_scale_min));
        STRATUS_RETURN_IF_ERROR(
            p.Number(a, "brightness", "augmentation", false, 0.0, 1.0, &g.brightness));
        STRATUS_RETURN_IF_ERROR(p.Number(a, "contrast", "augmentation", false, 0.0, 1.0, &g.contrast));
        STRATUS_RETURN_IF_ERROR(
            p.Number(a, "rotate_degrees", "augmentation", false, 0.0, 180.0, &g.rotate_degrees));
        STRATUS_RETURN_IF_ERROR(
            p.Number(a, "downscale_min_px", "augmentation", false, 0, 1024, &g.downscale_min_px));
        STRATUS_RETURN_IF_ERROR(p.Number(a, "blur", "augmentation", false, 0.0, 1.0, &g.blur));
      } else {
        STRATUS_RETURN_IF_ERROR(p.Keys(a, "augmentation", {"token_dropout"}));
        STRATUS_RETURN_IF_ERROR(
            p.Number(a, "token_dropout", "augmentation", false, 0.0, 0.9, &g.token_dropout));
      }
    }

    // optimiser and schedule
    if (const YAML::Node o = root["optimiser"]) {
      STRATUS_RETURN_IF_ERROR(p.Keys(o, "optimiser", {"type", "lr", "weight_decay", "momentum"}));
      STRATUS_RETURN_IF_ERROR(
          p.Enum(o, "type", "optimiser", false, {"sgd", "adam", "adamw"}, &job.optimiser.type));
      STRATUS_RETURN_IF_ERROR(p.Number(o, "lr", "optimiser", false, 1e-9, 10.0, &job.optimiser.lr));
      STRATUS_RETURN_IF_ERROR(
          p.Number(o, "weight_decay", "optimiser", false, 0.0, 1.0, &job.optimiser.weight_decay));
      STRATUS_RETURN_IF_ERROR(
          p.Number(o, "momentum", "optimiser", false, 0.0, 0.999, &job.optimiser.momentum));
    }
    if (const YAML::Node s = root["schedule"]) {
      STRATUS_RETURN_IF_ERROR(p.Keys(
          s, "schedule", {"type", "warmup_steps", "step_epochs", "gamma", "min_lr_fraction"}));
      STRATUS_RETURN_IF_ERROR(
          p.Enum(s, "type", "schedule", false, {"cosine", "step", "constant"}, &job.schedule.type));
      STRATUS_RETURN_IF_ERROR(
          p.Number(s, "warmup_steps", "schedule", false, 0, 1e9, &job.schedule.warmup_steps));
      STRATUS_RETURN_IF_ERROR(
          p.Number(s, "step_epochs", "schedule", false, 1, 1e6, &job.schedule.step_epochs));
      STRATUS_RETURN_IF_ERROR(p.Number(s, "gamma", "schedule", false, 0.0, 1.0, &job.schedule.gamma));
      STRATUS_RETURN_IF_ERROR(p.Number(s, "min_lr_fraction", "schedule", false, 0.0, 1.0,
                                   &job.schedule.min_lr_fraction));
    }
    STRATUS_RETURN_IF_ERROR(p.Number(root, "epochs", "", true, 1, 1e6, &job.epochs));
    STRATUS_RETURN_IF_ERROR(p.Number(root, "batch_size", "", true, 1, 65536, &job.batch_size));
    STRATUS_RETURN_IF_ERROR(p.Number(root, "seed", "", false, 0, 9.0e15, &job.seed));
    STRATUS_RETURN_IF_ERROR(p.Number(root, "threads", "", false, 1, 256, &job.threads));
    STRATUS_RETURN_IF_ERROR(p.Number(root, "max_steps", "", false, 0, 1e12, &job.max_steps));

    // checkpoint and output
    const YAML::Node c = root["checkpoint"];
    if (!c) return p.Error(root, "checkpoint", "required (checkpoint: {dir: ...})");
    STRATUS_RETURN_IF_ERROR(
        p.Keys(c, "checkpoint", {"dir", "every_steps", "every_seconds", "grace_seconds"}));
    STRATUS_RETURN_IF_ERROR(p.Path(c, "dir", "checkpoint", true, "", &job.checkpoint.dir));
    STRATUS_RETURN_IF_ERROR(
        p.Number(c, "every_steps", "checkpoint", false, 0, 1e12, &job.checkpoint.every_steps));
    STRATUS_RETURN_IF_ERROR(
        p.Number(c, "every_seconds", "checkpoint", false, 0.0, 1e9, &job.checkpoint.every_seconds));
    STRATUS_RETURN_IF_ERROR(p.Number(c, "grace_seconds", "checkpoint", false, 1.0, 3600.0,
                                 &job.checkpoint.grace_seconds));
    const YAML::Node out = root["output"];
    if (!out) return p.Error(root, "output", "required (output: {dir: ...})");
    STRATUS_RETURN_IF_ERROR(p.Keys(out, "output", {"dir"}));
    STRATUS_RETURN_IF_ERROR(p.Path(out, "dir", "output", true, "", &job.output_dir));
    job.version = absl::StrCat(job.name, "-", job.content_hash.substr(0, 8));
    STRATUS_RETURN_IF_ERROR(p.String(root, "version", "", false, &job.version));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ":", e.mark.line + 1, ":", e.mark.column + 1, ": ", e.msg));
  }
  return job;
}

absl::StatusOr<Job> LoadJob(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read job file ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseJob(ss.str(), path, overrides);
}

}  // namespace stratus::training
