#include "training/models.h"

#include <cmath>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace stratus::training {
namespace {

torch::Tensor Uniform(std::vector<int64_t> shape, double bound) {
  return torch::rand(shape, torch::kFloat32).mul_(2 * bound).sub_(bound);
}

// Kaiming-uniform as torch.nn.Linear / Conv2d initialise weights (a = sqrt(5)).
torch::Tensor KaimingWeight(std::vector<int64_t> shape, int64_t fan_in) {
  return Uniform(std::move(shape), 1.0 / std::sqrt(static_cast<double>(fan_in)));
}

}  // namespace

torch::jit::Module BuildNgramBag(const ModelSpec& spec, const NgramBagInfo& info) {
  torch::jit::Module m("StratusNgramBag");
  m.register_attribute("training", c10::BoolType::get(), true);
  const int64_t d = spec.embedding_dim;
  const int64_t in = d + 2;
  const int64_t c = info.num_classes;
  // fastText-style small init of the embeddings; the <pad> row stays zero.
  torch::Tensor emb = Uniform({info.num_embeddings, d}, 1.0 / d);
  emb[0].zero_();
  m.register_parameter("emb", emb.requires_grad_(true), false);
  m.register_buffer("lex", info.lexicon.to(torch::kFloat32).contiguous());
  // Direct path from the lexicon channel to the logits, past the hidden layer and its dropout:
  // a lexicon word the training data never showed still moves the prediction.
  // Starts as a lexicon classifier: positive valence votes for the positive class, negative
  // valence for the negative one (when the job names them, as a MIXED output does).
  constexpr double kPrior = 4.0;  // logit per unit of squashed valence
  torch::Tensor w3 = torch::zeros({c, 2});
  if (info.mixed_positive >= 0 && info.mixed_negative >= 0) {
    w3[info.mixed_positive][0] = kPrior;
    w3[info.mixed_positive][1] = -kPrior;
    w3[info.mixed_negative][0] = -kPrior;
    w3[info.mixed_negative][1] = kPrior;
  }
  m.register_parameter("w3", w3.requires_grad_(true), false);
  const bool hidden = spec.hidden > 0;
  if (hidden) {
    m.register_parameter("w1", KaimingWeight({spec.hidden, in}, in).requires_grad_(true), false);
    m.register_parameter("b1", KaimingWeight({spec.hidden}, in).requires_grad_(true), false);
    m.register_parameter("w2", KaimingWeight({c, spec.hidden}, spec.hidden).requires_grad_(true),
                         false);
    m.register_parameter("b2", KaimingWeight({c}, spec.hidden).requires_grad_(true), false);
  } else {
    m.register_parameter("w2", KaimingWeight({c, in}, in).requires_grad_(true), false);
    m.register_parameter("b2", KaimingWeight({c}, in).requires_grad_(true), false);
  }
  const bool mixed = info.mixed_positive >= 0 && info.mixed_negative >= 0;
  std::ostringstream src;
  src << absl::StrFormat(R"(
def features(self, ids: Tensor, clauses: Tensor) -> Tuple[Tensor, Tensor]:
    k = %d
    mask = torch.gt(ids, 0).float()
    e = torch.embedding(self.emb, ids, 0)
    lx = torch.embedding(self.lex, ids, 0)
    f = torch.cat([e, lx], 2)
    onehot = torch.eq(clauses.unsqueeze(2), torch.arange(k).reshape([1, 1, k])).float() * mask.unsqueeze(2)
    sums = torch.matmul(onehot.transpose(1, 2), f)
    counts = onehot.sum(1).unsqueeze(2)
    return sums, counts

def head(self, sums: Tensor, counts: Tensor) -> Tensor:
    d = %d
    mean = sums.narrow(-1, 0, d) / torch.clamp(counts, min=1.0)
    lx = sums.narrow(-1, d, 2)
    lxn = lx / torch.sqrt(lx * lx + 15.0)
    x = torch.cat([mean, lxn], -1)
)",
                         spec.max_clauses, d);
  if (hidden) {
    src << absl::StrFormat(R"(    h = torch.relu(torch.linear(x, self.w1, self.b1))
    h = torch.dropout(h, %f, self.training)
    return torch.linear(h, self.w2, self.b2) + torch.matmul(lxn, self.w3.t())
)",
                           spec.dropout);
  } else {
    src << absl::StrFormat(R"(    x = torch.dropout(x, %f, self.training)
    return torch.linear(x, self.w2, self.b2) + torch.matmul(lxn, self.w3.t())
)",
                           spec.dropout);
  }
  src << R"(
