#include "transfer/segment_planner.hpp"

namespace haul::transfer {

namespace {

std::uint64_t align_up(std::uint64_t value, std::uint64_t align) {
  if (align <= 1) return value;
  return (value + align - 1) / align * align;
}

}  // namespace

std::optional<PieceAssignment> plan_next_piece(std::span<const ByteRange> pending,
                                               std::span<const ActiveSegment> active,
                                               const PlannerLimits& limits) {
  std::optional<std::size_t> best_pending;
  for (std::size_t i = 0; i < pending.size(); ++i) {
    if (pending[i].empty()) continue;
    if (!best_pending || pending[i].size() > pending[*best_pending].size()) best_pending = i;
  }

  // The best split is the one that hands out the largest back half.
  std::optional<PieceAssignment> best_split;
  for (std::size_t i = 0; i < active.size(); ++i) {
    const ActiveSegment& seg = active[i];
    if (seg.end <= seg.pos) continue;
    const std::uint64_t remaining = seg.end - seg.pos;
    if (remaining < 2 * limits.min_piece) continue;
    const std::uint64_t mid = align_up(seg.pos + remaining / 2, limits.align);
    if (mid <= seg.pos || mid >= seg.end || seg.end - mid < limits.min_piece) continue;
    if (!best_split || seg.end - mid > best_split->piece.size()) {
      best_split = PieceAssignment{{mid, seg.end}, i, std::nullopt};
    }
  }

  // Pending work goes first unless splitting yields a clearly bigger piece:
  // a pending range needs no cut connection.
  if (best_pending &&
      (!best_split || pending[*best_pending].size() >= best_split->piece.size())) {
    return PieceAssignment{pending[*best_pending], std::nullopt, best_pending};
  }
  return best_split;
}

}  // namespace haul::transfer
