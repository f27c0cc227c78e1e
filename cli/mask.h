// The `stratus classify-mask` command: a gRPC client of the mask service (no LibTorch). The
// `stratus` binary calls it with argv starting at the command name.
//
//   stratus classify-mask [--endpoint HOST:PORT] [--min-face-confidence P] IMAGE...
//     Per image one JSON line {"image": PATH, "model_version": V, "faces": [{"box": {"left",
//     "top", "width", "height"}, "face_confidence", "label", "confidence", "probabilities":
//     {LABEL: P...}}]}: every face the detector finds (largest first) and its class.
//   stratus classify-mask --crop [--endpoint HOST:PORT] IMAGE...
//     Each image is one face crop: per image {"image": PATH, "label": CLASS, "confidence": P,
//     "probabilities": {"with_mask": P, "without_mask": P, "mask_worn_incorrectly": P}}.
//     Crops go to the service in requests of up to 100.
// An image that cannot be read or is refused by the service gets {"image": PATH, "error":
// MESSAGE, "code": CODE} and the command exits 1 after the other images.
//
// The endpoint defaults to $STRATUS_MASK_ADDR, else localhost:50054. Exit status: 0 all good,
// 1 some image or the RPC failed, 2 bad usage.
#ifndef STRATUS_CLI_MASK_H_
#define STRATUS_CLI_MASK_H_

namespace stratus::cli {

int RunClassifyMaskCommand(int argc, char** argv);

}  // namespace stratus::cli

#endif  // STRATUS_CLI_MASK_H_
