#include "tools/import/faceapi_import.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/logging.h"
#include "tools/import/faceapi_models.h"
#include "tools/import/tfjs_weights.h"

namespace stratus::import {
namespace {

namespace fs = std::filesystem;

struct ModelSpec {
  const char* name;
  const char* manifest;  // in <package>/model/
  FaceApiNet net;
  const char* task;
  const char* source;  // path of the weights inside the package, without the manifest suffix
  int size;            // square input
  const char* resize;
  const char* mean;
  const char* std;
  const char* decoder;
  const char* labels;
};

// The crop nets subtract face-api's mean RGB and divide by 255 (FaceFeatureExtractor.ts,
// TinyXception.ts, FaceRecognitionNet.ts); their crops are padded to a square around the centre
// (NetInput.toBatchTensor(size, true)). The SSD pads at the bottom/right and maps to [-1, 1].
constexpr char kCropMean[] = "[122.782, 117.001, 104.298]";
constexpr char kCropStd[] = "[255, 255, 255]";

const ModelSpec kModels[] = {
    {"faces", "ssd_mobilenetv1_model-weights_manifest.json", FaceApiNet::kSsdMobilenetV1,
     "face_detection", "model/ssd_mobilenetv1", 512, "pad_bottom_right", "[127.5, 127.5, 127.5]",
     "[127.5, 127.5, 127.5]", "{type: ssd, iou_threshold: 0.5, max_results: 100}", "[face]"},
    {"face_landmarks68", "face_landmark_68_model-weights_manifest.json",
     FaceApiNet::kFaceLandmark68, "face_landmarks", "model/face_landmark_68", 112, "pad_center",
     kCropMean, kCropStd, "{type: landmarks68}", "[]"},
    {"face_descriptor", "face_recognition_model-weights_manifest.json",
     FaceApiNet::kFaceRecognition, "face_embedding", "model/face_recognition", 150, "pad_center",
     kCropMean, kCropStd, "{type: embedding, normalize: false}", "[]"},
    {"face_age_gender", "age_gender_model-weights_manifest.json", FaceApiNet::kAgeGender,
     "face_age_gender", "model/age_gender", 112, "pad_center", kCropMean, kCropStd,
     "{type: age_gender, softmax_applied: true}", "[male, female]"},
    {"face_expression", "face_expression_model-weights_manifest.json",
     FaceApiNet::kFaceExpression, "face_expression", "model/face_expression", 112, "pad_center",
     kCropMean, kCropStd, "{type: classifier, softmax_applied: true}",
     "[neutral, happy, sad, angry, fearful, disgusted, surprised]"},
};

const ModelSpec* FindModel(const std::string& name) {
  for (const ModelSpec& m : kModels) {
    if (name == m.name) return &m;
  }
  return nullptr;
}

std::string ConfigYaml(const ModelSpec& m) {
  return absl::StrCat(
      "# Imported by stratus-import from ", kFaceApiPackage, "@", kFaceApiVersion,
      " (MIT licence). Do not edit: rerun the importer.\n",
      "name: ", m.name, "\n",
      "version: \"faceapi-", kFaceApiVersion, "+", kImporterVersion, "\"\n",
      "task: ", m.task, "\n",
      "source: \"npm:", kFaceApiPackage, "@", kFaceApiVersion, ":", m.source, "\"\n",
      "input: {width: ", m.size, ", height: ", m.size, ", resize: ", m.resize,
      ", interpolation: tf_bilinear, color: rgb, mean: ", m.mean, ", std: ", m.std, "}\n",
      "decoder: ", m.decoder, "\n",
      "labels: ", m.labels, "\n");
}

absl::StatusOr<std::string> ReadSmallFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path.string()));
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

absl::Status WriteFile(const fs::path& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path.string()));
  return absl::OkStatus();
}

// Replaces `dest` by the complete folder `tmp` (two renames: a folder cannot be renamed over a
// non-empty one). A reader sees the old model, briefly nothing, then the new one; a concurrent
// importer that installed the same stamp first wins.
absl::Status MoveIntoPlace(const fs::path& tmp, const fs::path& dest) {
  std::error_code ec;
  fs::path old;
  if (fs::exists(dest, ec)) {
    old = dest.parent_path() / absl::StrCat(".old-", dest.filename().string(), "-", getpid());
    fs::remove_all(old, ec);
    fs::rename(dest, old, ec);
    if (ec) return absl::InternalError(absl::StrCat("rename ", dest.string(), ": ", ec.message()));
  }
  fs::rename(tmp, dest, ec);
  if (ec) {
    // Another importer put its (identical) model there between our two renames: keep it.
    std::error_code ec2;
    const auto ours = ReadSmallFile(tmp / ".stamp");
    const auto theirs = ReadSmallFile(dest / ".stamp");
    if (ours.ok() && theirs.ok() && *ours == *theirs) {
      fs::remove_all(tmp, ec2);
      if (!old.empty()) fs::remove_all(old, ec2);
      return absl::OkStatus();
    }
    return absl::InternalError(absl::StrCat("rename ", tmp.string(), ": ", ec.message()));
  }
  if (!old.empty()) fs::remove_all(old, ec);
  return absl::OkStatus();
}

