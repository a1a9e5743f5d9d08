#include "transfer/byte_range.hpp"

#include <algorithm>

namespace haul::transfer {

RangeSet::RangeSet(const std::vector<ByteRange>& ranges) {
  for (const ByteRange& r : ranges) add(r);
}

void RangeSet::add(ByteRange range) {
  if (range.empty()) return;
  // First range whose end reaches the new range's begin (adjacent ranges merge).
  auto first = std::lower_bound(ranges_.begin(), ranges_.end(), range.begin,
                                [](const ByteRange& r, std::uint64_t pos) { return r.end < pos; });
  auto last = first;
  while (last != ranges_.end() && last->begin <= range.end) {
    range.begin = std::min(range.begin, last->begin);
    range.end = std::max(range.end, last->end);
    ++last;
  }
  first = ranges_.erase(first, last);
  ranges_.insert(first, range);
}

bool RangeSet::contains(std::uint64_t offset) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), offset,
                             [](std::uint64_t pos, const ByteRange& r) { return pos < r.end; });
  return it != ranges_.end() && it->begin <= offset;
}

std::uint64_t RangeSet::covered() const {
  std::uint64_t total = 0;
  for (const ByteRange& r : ranges_) total += r.size();
  return total;
}

std::uint64_t RangeSet::contiguous_end(std::uint64_t from) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), from,
                             [](std::uint64_t pos, const ByteRange& r) { return pos < r.end; });
  if (it != ranges_.end() && it->begin <= from) return it->end;
  return from;
}

std::vector<ByteRange> RangeSet::missing(std::uint64_t size) const {
  return missing_in(ByteRange{0, size});
}

std::vector<ByteRange> RangeSet::missing_in(ByteRange window) const {
  std::vector<ByteRange> gaps;
  std::uint64_t cursor = window.begin;
  for (const ByteRange& r : ranges_) {
    if (r.end <= cursor) continue;
    if (r.begin >= window.end) break;
    if (r.begin > cursor) gaps.push_back({cursor, std::min(r.begin, window.end)});
    cursor = std::max(cursor, r.end);
    if (cursor >= window.end) break;
  }
  if (cursor < window.end) gaps.push_back({cursor, window.end});
  return gaps;
}

}  // namespace haul::transfer
