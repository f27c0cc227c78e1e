// Builds TorchScript modules for the five face-api (@vladmandic/face-api) networks from their
// TF.js weights, in C++ (no Python): a torch::jit::Module with the weights registered as
// parameters (converted to NCHW/OIHW, channels_last, batch norm and scale layers folded) and a
// forward() defined in TorchScript source that reproduces face-api's TensorFlow.js graph,
// including TF's asymmetric SAME padding.
//
// Inputs and outputs (all float32, NCHW, the input already normalised as config.yaml says):
//   kSsdMobilenetV1  x [B,3,512,512] -> (boxes [B,5118,4] (ymin,xmin,ymax,xmax) as fractions of
//                    the 512x512 input, decoded with the anchors; scores [B,5118] after sigmoid)
//   kFaceLandmark68  x [B,3,112,112] -> [B,136] interleaved x,y as fractions of the 112x112 input
//   kFaceRecognition x [B,3,150,150] -> [B,128] descriptor (not L2-normalised, as face-api)
//   kAgeGender       x [B,3,112,112] -> (age [B] in years, gender [B,2] softmax over male,female)
//   kFaceExpression  x [B,3,112,112] -> [B,7] softmax over neutral, happy, sad, angry, fearful,
//                    disgusted, surprised
//
// Thread-compatible. Errors: INVALID_ARGUMENT naming the tensor when a weight is missing or has
// an unexpected shape; INTERNAL when LibTorch fails to compile or save the module.
#ifndef STRATUS_TOOLS_IMPORT_FACEAPI_MODELS_H_
#define STRATUS_TOOLS_IMPORT_FACEAPI_MODELS_H_

#include <filesystem>

#include "absl/status/status.h"
#include "tools/import/tfjs_weights.h"

namespace stratus::import {

enum class FaceApiNet { kSsdMobilenetV1, kFaceLandmark68, kFaceRecognition, kAgeGender, kFaceExpression };

// Builds the module for `net` and saves it (TorchScript archive) to `model_pt`.
absl::Status BuildFaceApiModel(FaceApiNet net, const TfjsWeightMap& weights,
                               const std::filesystem::path& model_pt);

}  // namespace stratus::import

#endif  // STRATUS_TOOLS_IMPORT_FACEAPI_MODELS_H_
