#include "sources/civitai/civitai_ref.hpp"

#include <gtest/gtest.h>

namespace haul::sources::civitai {
namespace {

CivitaiRef must_parse(std::string_view source) {
  auto ref = parse_civitai_source(source);
  EXPECT_TRUE(ref.has_value()) << source << ": " << (ref ? "" : ref.error().message);
  return ref ? *ref : CivitaiRef{};
}

// The error message; checks the failure is a one-line kInvalidArgument.
std::string must_fail(std::string_view source) {
  auto ref = parse_civitai_source(source);
  EXPECT_FALSE(ref.has_value()) << source << " parsed unexpectedly";
  if (ref) return {};
  EXPECT_EQ(ref.error().code, ErrorCode::kInvalidArgument) << ref.error().message;
  EXPECT_EQ(ref.error().message.find('\n'), std::string::npos);
  return ref.error().message;
}

// ---- model page URLs ------------------------------------------------------------

TEST(ParseCivitaiSource, ModelPageWithVersion) {
  // The civitdl line from seed 000.
  CivitaiRef ref = must_parse("https://civitai.com/models/1678575?modelVersionId=1900322");
  EXPECT_EQ(ref.model_id, 1678575u);
  EXPECT_EQ(ref.version_id, 1900322u);
  EXPECT_TRUE(ref.download_query.empty());
  EXPECT_EQ(ref.air_type, "");
  EXPECT_EQ(ref.format, "");
}

TEST(ParseCivitaiSource, ModelPageWithSlugAndNoVersion) {
  CivitaiRef ref = must_parse("https://civitai.com/models/827184/wai-illustrious-sdxl");
  EXPECT_EQ(ref.model_id, 827184u);
  EXPECT_FALSE(ref.version_id.has_value());
}

TEST(ParseCivitaiSource, ModelPageWithSlugAndVersion) {
  CivitaiRef ref = must_parse(
      "https://www.civitai.com/models/827184/wai-illustrious-sdxl?modelVersionId=2514310");
  EXPECT_EQ(ref.model_id, 827184u);
  EXPECT_EQ(ref.version_id, 2514310u);
}

TEST(ParseCivitaiSource, SchemeLessHostAndOtherQueryParameters) {
  CivitaiRef ref = must_parse("civitai.com/models/43331?modelVersionId=176425&ref=abc");
  EXPECT_EQ(ref.model_id, 43331u);
  EXPECT_EQ(ref.version_id, 176425u);
  EXPECT_EQ(must_parse("www.civitai.com/models/43331").model_id, 43331u);
  EXPECT_EQ(must_parse("  http://civitai.com/models/43331/  ").model_id, 43331u);
}

TEST(ParseCivitaiSource, FragmentIsIgnored) {
  CivitaiRef ref = must_parse("https://civitai.com/models/43331?modelVersionId=176425#details");
  EXPECT_EQ(ref.version_id, 176425u);
}

// ---- download and version URLs --------------------------------------------------

TEST(ParseCivitaiSource, DownloadUrl) {
  CivitaiRef ref = must_parse("https://civitai.com/api/download/models/2514310");
  EXPECT_FALSE(ref.model_id.has_value());
  EXPECT_EQ(ref.version_id, 2514310u);
  EXPECT_TRUE(ref.download_query.empty());
}

TEST(ParseCivitaiSource, DownloadUrlKeepsFileSelectors) {
  CivitaiRef ref = must_parse(
      "https://civitai.com/api/download/models/2514310?type=Pruned%20Model&format=SafeTensor"
      "&size=pruned&fp=fp16");
  EXPECT_EQ(ref.version_id, 2514310u);
  const std::map<std::string, std::string> expected = {
      {"type", "Pruned Model"}, {"format", "SafeTensor"}, {"size", "pruned"}, {"fp", "fp16"}};
  EXPECT_EQ(ref.download_query, expected);
}

TEST(ParseCivitaiSource, DownloadUrlReadsPlusAsSpaceAndKeepsFileId) {
  CivitaiRef ref = must_parse(
      "https://civitai.com/api/download/models/2514310?type=Training+Data&fileId=2402203");
  EXPECT_EQ(ref.download_query.at("type"), "Training Data");
  EXPECT_EQ(ref.download_query.at("fileId"), "2402203");
}

TEST(ParseCivitaiSource, TokenIsDroppedAndNeverEchoed) {
  CivitaiRef ref =
      must_parse("https://civitai.com/api/download/models/1900322?token=SECRETKEY123&type=Model");
  EXPECT_EQ(ref.version_id, 1900322u);
  EXPECT_EQ(ref.download_query.count("token"), 0u);
  EXPECT_EQ(ref.download_query.at("type"), "Model");
  EXPECT_EQ(
      must_parse("https://civitai.com/api/download/models/1900322?token=abc").download_query.size(),
      0u);

  std::string error = must_fail("https://civitai.com/api/download/models/x?token=SECRETKEY123");
  EXPECT_EQ(error.find("SECRETKEY123"), std::string::npos) << error;
  EXPECT_NE(error.find("token=REDACTED"), std::string::npos) << error;
}

TEST(ParseCivitaiSource, ModelVersionPages) {
  EXPECT_EQ(must_parse("https://civitai.com/model-versions/1900322").version_id, 1900322u);
  EXPECT_EQ(must_parse("https://civitai.com/api/v1/model-versions/1900322").version_id, 1900322u);
  CivitaiRef model = must_parse("https://civitai.com/api/v1/models/1678575");
  EXPECT_EQ(model.model_id, 1678575u);
  EXPECT_FALSE(model.version_id.has_value());
}

// ---- AIRs -----------------------------------------------------------------------

TEST(ParseCivitaiSource, FullAir) {
  CivitaiRef ref = must_parse("urn:air:sdxl:checkpoint:civitai:827184@2514310");
  EXPECT_EQ(ref.model_id, 827184u);
  EXPECT_EQ(ref.version_id, 2514310u);
  EXPECT_EQ(ref.air_type, "checkpoint");
  EXPECT_EQ(ref.format, "");
  EXPECT_TRUE(ref.download_query.empty());
}

TEST(ParseCivitaiSource, AirWithFormat) {
  CivitaiRef ref = must_parse("urn:air:sd1:lora:civitai:43331@176425.safetensors");
  EXPECT_EQ(ref.model_id, 43331u);
  EXPECT_EQ(ref.version_id, 176425u);
  EXPECT_EQ(ref.format, "safetensors");
  EXPECT_EQ(ref.air_type, "lora");
}

TEST(ParseCivitaiSource, AirWithFileId) {
  // The form civitai's own air tests use for a pinned file.
  CivitaiRef ref = must_parse("urn:air:sdxl:checkpoint:civitai:1224788@2467972+2356618");
  EXPECT_EQ(ref.model_id, 1224788u);
  EXPECT_EQ(ref.version_id, 2467972u);
  EXPECT_EQ(ref.download_query.at("fileId"), "2356618");
}

TEST(ParseCivitaiSource, AirWithoutVersion) {
  CivitaiRef ref = must_parse("urn:air:sdxl:lora:civitai:1678575");
  EXPECT_EQ(ref.model_id, 1678575u);
  EXPECT_FALSE(ref.version_id.has_value());
  EXPECT_EQ(ref.air_type, "lora");
}

TEST(ParseCivitaiSource, AirOptionalPrefixesAndSegments) {
  CivitaiRef no_urn = must_parse("air:sdxl:lora:civitai:1678575@1900322");
  EXPECT_EQ(no_urn.version_id, 1900322u);
  EXPECT_EQ(no_urn.air_type, "lora");

  CivitaiRef no_type = must_parse("urn:air:sdxl:civitai:1678575@1900322");
  EXPECT_EQ(no_type.version_id, 1900322u);
  EXPECT_EQ(no_type.air_type, "") << "with three segments the first is the ecosystem";

  CivitaiRef bare = must_parse("urn:air:civitai:1678575@1900322");
  EXPECT_EQ(bare.model_id, 1678575u);
  EXPECT_EQ(bare.version_id, 1900322u);

  CivitaiRef shouting = must_parse("URN:AIR:SDXL:LORA:CIVITAI:1678575@1900322");
  EXPECT_EQ(shouting.version_id, 1900322u);
  EXPECT_EQ(shouting.air_type, "lora");
}

TEST(ParseCivitaiSource, OtherAirSourcesAreRejected) {
  std::string error = must_fail("urn:air:sdxl:checkpoint:huggingface:stabilityai/sdxl@main");
  EXPECT_NE(error.find("AIR source 'huggingface' is not civitai"), std::string::npos) << error;
  EXPECT_NE(error.find("civitai source 'urn:air:sdxl:checkpoint:huggingface:"), std::string::npos)
      << error;
  must_fail("urn:air:sdxl:lora:orchestrator:blob@12345");
}

TEST(ParseCivitaiSource, MalformedAirs) {
  EXPECT_NE(must_fail("urn:air:sdxl:lora:civitai:abc@1").find("'abc' is not a number"),
            std::string::npos);
  EXPECT_NE(must_fail("urn:air:sdxl:lora:civitai:1@main").find("AIR version 'main'"),
            std::string::npos);
  must_fail("urn:air:sdxl:lora:civitai:1@2+x");
  must_fail("urn:air:sdxl:lora:civitai:1@2.");
  must_fail("urn:air:sdxl:lora:civitai:@2");
  must_fail("urn:air:a:b:c:civitai:1@2");  // too many segments
  must_fail("urn:air:sd xl:lora:civitai:1@2");
  must_fail("urn:air:sdxl:lora:civitai:0@2");
  must_fail("urn:air:sdxl:lora:civitai:1@99999999999999999999999");
}

// ---- errors ---------------------------------------------------------------------

TEST(ParseCivitaiSource, NoIdIsNamedInTheMessage) {
  std::string error = must_fail("https://civitai.com/models/");
  EXPECT_EQ(error, "civitai source 'https://civitai.com/models/': no model or version id");
  EXPECT_EQ(must_fail("https://civitai.com/api/download/models"),
            "civitai source 'https://civitai.com/api/download/models': no model or version id");
}

TEST(ParseCivitaiSource, BadIdsAndPaths) {
  EXPECT_NE(must_fail("https://civitai.com/models/abc").find("model id 'abc'"), std::string::npos);
  EXPECT_NE(must_fail("https://civitai.com/models/1?modelVersionId=x")
                .find("modelVersionId 'x' is not a number"),
            std::string::npos);
  must_fail("https://civitai.com/api/download/models/1900322?fileId=abc");
  must_fail("https://civitai.com/user/someone");
  must_fail("https://civitai.com/images/123");
  must_fail("https://civitai.com/models/1/slug/extra");
  must_fail("https://civitai.com/api/download/models/1/2");
  must_fail("");
  must_fail("1900322");
}

TEST(ParseCivitaiSource, OtherHostsAreRejected) {
  EXPECT_NE(must_fail("https://example.com/models/1").find("host 'example.com'"),
            std::string::npos);
  must_fail("https://civitai.com.evil.example/models/1");
  must_fail("https://civitai.com@evil.example/models/1");
  must_fail("https://notcivitai.com/models/1");
  must_fail("ftp://civitai.com/models/1");
}

}  // namespace
}  // namespace haul::sources::civitai
