// Synthesises face masks on unmasked faces (torch-free, OpenCV), for the mask classifier's
// third class, mask_worn_incorrectly, which ../shared/data/masks lacks (see training/MASK.md).
//
// A mask is placed from the 68 facial landmarks (iBUG order) of one face: its top edge crosses
// the face's mid-line at a height set by the placement, its sides reach the jaw line at that
// height (a mask is never narrower than about 3/4 of the face, even pulled down), and it hangs
// down by a mask's height, which does not shrink when the mask is pulled down: a mask under the
// mouth covers the chin and part of the neck. The mask itself is a generated texture (surgical
// with pleats and edge bindings, KN95 with a seam, or cloth: plain, striped, dotted or printed;
// colours weighted as worn: mostly surgical blue, white, black) warped onto that outline by a
// mesh, shaded as a curved surface, lit by the photo's own low-frequency light and colour cast,
// softened to the photo's sharpness, with ear loops and, sometimes, a contact shadow. Every
// choice comes from a generator seeded by `seed`: the same inputs draw the same mask.
//
// Without landmarks, GeometricLandmarks() stands in: the face is assumed to fill the image
// (true of the data set's without_mask photos, which are face crops).
#ifndef STRATUS_TRAINING_MASK_SYNTH_H_
#define STRATUS_TRAINING_MASK_SYNTH_H_

#include <cstdint>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace stratus::training {

enum class MaskPlacement {
  kCorrect,    // top edge across the nose bridge: nose, mouth and chin covered (with_mask)
  kNoseTip,    // top edge between the lower bridge and the nose tip: the bridge shows
  kBelowNose,  // top edge between the nose base and the upper lip: the nose is out
  kOnChin,     // top edge under the lower lip: nose and mouth out, the chin covered
  kUnderChin,  // pulled down under the chin, onto the neck
};

// True for every placement but kCorrect.
bool IsWornIncorrectly(MaskPlacement placement);

// The incorrect placements in the proportions the training set draws them (`u` in [0, 1)):
// kNoseTip 15%, kBelowNose 40%, kOnChin 30%, kUnderChin 15%.
MaskPlacement IncorrectPlacement(double u);

// 68 points of a frontal face filling a `size` image (eyes at 42% of the height, nose base at
// 62%, lower lip at 79%, chin at 94%): the stand-in when no landmarks were found.
std::vector<cv::Point2f> GeometricLandmarks(cv::Size size);

// Returns a copy of `image` (BGR, 8-bit, 3 channels) with a mask drawn on the face whose 68
// landmarks (image pixels) are `landmarks`. `landmarks` must hold 68 points. `texture`, when
// not empty (BGR, 8-bit), is the mask's fabric instead of a generated one: e.g. a patch of a
// real mask cut from a photo (RealMaskPatch), stretched over the outline, then shaded and lit
// as a generated one.
cv::Mat DrawSyntheticMaskOnLandmarks(const cv::Mat& image,
                                     const std::vector<cv::Point2f>& landmarks,
                                     MaskPlacement placement, uint64_t seed,
                                     const cv::Mat& texture = cv::Mat());

// The same on a face crop, placed by GeometricLandmarks(face.size()).
cv::Mat DrawSyntheticMask(const cv::Mat& face, MaskPlacement placement, uint64_t seed,
                          const cv::Mat& texture = cv::Mat());

// The middle of the mask in a photo of a masked face (`face`: the face's box, or the whole
// photo for a face crop): the part of the box between 58% and 88% of its height and 28% and
// 72% of its width, where a mask worn correctly covers nose, mouth and cheeks; resized to
// 64x48. Empty when that part has fewer than 8x6 pixels.
cv::Mat RealMaskPatch(const cv::Mat& image, const cv::Rect& face);

// The rectangle the mask service classifies for a detector box (x, y, width, height in pixels,
// unclipped): the box grown by the service's default margins (services/mask/mask.h: 18% of the
// width each side, 15% of the height above, 19% below), clipped to a `width` x `height` image.
// Training crops and evaluation crops are cut with it, so they frame faces as serving does.
cv::Rect MaskServiceCrop(double x, double y, double box_width, double box_height, int width,
                         int height);

// The split stratus-prepare-masks puts a photo of ../shared/data/masks in, from a hash (64-bit
// FNV-1a) of its file name alone: 0 training (80%), 1 validation (10%), 2 test (10%).
enum class MaskSplit { kTrain = 0, kValidation = 1, kTest = 2 };
MaskSplit MaskSplitOf(const std::string& file_name);

// The part of a labelled development set (../shared/data/masks-maskedfacenet) a photo is in,
// from another hash of its file name alone: kTrain 40% (may be trained on), kValidation 20%
// (choices), kTest 40% (reported, never trained on).
MaskSplit DevSetSplitOf(const std::string& file_name);

}  // namespace stratus::training

#endif  // STRATUS_TRAINING_MASK_SYNTH_H_
