// The AWS JSON 1.1 face of the recognition service: registers every Rekognition operation of
// the Recognizer ("RekognitionService.DetectFaces", ...) on an AwsJsonEndpoint
// (common/aws/json_protocol.h, which verifies SigV4 and writes AWS errors).
//
// Request bodies convert to the proto requests with JsonStringToMessage (json_name = AWS member
// names; unknown members are ignored, as Rekognition ignores members it does not use here).
// Checked before conversion: Image/SourceImage/TargetImage must be objects; Bytes must be strict
// base64 (else InvalidParameterException); Uri is refused (not part of the AWS API). Responses
// are written with MessageToJsonString and then shaped as AWS writes them: empty strings and
// *_UNSPECIFIED enums left out, empty lists kept, FaceCount/UserCount as numbers,
// CreationTimestamp as epoch seconds.
#ifndef STRATUS_SERVICES_RECOGNITION_AWS_ENDPOINT_H_
#define STRATUS_SERVICES_RECOGNITION_AWS_ENDPOINT_H_

#include "common/aws/json_protocol.h"
#include "services/recognition/rekognition.h"

namespace stratus::recognition {

// `recognizer` is not owned and must outlive the endpoint.
void RegisterRekognitionOperations(aws::AwsJsonEndpoint* endpoint, Recognizer* recognizer);

}  // namespace stratus::recognition

#endif  // STRATUS_SERVICES_RECOGNITION_AWS_ENDPOINT_H_
