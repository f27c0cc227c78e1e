// The `stratus models` and `stratus detect` commands: gRPC clients of the detector service
// (no LibTorch). The `stratus` binary calls them with argv starting at the command name.
//
//   stratus models [--endpoint HOST:PORT]
//     One JSON line per model: {"name", "version", "task", "decoder", "device", "state",
//     "error", "input_size": {"width", "height"}, "labels", "max_batch_size"}.
//   stratus detect [--model objects|faces|NAME] [--min-confidence P] [--max-results N]
//                  [--classes a,b] [--endpoint HOST:PORT] IMAGE...
//     Per image one JSON line {"image": PATH, "model": NAME, "detections": [{"label",
//     "confidence", "box": {"left", "top", "width", "height"}, "landmarks": [{"x", "y"}...]}]}
//     with boxes and points as fractions of the image (like Rekognition's BoundingBox). With
//     --model faces the face pipeline runs (AnalyzeFaces) and each face carries its 68
//     landmarks; other models run Detect. An image that cannot be read or is refused by the
//     service gets {"image": PATH, "model": NAME, "error": MESSAGE, "code": CODE} and the
//     command exits 1 after the other images.
//
// --output json prints each response in the protobuf JSON mapping (ModelInfo per line; a
// DetectResponse or AnalyzeFacesResponse per image), --output table aligned columns; both report
// failed images on stderr. The endpoint defaults to $STRATUS_DETECTOR_ADDR, else
// localhost:50052. Exit status (cli/command.h): 0 all good, 1 some image or the RPC failed, 2 bad
// usage, 3 the detector could not be reached.
#ifndef STRATUS_CLI_DETECTOR_H_
#define STRATUS_CLI_DETECTOR_H_

namespace stratus::cli {

int RunModelsCommand(int argc, char** argv);
int RunDetectCommand(int argc, char** argv);

}  // namespace stratus::cli

#endif  // STRATUS_CLI_DETECTOR_H_
