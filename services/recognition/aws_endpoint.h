// The AWS JSON 1.1 face of the recognition service: registers every Rekognition operation of
// the Recognizer ("RekognitionService.DetectFaces", ...) on an AwsJsonEndpoint
// (common/aws/json_protocol.h, which verifies SigV4 and writes AWS errors).
//
// Each request body is parsed once, into its proto request (FromAwsJson in aws_json.h:
// json_name = AWS member names, unknown members ignored, Image.Uri refused; a body of the wrong
// shape or with Bytes that are not base64 is InvalidParameterException), and each response
// proto converted once into AWS-shaped JSON (ToAwsJson), which the endpoint prints.
#ifndef STRATUS_SERVICES_RECOGNITION_AWS_ENDPOINT_H_
#define STRATUS_SERVICES_RECOGNITION_AWS_ENDPOINT_H_

#include "common/aws/json_protocol.h"
#include "services/recognition/rekognition.h"
#include "services/recognition/video_jobs.h"

namespace stratus::recognition {

// `recognizer` and `video` are not owned and must outlive the endpoint; without `video` the
// stored-video operations stay unknown (UnknownOperationException).
void RegisterRekognitionOperations(aws::AwsJsonEndpoint* endpoint, Recognizer* recognizer,
                                   VideoJobs* video = nullptr);

}  // namespace stratus::recognition

#endif  // STRATUS_SERVICES_RECOGNITION_AWS_ENDPOINT_H_
