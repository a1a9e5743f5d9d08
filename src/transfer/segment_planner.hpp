// Chooses the byte range a freed connection fetches next. Pure: the caller
// owns the segments and applies the returned assignment.
//
// Work left is either pending (not assigned to any connection) or the tail of
// an active segment. A freed connection takes the largest pending range, or
// splits the largest active tail in half so no connection idles near the end
// of a file, never making a piece smaller than `min_piece`.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "transfer/byte_range.hpp"

namespace haul::transfer {

// What an active connection still has to fetch: [pos, end).
struct ActiveSegment {
  std::uint64_t pos = 0;
  std::uint64_t end = 0;
};

struct PieceAssignment {
  ByteRange piece;
  // Set when the piece is the back half of an active segment: that segment's
  // end must become piece.begin.
  std::optional<std::size_t> split_segment;
  // Set when the piece is a whole pending range, which leaves the pending list.
  std::optional<std::size_t> pending_index;
};

struct PlannerLimits {
  std::uint64_t min_piece = 4ull << 20;  // never create a piece smaller than this
  std::uint64_t align = 64ull << 10;     // split points are multiples of this
};

std::optional<PieceAssignment> plan_next_piece(std::span<const ByteRange> pending,
                                               std::span<const ActiveSegment> active,
                                               const PlannerLimits& limits = {});

}  // namespace haul::transfer
