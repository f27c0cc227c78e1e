#include "tools/import/graph/tfjs_graph.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace stratus::import_graph {
namespace {

using nlohmann::json;

absl::StatusOr<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Reads a JSON number that may be written as a string (TF's int64 attrs are).
absl::StatusOr<int64_t> JsonInt(const json& j) {
  if (j.is_number_integer()) return j.get<int64_t>();
  if (j.is_string()) {
    int64_t v = 0;
    if (absl::SimpleAtoi(j.get<std::string>(), &v)) return v;
  }
  return absl::InvalidArgumentError(absl::StrCat("not an integer: ", j.dump()));
}

absl::StatusOr<at::Tensor> DecodeWeight(const json& spec, const std::string& blob, size_t* offset) {
  const std::string name = spec.value("name", "");
  const std::string dtype = spec.value("dtype", "float32");
  std::vector<int64_t> shape;
  if (!spec.contains("shape") || !spec["shape"].is_array()) {
    return absl::InvalidArgumentError(absl::StrCat("weight '", name, "': no shape array"));
  }
  for (const auto& d : spec["shape"]) {
    absl::StatusOr<int64_t> dim = JsonInt(d);  // a float here (1e300) is an error, not UB
    if (!dim.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("weight '", name, "': shape: ", dim.status().message()));
    }
    shape.push_back(*dim);
  }
  std::string stored = dtype;
  double scale = 1.0, min = 0.0;
  if (spec.contains("quantization")) {
    const json& q = spec["quantization"];
    stored = q.value("dtype", "");
    scale = q.value("scale", 1.0);
    min = q.value("min", 0.0);
  }
  size_t bytes_per = 0;
  if (stored == "float32" || stored == "int32")
    bytes_per = 4;
  else if (stored == "float16" || stored == "uint16")
    bytes_per = 2;
  else if (stored == "uint8" || stored == "bool")
    bytes_per = 1;
  else {
    return absl::InvalidArgumentError(
        absl::StrCat("weight '", name, "': unsupported storage dtype '", stored, "'"));
  }
  // The element count, bounded by the bytes left so that neither it nor the byte count can
  // overflow (the shard is the bound: every element is stored).
  const size_t left = (blob.size() - *offset) / bytes_per;
  size_t count = 1;
  for (int64_t d : shape) {
    if (d < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("weight '", name, "': negative dimension in shape"));
    }
    if (d != 0 && count > left / static_cast<size_t>(d)) {
      return absl::InvalidArgumentError(absl::StrCat("weight '", name, "': shards too short (",
                                                     blob.size() - *offset,
                                                     " bytes left, the shape needs more)"));
    }
    count *= static_cast<size_t>(d);
  }
  if (count > left) {
    return absl::InvalidArgumentError(absl::StrCat("weight '", name, "': shards too short (need ",
                                                   *offset + count * bytes_per, " bytes, have ",
                                                   blob.size(), ")"));
  }
  const int64_t n = static_cast<int64_t>(count);
  const size_t size = count * bytes_per;
  const char* p = blob.data() + *offset;
  *offset += size;
  const bool is_int = dtype == "int32";
  at::Tensor out =
      at::empty(shape, is_int ? at::kLong : (dtype == "bool" ? at::kBool : at::kFloat));
  if (dtype == "bool") {
    bool* o = out.data_ptr<bool>();
    for (int64_t i = 0; i < n; ++i) o[i] = p[i] != 0;
    return out;
  }
  auto store = [&](int64_t i, double v) {
    if (is_int)
      out.data_ptr<int64_t>()[i] = static_cast<int64_t>(std::llround(v));
    else
      out.data_ptr<float>()[i] = static_cast<float>(v);
  };
  for (int64_t i = 0; i < n; ++i) {
    if (stored == "float32") {
      float f;
      std::memcpy(&f, p + 4 * i, 4);
      if (is_int)
        store(i, f);
      else
        out.data_ptr<float>()[i] = f;
    } else if (stored == "int32") {
      int32_t v;
      std::memcpy(&v, p + 4 * i, 4);
      if (is_int)
        out.data_ptr<int64_t>()[i] = v;
      else
        out.data_ptr<float>()[i] = static_cast<float>(v);
    } else if (stored == "float16") {
      uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      store(i, HalfToFloat(h));
    } else if (stored == "uint16") {
      uint16_t q;
      std::memcpy(&q, p + 2 * i, 2);
      store(i, q * scale + min);
    } else {  // uint8
      store(i, static_cast<uint8_t>(p[i]) * scale + min);
    }
  }
  return out;
}

absl::Status WrongType(const NodeDef& n, const std::string& key, const char* want) {
  return absl::InvalidArgumentError(
      absl::StrCat("node '", n.name, "' (", n.op, "): attr '", key, "' is not ", want));
}

}  // namespace

float HalfToFloat(uint16_t h) {
  const uint32_t sign = (h >> 15) & 1;
  const uint32_t exp = (h >> 10) & 0x1f;
  const uint32_t mant = h & 0x3ff;
  float v;
  if (exp == 0) {
    v = std::ldexp(static_cast<float>(mant), -24);
  } else if (exp == 31) {
    v = mant ? std::nanf("") : INFINITY;
  } else {
    v = std::ldexp(static_cast<float>(mant | 0x400), static_cast<int>(exp) - 25);
  }
  return sign ? -v : v;
}

std::pair<std::string, int> SplitTensorName(const std::string& tensor) {
  const size_t colon = tensor.rfind(':');
  if (colon != std::string::npos) {
    int k = 0;
    if (absl::SimpleAtoi(tensor.substr(colon + 1), &k)) return {tensor.substr(0, colon), k};
  }
  return {tensor, 0};
}

