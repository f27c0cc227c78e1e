// The TF.js graph-model reader (tools/import/graph/tfjs_graph.h: ParseTfjsGraph, the front end
// of the graph importer that turns model.json into nodes and Const tensors) and its attribute
// helpers, on arbitrary model.json text and weight bytes. Input: a 4-byte little-endian length
// of the model.json text, the text, then the concatenated shards. Every attribute of every node
// is read with each helper, as the converter does with the ones it knows. Checks: no crash,
// leak or undefined behaviour; every Const node of a parsed graph has a value.
// ConvertGraph (TorchScript generation and compilation) is not fuzzed here: it runs LibTorch
// ops on the shapes it infers, and LibTorch is not instrumented.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tools/import/graph/tfjs_graph.h"

namespace ig = stratus::import_graph;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  uint32_t len;
  std::memcpy(&len, data, 4);
  const std::string rest(reinterpret_cast<const char*>(data) + 4, size - 4);
  const size_t text_len = std::min<size_t>(len, rest.size());
  nlohmann::json model = nlohmann::json::parse(rest.substr(0, text_len), nullptr,
                                               /*allow_exceptions=*/false);
  if (model.is_discarded()) return 0;
  auto graph = ig::ParseTfjsGraph(model, rest.substr(text_len));
  if (!graph.ok()) return 0;
  for (const ig::NodeDef& n : graph->nodes) {
    if (n.op == "Const" && !graph->consts.count(n.name)) abort();
    for (const std::string& in : n.inputs) (void)ig::SplitTensorName(in);
    if (!n.attr.is_object()) continue;
    for (const auto& [key, value] : n.attr.items()) {
      (void)ig::AttrInt(n, key, 0);
      (void)ig::AttrFloat(n, key, 0);
      (void)ig::AttrBool(n, key, false);
      (void)ig::AttrString(n, key, "");
      (void)ig::AttrInts(n, key);
      (void)ig::AttrStrings(n, key);
    }
  }
  return 0;
}
