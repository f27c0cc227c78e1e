// stratus-import-graph: imports one TF.js graph model into the model repository.
//
//   stratus-import-graph --model-json DIR/nanodet.json --out $STRATUS_MODEL_DIR/nanodet
//       --config tools/import/graph/presets/nanodet.yaml --integrity sha512-...
//
// Skips (exit 0) when the folder's .stamp matches. Prints a one-line summary.
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/flags.h"
#include "tools/import/graph/graph_importer.h"

int main(int argc, char** argv) {
  using stratus::import_graph::GraphImportOptions;
  GraphImportOptions o;
  std::string config_path, outputs;
  stratus::FlagSet flags(
      "stratus-import-graph",
      "Imports a TF.js graph model (model.json) into a TorchScript model folder.");
  flags.String("model-json", "", &o.model_json, "TF.js graph model.json (shards beside it)");
  flags.String("out", "", &o.output_dir, "model folder to write, e.g. $STRATUS_MODEL_DIR/objects");
  flags.String("config", "", &config_path, "config.yaml to write beside model.pt");
  flags.String("integrity", "", &o.source_integrity, "source package integrity (cache key)");
  flags.String("outputs", "", &outputs, "comma-separated output tensors (default: signature)");
  flags.Bool("channels-last", "", &o.channels_last, "store conv weights channels_last");
  flags.Bool("force", "", &o.force, "import even when the stamp matches");
  flags.Bool("write-source", "", &o.write_source, "also write the TorchScript as forward.py");
  bool print_key = false;
  flags.Bool("print-stamp-key", "", &print_key,
             "print the cache key for --integrity/--config/--outputs and exit");
  if (auto s = flags.Parse(argc, argv); !s.ok() || flags.help_requested()) {
    if (!s.ok()) std::cerr << s.message() << "\n";
    std::cerr << flags.Usage();
    return s.ok() ? 0 : 2;
  }
  if ((!print_key && (o.model_json.empty() || o.output_dir.empty())) || config_path.empty()) {
    std::cerr << "--model-json, --out and --config are required\n" << flags.Usage();
    return 2;
  }
  std::ifstream in(config_path);
  if (!in) {
    std::cerr << "cannot read " << config_path << "\n";
    return 2;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  o.config_yaml = ss.str();
  if (!outputs.empty()) o.outputs = absl::StrSplit(outputs, ',', absl::SkipEmpty());
  if (print_key) {
    std::cout << stratus::import_graph::GraphImportKey(o) << "\n";
    return 0;
  }
  auto r = stratus::import_graph::RunGraphImport(o);
  if (!r.ok()) {
    std::cerr << "stratus-import-graph: " << r.status() << "\n";
    return 1;
  }
  if (r->skipped) {
    std::cout << o.output_dir << ": up to date (" << r->key.substr(0, 12) << ")\n";
  } else {
    int ops = 0;
    for (const auto& [op, n] : r->op_counts) ops += n;
    std::cout << o.output_dir << ": imported " << ops << " ops (" << r->folded << " folded, "
              << r->flops / 1e9 << " GFLOP per image), outputs " << absl::StrJoin(r->outputs, ",")
              << " shapes " << absl::StrJoin(r->output_shapes, " ") << "\n";
  }
  return 0;
}