def logits(self, ids: Tensor, clauses: Tensor) -> Tensor:
    sums, counts = self.features(ids, clauses)
    return self.head(sums.sum(1), counts.sum(1))
)";
  if (!mixed) {
    src << R"(
def forward(self, ids: Tensor, clauses: Tensor) -> Tensor:
    return torch.softmax(self.logits(ids, clauses), 1)
)";
  } else {
    // MIXED: positive evidence in one clause and negative evidence in another. Each clause is
    // classified on its own by the same head; MIXED = max over ordered pairs (c, c') of
    // distinct clauses of P(positive | c) * P(negative | c'); the three trained classes share
    // the rest in their whole-text proportions.
    src << absl::StrFormat(R"(
def forward(self, ids: Tensor, clauses: Tensor) -> Tensor:
    k = %d
    sums, counts = self.features(ids, clauses)
    p = torch.softmax(self.head(sums.sum(1), counts.sum(1)), 1)
    pc = torch.softmax(self.head(sums, counts), 2)
    valid = torch.gt(counts.squeeze(2), 0.0).float()
    sp = pc.select(2, %d) * valid
    sn = pc.select(2, %d) * valid
    pair = sp.unsqueeze(2) * sn.unsqueeze(1) * (1.0 - torch.eye(k).unsqueeze(0))
    mixed = pair.flatten(1).max(1)[0].unsqueeze(1)
    return torch.cat([p * (1.0 - mixed), mixed], 1)
)",
                           spec.max_clauses, info.mixed_positive, info.mixed_negative);
  }
  m.define(src.str());
  return m;
}

torch::jit::Module BuildConvNet(const ModelSpec& spec, int num_classes) {
  torch::jit::Module m("StratusConvNet");
  m.register_attribute("training", c10::BoolType::get(), true);
  struct Conv {
    int64_t in, out, stride;
  };
  const int64_t w = spec.width;
  // stem, then per stage: a 3x3 conv keeping width and a 3x3 stride-2 conv doubling it.
  const std::vector<Conv> convs = {{3, w, 2},         {w, w, 1},         {w, 2 * w, 2},
                                   {2 * w, 2 * w, 1}, {2 * w, 4 * w, 2}, {4 * w, 4 * w, 1},
                                   {4 * w, 8 * w, 2}};
  std::ostringstream body;
  for (size_t i = 0; i < convs.size(); ++i) {
    const Conv& cv = convs[i];
    const int64_t fan_in = cv.in * 9;
    // He-normal for ReLU networks.
    m.register_parameter(absl::StrCat("c", i, "_w"),
                         (torch::randn({cv.out, cv.in, 3, 3}) * std::sqrt(2.0 / fan_in))
                             .contiguous(torch::MemoryFormat::ChannelsLast)
                             .requires_grad_(true),
                         false);
    m.register_parameter(absl::StrCat("bn", i, "_w"), torch::ones({cv.out}).requires_grad_(true),
                         false);
    m.register_parameter(absl::StrCat("bn", i, "_b"), torch::zeros({cv.out}).requires_grad_(true),
                         false);
    m.register_buffer(absl::StrCat("bn", i, "_m"), torch::zeros({cv.out}));
    m.register_buffer(absl::StrCat("bn", i, "_v"), torch::ones({cv.out}));
    body << absl::StrFormat(
        "    x = torch.conv2d(x, self.c%d_w, None, [%d, %d], [1, 1])\n"
        "    x = torch.relu(torch.batch_norm(x, self.bn%d_w, self.bn%d_b, self.bn%d_m, "
        "self.bn%d_v, self.training, 0.1, 1e-5, False))\n",
        i, cv.stride, cv.stride, i, i, i, i);
  }
  const int64_t feat = 8 * w;
  m.register_parameter("fc_w", KaimingWeight({num_classes, feat}, feat).requires_grad_(true),
                       false);
  m.register_parameter("fc_b", KaimingWeight({num_classes}, feat).requires_grad_(true), false);
  std::ostringstream src;
  src << "def logits(self, x: Tensor) -> Tensor:\n"
      << body.str() << "    x = torch.mean(x, [2, 3])\n"
      << absl::StrFormat("    x = torch.dropout(x, %f, self.training)\n", spec.dropout)
      << "    return torch.linear(x, self.fc_w, self.fc_b)\n\n"
      << "def forward(self, x: Tensor) -> Tensor:\n"
      << "    return torch.softmax(self.logits(x), 1)\n";
  m.define(src.str());
  return m;
}

}  // namespace stratus::training
