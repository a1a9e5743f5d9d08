#include "base/sparse.hpp"

#include <gtest/gtest.h>

#include <string>

namespace haul {
namespace {

struct Detail {
  std::string text;
  int count = 0;
  friend bool operator==(const Detail&, const Detail&) = default;
};

TEST(Sparse, AnUneditedValueReadsAsDefaultAndHoldsNoMemory) {
  const Sparse<Detail> detail;
  EXPECT_EQ(detail->text, "");
  EXPECT_EQ(detail->count, 0);
  EXPECT_FALSE(detail.allocated());
  EXPECT_EQ(sizeof(detail), sizeof(void*));
}

TEST(Sparse, EditingKeepsTheValue) {
  Sparse<Detail> detail;
  detail.edit().text = "loras/x.md";
  detail.edit().count = 3;
  EXPECT_TRUE(detail.allocated());
  EXPECT_EQ(detail->text, "loras/x.md");
  EXPECT_EQ(detail->count, 3);
}

TEST(Sparse, CopiesAreIndependent) {
  Sparse<Detail> original;
  original.edit().text = "a";
  Sparse<Detail> copy = original;
  copy.edit().text = "b";
  EXPECT_EQ(original->text, "a");
  EXPECT_EQ(copy->text, "b");
  Sparse<Detail> assigned;
  assigned = original;
  EXPECT_EQ(assigned->text, "a");
  const Sparse<Detail> unedited;
  assigned = unedited;
  EXPECT_FALSE(assigned.allocated());
}

TEST(Sparse, AssigningTheDefaultFreesTheValue) {
  Sparse<Detail> detail;
  detail = Detail{"set", 1};
  EXPECT_TRUE(detail.allocated());
  EXPECT_EQ(detail->text, "set");
  detail = Detail{};
  EXPECT_FALSE(detail.allocated());
  EXPECT_EQ(detail->count, 0);
}

TEST(Sparse, EqualityComparesValuesNotWhetherEdited) {
  Sparse<Detail> unedited;
  Sparse<Detail> edited_back;
  edited_back.edit().text = "x";
  EXPECT_FALSE(unedited == edited_back);
  edited_back.edit().text.clear();
  EXPECT_TRUE(unedited == edited_back);
}

}  // namespace
}  // namespace haul
