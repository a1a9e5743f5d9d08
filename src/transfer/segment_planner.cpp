#include "transfer/segment_planner.hpp"

#include <algorithm>

namespace haul::transfer {

namespace {

std::uint64_t align_up(std::uint64_t value, std::uint64_t align) {
  if (align <= 1) return value;
  return (value + align - 1) / align * align;
}

// The front piece (piece_size) of the lowest pending range; a remainder
// smaller than min_piece goes along rather than becoming a piece of its own.
std::optional<PieceAssignment> front_of_pending(std::span<const ByteRange> pending,
                                                const PlannerLimits& limits) {
  std::optional<std::size_t> lowest;
  for (std::size_t i = 0; i < pending.size(); ++i) {
    if (pending[i].empty()) continue;
    if (!lowest || pending[i].begin < pending[*lowest].begin) lowest = i;
  }
  if (!lowest) return std::nullopt;
  const ByteRange& range = pending[*lowest];
  const std::uint64_t size = std::max<std::uint64_t>(limits.piece_size, 1);
  std::uint64_t end = range.end;
  if (range.size() >= size + limits.min_piece) {
    end = std::min(align_up(range.begin + size, limits.align), range.end);
  }
  return PieceAssignment{{range.begin, end}, std::nullopt, lowest};
}

// The back half of the active segment with the most left to fetch.
std::optional<PieceAssignment> split_largest(std::span<const ActiveSegment> active,
                                             const PlannerLimits& limits) {
  std::optional<PieceAssignment> best;
  for (std::size_t i = 0; i < active.size(); ++i) {
    const ActiveSegment& seg = active[i];
    if (seg.end <= seg.pos) continue;
    const std::uint64_t remaining = seg.end - seg.pos;
    if (remaining < 2 * limits.min_piece) continue;
    const std::uint64_t mid = align_up(seg.pos + remaining / 2, limits.align);
    if (mid <= seg.pos || mid >= seg.end || seg.end - mid < limits.min_piece) continue;
    if (!best || seg.end - mid > best->piece.size()) {
      best = PieceAssignment{{mid, seg.end}, i, std::nullopt};
    }
  }
  return best;
}

}  // namespace

std::optional<PieceAssignment> plan_next_piece(std::span<const ByteRange> pending,
                                               std::span<const ActiveSegment> active,
                                               const PlannerLimits& limits) {
  if (auto piece = front_of_pending(pending, limits)) return piece;
  return split_largest(active, limits);
}

}  // namespace haul::transfer
