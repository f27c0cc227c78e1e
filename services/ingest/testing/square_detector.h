// Test doubles for ingest: a detector service over real gRPC whose "model" finds the bright
// square that WriteSquareVideo() draws, so detections follow what the video shows.
#ifndef STRATUS_SERVICES_INGEST_TESTING_SQUARE_DETECTOR_H_
#define STRATUS_SERVICES_INGEST_TESTING_SQUARE_DETECTOR_H_

#include <memory>
#include <string>

#include "common/service_host.h"
#include "stratus/v1/detector.grpc.pb.h"

namespace stratus::ingest::testing_util {

class SquareDetectorService;

struct SquareDetector {
  std::unique_ptr<SquareDetectorService> service;
  std::unique_ptr<ServiceHost> host;
  int grpc_port() const { return host->grpc_port(); }
  ~SquareDetector();
};

// A detector on 127.0.0.1:<any port>: model "objects" reports the bright region as a "person"
// (confidence 0.9), model "faces" its top square (as wide as it is) as a "face" (0.8). It accepts
// the keys of auth::testing::TestKeyStore() and makes kAdminKey the process's default client key,
// so the ingest code under test reaches it.
std::unique_ptr<SquareDetector> StartSquareDetector();

// Writes an MJPEG AVI of `frames` 320x180 frames at `fps`: a white square crosses from left to
// right during the first `crossing_frames`, then the frame stays dark.
void WriteSquareVideo(const std::string& path, int frames, int fps, int crossing_frames);

}  // namespace stratus::ingest::testing_util

#endif  // STRATUS_SERVICES_INGEST_TESTING_SQUARE_DETECTOR_H_
