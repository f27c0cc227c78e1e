#include "tools/import/graph/graph_importer.h"

#include <openssl/sha.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/logging.h"
#include "tools/import/graph/graph_converter.h"
#include "tools/import/graph/tfjs_graph.h"

namespace stratus::import_graph {
namespace {

namespace fs = std::filesystem;

std::string Sha256Hex(const std::string& data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::string ReadSmallFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::Status WriteFile(const fs::path& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary);
  out << data;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", p.string()));
  return absl::OkStatus();
}

}  // namespace

std::string GraphImportKey(const GraphImportOptions& o) {
  return Sha256Hex(absl::StrCat(o.source_integrity, "\n", kGraphImporterVersion, "\n",
                                o.channels_last ? "cl" : "nchw", "\n",
                                absl::StrJoin(o.outputs, ","), "\n", o.config_yaml));
}

absl::StatusOr<GraphImportReport> RunGraphImport(const GraphImportOptions& o) {
  GraphImportReport report;
  report.key = GraphImportKey(o);
  const fs::path out_dir(o.output_dir);
  if (o.output_dir.empty()) return absl::InvalidArgumentError("output_dir is empty");
  if (!o.force && fs::exists(out_dir / ".stamp") && fs::exists(out_dir / "model.pt")) {
    std::string stamp = ReadSmallFile(out_dir / ".stamp");
    while (!stamp.empty() && (stamp.back() == '\n' || stamp.back() == ' ')) stamp.pop_back();
    if (stamp == report.key) {
      report.skipped = true;
      return report;
    }
  }
  try {
    YAML::Node config = YAML::Load(o.config_yaml);
    if (!config.IsMap()) return absl::InvalidArgumentError("config_yaml is not a YAML mapping");
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("config_yaml: ", e.what()));
  }

  auto graph = LoadTfjsGraph(o.model_json);
  if (!graph.ok()) return graph.status();
  ConvertOptions co;
  co.outputs = o.outputs;
  co.channels_last = o.channels_last;
  auto model = ConvertGraph(*graph, co);
  if (!model.ok()) return model.status();
  report.op_counts = model->op_counts;
  report.folded = model->folded;
  report.flops = model->flops;
  report.outputs = model->outputs;

  std::error_code ec;
  fs::create_directories(out_dir.parent_path(), ec);
  const fs::path tmp =
      out_dir.parent_path() / absl::StrCat(".", out_dir.filename().string(), ".tmp-", getpid());
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec)
    return absl::InternalError(absl::StrCat("cannot create ", tmp.string(), ": ", ec.message()));
  try {
    // Check run: zeros of the placeholders' shapes, batch 1.
    std::vector<c10::IValue> inputs;
    for (const auto& shape : model->input_shapes) inputs.push_back(at::zeros(shape));
    c10::InferenceMode guard;
    c10::IValue out = model->module.forward(inputs);
    std::vector<at::Tensor> outs;
    if (out.isTuple()) {
      for (const auto& e : out.toTuple()->elements()) outs.push_back(e.toTensor());
    } else {
      outs.push_back(out.toTensor());
    }
    for (const auto& t : outs) {
      report.output_shapes.push_back(absl::StrCat("[", absl::StrJoin(t.sizes(), ","), "]"));
    }
    model->module.save((tmp / "model.pt").string());
  } catch (const c10::Error& e) {
    fs::remove_all(tmp, ec);
    return absl::InternalError(
        absl::StrCat("imported module failed its check run: ", e.what_without_backtrace()));
  } catch (const std::exception& e) {
    fs::remove_all(tmp, ec);
    return absl::InternalError(absl::StrCat("imported module failed its check run: ", e.what()));
  }
  absl::Status s = WriteFile(tmp / "config.yaml", o.config_yaml);
  if (s.ok() && o.write_source) s = WriteFile(tmp / "forward.py", model->source);
  if (s.ok()) s = WriteFile(tmp / ".stamp", report.key + "\n");
  if (!s.ok()) {
    fs::remove_all(tmp, ec);
    return s;
  }
  // Swap into place: the old folder (if any) is moved aside first, then removed.
  const fs::path old =
      out_dir.parent_path() / absl::StrCat(".", out_dir.filename().string(), ".old-", getpid());
  fs::remove_all(old, ec);
  if (fs::exists(out_dir)) fs::rename(out_dir, old, ec);
  if (ec)
    return absl::InternalError(absl::StrCat("cannot move ", out_dir.string(), ": ", ec.message()));
  fs::rename(tmp, out_dir, ec);
  if (ec)
    return absl::InternalError(
        absl::StrCat("cannot rename into ", out_dir.string(), ": ", ec.message()));
  fs::remove_all(old, ec);
  SLOG(INFO) << "graph model imported" << Kv("model_json", o.model_json) << Kv("out", o.output_dir)
             << Kv("folded", report.folded)
             << Kv("outputs", absl::StrJoin(report.output_shapes, " "));
  return report;
}

absl::Status ImportGraphModel(const GraphImportOptions& options) {
  auto r = RunGraphImport(options);
  return r.ok() ? absl::OkStatus() : r.status();
}

}  // namespace stratus::import_graph