absl::StatusOr<GraphDef> ParseTfjsGraph(const json& model, const std::string& weights) {
  GraphDef g;
  try {
    if (model.value("format", "graph-model") != "graph-model") {
      return absl::InvalidArgumentError(
          absl::StrCat("not a TF.js graph model (format '", model.value("format", ""), "')"));
    }
    if (!model.contains("modelTopology") || !model["modelTopology"].contains("node")) {
      return absl::InvalidArgumentError("model.json has no modelTopology.node");
    }
    for (const auto& jn : model["modelTopology"]["node"]) {
      NodeDef n;
      n.name = jn.at("name").get<std::string>();
      n.op = jn.at("op").get<std::string>();
      if (jn.contains("input")) {
        for (const auto& in : jn["input"]) {
          std::string s = in.get<std::string>();
          if (!s.empty() && s[0] == '^') continue;  // control dependency
          n.inputs.push_back(s);
        }
      }
      n.attr = jn.contains("attr") ? jn["attr"] : json::object();
      g.nodes.push_back(std::move(n));
    }
    if (model.contains("signature")) g.signature = model["signature"];
    size_t offset = 0;
    if (model.contains("weightsManifest")) {
      for (const auto& group : model["weightsManifest"]) {
        for (const auto& spec : group.at("weights")) {
          auto t = DecodeWeight(spec, weights, &offset);
          if (!t.ok()) return t.status();
          g.consts[spec.at("name").get<std::string>()] = *t;
        }
      }
    }
    for (const auto& n : g.nodes) {
      if (n.op == "Const" && !g.consts.count(n.name)) {
        return absl::InvalidArgumentError(
            absl::StrCat("Const node '", n.name, "' has no value in the weights manifest"));
      }
    }
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("malformed model.json: ", e.what()));
  }
  return g;
}

absl::StatusOr<GraphDef> LoadTfjsGraph(const std::filesystem::path& model_json) {
  auto text = ReadFile(model_json);
  if (!text.ok()) return text.status();
  json model;
  try {
    model = json::parse(*text);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(model_json.string(), ": invalid JSON: ", e.what()));
  }
  std::string blob;
  if (model.contains("weightsManifest")) {
    for (const auto& group : model["weightsManifest"]) {
      for (const auto& p : group.at("paths")) {
        auto shard = ReadFile(model_json.parent_path() / p.get<std::string>());
        if (!shard.ok()) return shard.status();
        blob += *shard;
      }
    }
  }
  return ParseTfjsGraph(model, blob);
}

absl::StatusOr<int64_t> AttrInt(const NodeDef& n, const std::string& key, int64_t fallback) {
  if (!n.attr.contains(key)) return fallback;
  const json& a = n.attr[key];
  if (!a.contains("i")) return WrongType(n, key, "an int");
  return JsonInt(a["i"]);
}

absl::StatusOr<double> AttrFloat(const NodeDef& n, const std::string& key, double fallback) {
  if (!n.attr.contains(key)) return fallback;
  const json& a = n.attr[key];
  if (!a.contains("f")) return WrongType(n, key, "a float");
  if (a["f"].is_number()) return a["f"].get<double>();
  if (a["f"].is_string()) {  // "NaN", "Infinity" or a number as text
    const std::string s = a["f"].get<std::string>();
    if (s == "Infinity") return INFINITY;
    if (s == "-Infinity") return -INFINITY;
    double v;
    if (absl::SimpleAtod(s, &v)) return v;
  }
  return WrongType(n, key, "a float");
}

absl::StatusOr<bool> AttrBool(const NodeDef& n, const std::string& key, bool fallback) {
  if (!n.attr.contains(key)) return fallback;
  const json& a = n.attr[key];
  if (!a.contains("b") || !a["b"].is_boolean()) return WrongType(n, key, "a bool");
  return a["b"].get<bool>();
}

absl::StatusOr<std::string> AttrString(const NodeDef& n, const std::string& key,
                                       const std::string& fallback) {
  if (!n.attr.contains(key)) return fallback;
  const json& a = n.attr[key];
  if (!a.contains("s") || !a["s"].is_string()) return WrongType(n, key, "a string");
  std::string out;
  if (!absl::Base64Unescape(a["s"].get<std::string>(), &out)) return WrongType(n, key, "base64");
  return out;
}

absl::StatusOr<std::vector<int64_t>> AttrInts(const NodeDef& n, const std::string& key) {
  std::vector<int64_t> out;
  if (!n.attr.contains(key)) return out;
  const json& a = n.attr[key];
  if (!a.contains("list")) return WrongType(n, key, "a list");
  if (!a["list"].contains("i")) return out;
  for (const auto& v : a["list"]["i"]) {
    auto i = JsonInt(v);
    if (!i.ok()) return WrongType(n, key, "a list of ints");
    out.push_back(*i);
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> AttrStrings(const NodeDef& n, const std::string& key) {
  std::vector<std::string> out;
  if (!n.attr.contains(key)) return out;
  const json& a = n.attr[key];
  if (!a.contains("list")) return WrongType(n, key, "a list");
  if (!a["list"].contains("s")) return out;
  for (const auto& v : a["list"]["s"]) {
    std::string s;
    if (!v.is_string() || !absl::Base64Unescape(v.get<std::string>(), &s)) {
      return WrongType(n, key, "a list of strings");
    }
    out.push_back(s);
  }
  return out;
}

}  // namespace stratus::import_graph
