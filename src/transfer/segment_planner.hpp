// Chooses the byte range a freed connection fetches next. Pure: the caller
// owns the segments and applies the returned assignment.
//
// Unassigned ("pending") bytes are handed out in file order, a piece of
// about `piece_size` at a time, so the bytes on disk grow as one contiguous
// prefix plus a short window: the SHA-256, which can only run over the
// prefix, keeps pace with the download instead of waiting for the end. When
// nothing is pending, a freed connection splits the largest remaining tail of
// an active segment in half, so no connection idles near the end of a file;
// a split never makes a piece smaller than `min_piece`.
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
  // Set when the piece is the front of a pending range: that range must now
  // start at piece.end (and leave the list when empty).
  std::optional<std::size_t> pending_index;
};

struct PlannerLimits {
  std::uint64_t min_piece = 4ull << 20;  // no split makes a piece smaller than this
  std::uint64_t align = 64ull << 10;     // piece boundaries are multiples of this
  // Target size of a piece cut from pending bytes; may be below min_piece.
  std::uint64_t piece_size = 16ull << 20;
};

std::optional<PieceAssignment> plan_next_piece(std::span<const ByteRange> pending,
                                               std::span<const ActiveSegment> active,
                                               const PlannerLimits& limits = {});

}  // namespace haul::transfer
