// Imports the five face-api networks of the npm package @vladmandic/face-api into the model
// repository: one folder per model with model.pt (TorchScript, see faceapi_models.h) and
// config.yaml (the runtime's contract, runtime/MODELS.md).
//
// Caching: a model folder holds a `.stamp` file with StampKey(integrity, kImporterVersion); a
// folder whose stamp matches is skipped. A model is written into a temporary folder beside its
// final place and renamed into place, so a reader never sees a half-written model.
//
// Thread-compatible; two importers running at once on the same repository each write complete
// folders, and one of them installs each model. Errors: FAILED_PRECONDITION when the tarball's integrity does
// not match, NOT_FOUND for missing weights files, INTERNAL for I/O and LibTorch failures.
#ifndef STRATUS_TOOLS_IMPORT_FACEAPI_IMPORT_H_
#define STRATUS_TOOLS_IMPORT_FACEAPI_IMPORT_H_

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace stratus::import {

inline constexpr char kFaceApiPackage[] = "@vladmandic/face-api";
inline constexpr char kFaceApiVersion[] = "1.7.15";
inline constexpr char kFaceApiIntegrity[] =
    "sha512-WDMmK3CfNLo8jylWqMoQgf4nIst3M0fzx1dnac96wv/dvMTN4DxC/Pq1DGtduDk1lktCamQ3MIDXFnvrdHTXDw==";
// Bump when the generated modules or configs change: it invalidates every cached import.
inline constexpr char kImporterVersion[] = "imp.3";

struct FaceApiImportOptions {
  // Root of the extracted npm package (the folder holding package.json and model/). Required.
  std::filesystem::path package_dir;
  // The model repository ($STRATUS_MODEL_DIR). Required.
  std::filesystem::path model_dir;
  // When set, the npm tarball is hashed and must match `integrity` before anything is imported.
  std::filesystem::path tarball;
  // npm integrity (SRI, sha512) of the package; part of the cache key.
  std::string integrity = kFaceApiIntegrity;
  // Model names to import (faces, face_landmarks68, face_descriptor, face_age_gender,
  // face_expression); empty means all.
  std::vector<std::string> models;
  // Rebuild even when the stamp matches.
  bool force = false;
};

struct FaceApiImportResult {
  std::vector<std::string> imported;
  std::vector<std::string> skipped;  // cached, stamp matched
};

absl::StatusOr<FaceApiImportResult> ImportFaceApi(const FaceApiImportOptions& options);

// The names of the models this importer produces, in import order.
std::vector<std::string> FaceApiModelNames();

// config.yaml for the named model; NOT_FOUND for an unknown name.
absl::StatusOr<std::string> FaceApiConfigYaml(const std::string& name);

// Hex sha256 of `integrity` + "\n" + `importer_version`.
std::string StampKey(const std::string& integrity, const std::string& importer_version);

// npm-style SRI string ("sha512-<base64>") of a file's contents.
absl::StatusOr<std::string> FileIntegritySha512(const std::filesystem::path& path);

}  // namespace stratus::import

#endif  // STRATUS_TOOLS_IMPORT_FACEAPI_IMPORT_H_
