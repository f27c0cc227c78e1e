// A FrameSource for tests: the square-crossing picture WriteSquareVideo() draws, generated in
// memory, with faults chosen per frame: the read throws, the decode throws (out of memory),
// the frame does not decode, or it decodes to pixels OpenCV cannot encode (two channels, which
// make cv::imencode and cv::cvtColor throw cv::Exception).
#ifndef STRATUS_SERVICES_INGEST_TESTING_FAULTY_SOURCE_H_
#define STRATUS_SERVICES_INGEST_TESTING_FAULTY_SOURCE_H_

#include <functional>
#include <memory>

#include "services/ingest/frame_source.h"

namespace stratus::ingest::testing_util {

enum class Fault { kNone, kThrowOnRead, kThrowOnDecode, kUndecodable, kOddPixels };

struct FaultySourceOptions {
  int frames = 45;           // then the source ends
  int crossing_frames = 30;  // the square crosses during these
  double fps = 30;           // paced as a file at this rate
  std::function<Fault(int index)> fault = [](int) { return Fault::kNone; };
};

// An opener that gives every stream a new FaultySource with these options.
FrameSourceOpener FaultySourceOpener(FaultySourceOptions options);

}  // namespace stratus::ingest::testing_util

#endif  // STRATUS_SERVICES_INGEST_TESTING_FAULTY_SOURCE_H_