// Removes `.tmp-*-PID` / `.old-*-PID` folders left by importers that died (PID gone).
void RemoveLeftovers(const fs::path& model_dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(model_dir, ec)) {
    const std::string n = e.path().filename().string();
    if (n.rfind(".tmp-", 0) != 0 && n.rfind(".old-", 0) != 0) continue;
    const std::string pid = n.substr(n.find_last_of('-') + 1);
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    if (fs::exists(fs::path("/proc") / pid, ec)) continue;
    SLOG(INFO) << "removing leftover of an interrupted import" << Kv("path", e.path().string());
    fs::remove_all(e.path(), ec);
  }
}

absl::Status ImportOne(const ModelSpec& m, const FaceApiImportOptions& options,
                       const std::string& key) {
  const auto t0 = std::chrono::steady_clock::now();
  const fs::path manifest = options.package_dir / "model" / m.manifest;
  auto weights = LoadTfjsWeights(manifest);
  if (!weights.ok()) return weights.status();

  const fs::path dest = options.model_dir / m.name;
  const fs::path tmp =
      options.model_dir / absl::StrCat(".tmp-", m.name, "-", getpid());
  std::error_code ec;
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) return absl::InternalError(absl::StrCat("mkdir ", tmp.string(), ": ", ec.message()));

  absl::Status s = BuildFaceApiModel(m.net, *weights, tmp / "model.pt");
  if (s.ok()) s = WriteFile(tmp / "config.yaml", ConfigYaml(m));
  if (s.ok()) s = WriteFile(tmp / ".stamp", key + "\n");
  if (s.ok()) s = MoveIntoPlace(tmp, dest);
  if (!s.ok()) {
    fs::remove_all(tmp, ec);
    return absl::Status(s.code(), absl::StrCat(m.name, ": ", s.message()));
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  SLOG(INFO) << "imported model" << Kv("model", m.name) << Kv("tensors", weights->size())
             << Kv("path", dest.string()) << Kv("seconds", secs);
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> FaceApiModelNames() {
  std::vector<std::string> names;
  for (const ModelSpec& m : kModels) names.emplace_back(m.name);
  return names;
}

absl::StatusOr<std::string> FaceApiConfigYaml(const std::string& name) {
  const ModelSpec* m = FindModel(name);
  if (m == nullptr) return absl::NotFoundError(absl::StrCat("unknown face-api model ", name));
  return ConfigYaml(*m);
}

std::string StampKey(const std::string& integrity, const std::string& importer_version) {
  const std::string data = integrity + "\n" + importer_version;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kHex[md[i] >> 4]);
    hex.push_back(kHex[md[i] & 15]);
  }
  return hex;
}

absl::StatusOr<std::string> FileIntegritySha512(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path.string()));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha512(), nullptr);
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), buf.size());
    if (in.gcount() > 0) EVP_DigestUpdate(ctx, buf.data(), in.gcount());
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  std::string b64(4 * ((len + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), md, len);
  b64.resize(n);
  return "sha512-" + b64;
}

absl::StatusOr<FaceApiImportResult> ImportFaceApi(const FaceApiImportOptions& options) {
  if (options.package_dir.empty() || options.model_dir.empty()) {
    return absl::InvalidArgumentError("package_dir and model_dir are required");
  }
  if (!options.tarball.empty()) {
    auto got = FileIntegritySha512(options.tarball);
    if (!got.ok()) return got.status();
    if (*got != options.integrity) {
      return absl::FailedPreconditionError(absl::StrCat(options.tarball.string(),
                                                        ": integrity ", *got, " does not match ",
                                                        options.integrity));
    }
  }
  std::vector<const ModelSpec*> todo;
  if (options.models.empty()) {
    for (const ModelSpec& m : kModels) todo.push_back(&m);
  } else {
    for (const std::string& name : options.models) {
      const ModelSpec* m = FindModel(name);
      if (m == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("unknown face-api model '", name,
                                                       "'; known: ",
                                                       absl::StrJoin(FaceApiModelNames(), ", ")));
      }
      todo.push_back(m);
    }
  }
  std::error_code ec;
  fs::create_directories(options.model_dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("mkdir ", options.model_dir.string(), ": ", ec.message()));
  }
  RemoveLeftovers(options.model_dir);
  const std::string key = StampKey(options.integrity, kImporterVersion);
  FaceApiImportResult result;
  for (const ModelSpec* m : todo) {
    const fs::path dest = options.model_dir / m->name;
    if (!options.force && fs::exists(dest / "model.pt", ec) && fs::exists(dest / "config.yaml", ec)) {
      auto stamp = ReadSmallFile(dest / ".stamp");
      if (stamp.ok() && *stamp == key + "\n") {
        SLOG(INFO) << "model up to date, skipped" << Kv("model", m->name);
        result.skipped.push_back(m->name);
        continue;
      }
    }
    SLOG(INFO) << "importing model" << Kv("model", m->name) << Kv("manifest", m->manifest);
    absl::Status s = ImportOne(*m, options, key);
    if (!s.ok()) return s;
    result.imported.push_back(m->name);
  }
  return result;
}

}  // namespace stratus::import
