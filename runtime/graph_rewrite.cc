#include "runtime/graph_rewrite.h"

#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>

#include <vector>

namespace stratus::runtime {

int FoldTfSamePadding(torch::jit::Module& module) {
  std::shared_ptr<torch::jit::Graph> graph = module.get_method("forward").graph();
  int folded = 0;
  std::vector<torch::jit::Node*> convs;
  for (torch::jit::Node* n : graph->nodes()) {
    if (n->kind() == c10::Symbol::fromQualString("aten::conv2d") && n->inputs().size() == 7) {
      convs.push_back(n);
    }
  }
  for (torch::jit::Node* conv : convs) {
    torch::jit::Value* padded = conv->input(0);
    torch::jit::Node* pad = padded->node();
    if (pad->kind() != c10::Symbol::fromQualString("aten::constant_pad_nd") ||
        padded->uses().size() != 1 || pad->inputs().size() != 3) {
      continue;
    }
    const auto pads = torch::jit::toIValue(pad->input(1));
    const auto value = torch::jit::toIValue(pad->input(2));
    const auto weight = torch::jit::toIValue(conv->input(1));
    const auto conv_pad = torch::jit::toIValue(conv->input(4));
    const auto dilation = torch::jit::toIValue(conv->input(5));
    if (!pads || !pads->isIntList() || !value || !(value->isDouble() || value->isInt()) ||
        !weight || !weight->isTensor() || !conv_pad || !conv_pad->isIntList() || !dilation ||
        !dilation->isIntList()) {
      continue;
    }
    const std::vector<int64_t> p = pads->toIntVector();
    const double v = value->isDouble() ? value->toDouble() : static_cast<double>(value->toInt());
    const std::vector<int64_t> cp = conv_pad->toIntVector();
    const std::vector<int64_t> dil = dilation->toIntVector();
    const at::Tensor w = weight->toTensor();
    const bool zero_conv_pad = std::all_of(cp.begin(), cp.end(), [](int64_t x) { return x == 0; });
    const bool unit_dilation =
        std::all_of(dil.begin(), dil.end(), [](int64_t x) { return x == 1; });
    if (p.size() != 4 || p[0] != 0 || p[2] != 0 || p[1] < 0 || p[3] < 0 || v != 0.0 ||
        !zero_conv_pad || !unit_dilation || w.dim() != 4) {
      continue;
    }
    const int64_t right = p[1], bottom = p[3];
    at::Tensor w2 = at::constant_pad_nd(w, {right, 0, bottom, 0}, 0);
    if (w.is_contiguous(at::MemoryFormat::ChannelsLast) && !w.is_contiguous()) {
      w2 = w2.contiguous(at::MemoryFormat::ChannelsLast);
    }
    torch::jit::WithInsertPoint guard(conv);
    torch::jit::Value* w2v = graph->insertConstant(w2);
    torch::jit::Value* cpv = graph->insertConstant(std::vector<int64_t>{bottom, right});
    conv->replaceInput(0, pad->input(0));
    conv->replaceInput(1, w2v);
    conv->replaceInput(4, cpv);
    if (!pad->hasUses()) pad->destroy();
    ++folded;
  }
  return folded;
}

}  // namespace stratus::runtime
