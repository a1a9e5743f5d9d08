#include "sources/source_kind.hpp"

#include <gtest/gtest.h>

namespace haul::sources {
namespace {

TEST(ClassifySource, RecognisesEachProvider) {
  EXPECT_EQ(classify_source("hf://org/repo/model.gguf"), SourceKind::kHuggingFace);
  EXPECT_EQ(classify_source("HF://Org/Repo"), SourceKind::kHuggingFace);
  EXPECT_EQ(classify_source("https://huggingface.co/org/repo/resolve/main/a.bin"),
            SourceKind::kHuggingFace);
  EXPECT_EQ(classify_source("https://hf.co/org/repo"), SourceKind::kHuggingFace);
  EXPECT_EQ(classify_source("https://civitai.com/models/1678575?modelVersionId=1900322"),
            SourceKind::kCivitai);
  EXPECT_EQ(classify_source("https://www.civitai.com/api/download/models/1900322"),
            SourceKind::kCivitai);
  EXPECT_EQ(classify_source("urn:air:sdxl:lora:civitai:1678575@1900322"), SourceKind::kCivitai);
  EXPECT_EQ(classify_source("s3://bucket/key.safetensors"), SourceKind::kS3);
  EXPECT_EQ(classify_source("https://example.com/model.safetensors"), SourceKind::kUrl);
}

TEST(ClassifySource, LookalikeHostsAreNotProviders) {
  EXPECT_EQ(classify_source("https://nothuggingface.co/a"), SourceKind::kUrl);
  EXPECT_EQ(classify_source("https://civitai.com.evil.example/models/1"), SourceKind::kUrl);
  EXPECT_EQ(classify_source("https://huggingface.co@evil.example/x"), SourceKind::kUrl);
}

TEST(ClassifySource, MirrorEndpointCountsAsHuggingFace) {
  EXPECT_EQ(
      classify_source("http://127.0.0.1:8080/org/repo/resolve/main/a.bin", "http://127.0.0.1:8080"),
      SourceKind::kHuggingFace);
  EXPECT_EQ(classify_source("http://127.0.0.1:9090/a.bin", "http://127.0.0.1:8080"),
            SourceKind::kUrl);  // another server on the mirror's machine
}

TEST(ClassifySource, EverythingElseIsUnknown) {
  EXPECT_EQ(classify_source("ftp://host/file"), SourceKind::kUnknown);
  EXPECT_EQ(classify_source("model.safetensors"), SourceKind::kUnknown);
  EXPECT_EQ(classify_source(""), SourceKind::kUnknown);
}

}  // namespace
}  // namespace haul::sources
