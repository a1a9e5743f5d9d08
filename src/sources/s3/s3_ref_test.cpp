#include "sources/s3/s3_ref.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "sources/s3/sigv4.hpp"

namespace haul::sources::s3 {
namespace {

S3Ref must_parse(std::string_view source) {
  auto ref = parse_s3_source(source);
  EXPECT_TRUE(ref.has_value()) << source << ": " << (ref ? "" : ref.error().message);
  return ref ? *ref : S3Ref{};
}

// ---- parse_s3_source --------------------------------------------------------------------

TEST(ParseS3Source, ReadsBucketAndKey) {
  S3Ref ref = must_parse("s3://my-bucket/models/sdxl/model.safetensors");
  EXPECT_EQ(ref.bucket, "my-bucket");
  EXPECT_EQ(ref.key, "models/sdxl/model.safetensors");
  EXPECT_FALSE(ref.is_prefix());
}

TEST(ParseS3Source, ATrailingSlashMakesAPrefix) {
  S3Ref ref = must_parse("s3://my-bucket/models/sdxl/");
  EXPECT_EQ(ref.key, "models/sdxl/");
  EXPECT_TRUE(ref.is_prefix());
}

TEST(ParseS3Source, ABareBucketIsTheWholeBucket) {
  for (const char* source : {"s3://my-bucket", "s3://my-bucket/"}) {
    S3Ref ref = must_parse(source);
    EXPECT_EQ(ref.bucket, "my-bucket") << source;
    EXPECT_EQ(ref.key, "") << source;
    EXPECT_TRUE(ref.is_prefix()) << source;
  }
}

TEST(ParseS3Source, TakesTheKeyLiterally) {
  // As the AWS CLI does: no percent-decoding, '?' and '#' are part of the key.
  EXPECT_EQ(must_parse("s3://b-1/a%20b").key, "a%20b");
  EXPECT_EQ(must_parse("s3://b-1/what?.bin").key, "what?.bin");
  EXPECT_EQ(must_parse("s3://b-1/my model #2.ckpt").key, "my model #2.ckpt");
  EXPECT_EQ(must_parse("s3://b-1//leading-slash").key, "/leading-slash");
  EXPECT_EQ(must_parse("S3://b-1/k").key, "k") << "the scheme is case-insensitive";
}

TEST(ParseS3Source, AcceptsDotsAndDigitsInBucketNames) {
  EXPECT_EQ(must_parse("s3://my.data.bucket/k").bucket, "my.data.bucket");
  EXPECT_EQ(must_parse("s3://123/k").bucket, "123");
  EXPECT_EQ(must_parse("s3://" + std::string(63, 'a') + "/k").bucket.size(), 63u);
}

TEST(ParseS3Source, RejectsBadSourcesNamingTheProblem) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"https://my-bucket/k", "does not start with s3://"},
      {"s3:/my-bucket/k", "does not start with s3://"},
      {"s3://", "no bucket name"},
      {"s3:///key", "no bucket name"},
      {"s3://ab/k", "3 to 63"},
      {"s3://" + std::string(64, 'a') + "/k", "3 to 63"},
      {"s3://MyBucket/k", "lower-case"},
      {"s3://my_bucket/k", "'_'"},
      {"s3://my bucket/k", "' '"},
      {"s3://-bucket/k", "start and end with a letter or digit"},
      {"s3://bucket./k", "start and end with a letter or digit"},
      {"s3://my..bucket/k", "two dots"},
      {"s3://192.168.5.4/k", "IP address"},
      {"s3://my-bucket/" + std::string(1025, 'k'), "at most 1024"},
  };
  for (const auto& [source, why] : cases) {
    auto ref = parse_s3_source(source);
    ASSERT_FALSE(ref.has_value()) << source;
    EXPECT_EQ(ref.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(ref.error().message.find("invalid S3 source '" + source + "'"), std::string::npos)
        << ref.error().message;
    EXPECT_NE(ref.error().message.find(why), std::string::npos) << ref.error().message;
  }
}

TEST(BucketNameProblem, IsEmptyForAValidName) {
  EXPECT_EQ(bucket_name_problem("examplebucket"), "");
  EXPECT_EQ(bucket_name_problem("1.2.3"), "") << "three numbers are not an IP address";
  EXPECT_NE(bucket_name_problem("1.2.3.4"), "");
}

// ---- s3_config_from_env -------------------------------------------------------------------

using Env = std::map<std::string, std::string, std::less<>>;

Result<S3Config> config_from(const Env& env) {
  return s3_config_from_env([&env](std::string_view name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
}

S3Config must_config(const Env& env) {
  auto config = config_from(env);
  EXPECT_TRUE(config.has_value()) << (config ? "" : config.error().message);
  return config ? *config : S3Config{};
}

TEST(S3ConfigFromEnv, NothingSetMeansAnonymousUsEast1OnAws) {
  S3Config config = must_config({});
  EXPECT_TRUE(config.anonymous());
  EXPECT_EQ(config.region, "us-east-1");
  EXPECT_EQ(config.endpoint, "");
  EXPECT_FALSE(config.path_style);
}

TEST(S3ConfigFromEnv, ReadsKeysTokenAndRegion) {
  S3Config config =
      must_config({{"AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"},
                   {"AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"},
                   {"AWS_SESSION_TOKEN", "token"},
                   {"AWS_REGION", "eu-west-1"},
                   {"AWS_DEFAULT_REGION", "ap-south-1"}});
  EXPECT_FALSE(config.anonymous());
  EXPECT_EQ(config.access_key, "AKIAIOSFODNN7EXAMPLE");
  EXPECT_EQ(config.secret_key, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY") << "trimmed";
  EXPECT_EQ(config.session_token, "token");
  EXPECT_EQ(config.region, "eu-west-1") << "AWS_REGION wins over AWS_DEFAULT_REGION";
}

TEST(S3ConfigFromEnv, FallsBackToAwsDefaultRegion) {
  EXPECT_EQ(must_config({{"AWS_DEFAULT_REGION", "ap-south-1"}}).region, "ap-south-1");
  EXPECT_EQ(must_config({{"AWS_REGION", ""}, {"AWS_DEFAULT_REGION", "ap-south-1"}}).region,
            "ap-south-1")
      << "an empty variable counts as unset";
}

TEST(S3ConfigFromEnv, PrefersTheS3SpecificEndpoint) {
  S3Config config = must_config({{"AWS_ENDPOINT_URL", "https://general.example.com"},
                                 {"AWS_ENDPOINT_URL_S3", "https://s3.example.com/"}});
  EXPECT_EQ(config.endpoint, "https://s3.example.com") << "trailing slash removed";
  EXPECT_FALSE(config.path_style);
  EXPECT_EQ(must_config({{"AWS_ENDPOINT_URL", "https://general.example.com"}}).endpoint,
            "https://general.example.com");
}

TEST(S3ConfigFromEnv, ChoosesPathStyleForIpAndLocalhostEndpoints) {
  for (const char* endpoint :
       {"http://127.0.0.1:9000", "http://localhost:4568", "http://[::1]:9000", "http://10.0.0.5"}) {
    EXPECT_TRUE(must_config({{"AWS_ENDPOINT_URL", endpoint}}).path_style) << endpoint;
  }
  EXPECT_FALSE(must_config({{"AWS_ENDPOINT_URL", "http://minio.internal:9000"}}).path_style);
}

TEST(S3ConfigFromEnv, ChoosesPathStyleOnRequest) {
  EXPECT_TRUE(must_config({{"HAUL_S3_PATH_STYLE", "1"}}).path_style);
  EXPECT_TRUE(must_config({{"AWS_S3_FORCE_PATH_STYLE", "true"}}).path_style);
  EXPECT_TRUE(must_config({{"AWS_S3_FORCE_PATH_STYLE", "TRUE"}}).path_style);
  EXPECT_FALSE(must_config({{"HAUL_S3_PATH_STYLE", "0"}}).path_style);
  EXPECT_FALSE(must_config({{"AWS_S3_FORCE_PATH_STYLE", "false"}}).path_style);
}

TEST(S3ConfigFromEnv, RejectsInconsistentSettingsNamingTheVariable) {
  const std::vector<std::pair<Env, std::string>> cases = {
      {{{"AWS_ACCESS_KEY_ID", "AK"}}, "AWS_SECRET_ACCESS_KEY is not"},
      {{{"AWS_SECRET_ACCESS_KEY", "SK"}}, "AWS_ACCESS_KEY_ID is not"},
      {{{"AWS_SESSION_TOKEN", "T"}}, "AWS_SESSION_TOKEN is set without"},
      {{{"AWS_REGION", "eu west 1"}}, "AWS_REGION 'eu west 1'"},
      {{{"AWS_DEFAULT_REGION", "us:east"}}, "AWS_DEFAULT_REGION 'us:east'"},
      {{{"AWS_ENDPOINT_URL", "ftp://files.example.com"}},
       "AWS_ENDPOINT_URL 'ftp://files.example.com'"},
      {{{"AWS_ENDPOINT_URL_S3", "not a url"}}, "AWS_ENDPOINT_URL_S3"},
      {{{"AWS_ENDPOINT_URL", "https://user:secret@s3.example.com"}}, "user:password@"},
      {{{"AWS_ENDPOINT_URL", "https://s3.example.com/?x=1"}}, "query or fragment"},
  };
  for (const auto& [env, why] : cases) {
    auto config = config_from(env);
    ASSERT_FALSE(config.has_value()) << why;
    EXPECT_EQ(config.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(config.error().message.find(why), std::string::npos) << config.error().message;
    EXPECT_EQ(config.error().message.find("secret@"), std::string::npos)
        << "no password in messages: " << config.error().message;
  }
}

// ---- URLs -----------------------------------------------------------------------------------

S3Config aws(std::string region = "us-east-1") {
  S3Config config;
  config.region = std::move(region);
  return config;
}

S3Config endpoint(std::string url, bool path_style) {
  S3Config config;
  config.endpoint = std::move(url);
  config.path_style = path_style;
  return config;
}

TEST(ObjectUrl, UsesTheVirtualHostOnAws) {
  EXPECT_EQ(object_url(aws("eu-west-1"), S3Ref{"my-bucket", ""}, "models/a b+c.safetensors"),
            "https://my-bucket.s3.eu-west-1.amazonaws.com/models/a%20b%2Bc.safetensors");
  EXPECT_EQ(object_url(aws(), S3Ref{"examplebucket", ""}, "test$file.text"),
            "https://examplebucket.s3.us-east-1.amazonaws.com/test%24file.text");
}

TEST(ObjectUrl, UsesPathStyleForDottedBucketsOnHttps) {
  EXPECT_EQ(object_url(aws("eu-west-1"), S3Ref{"my.bucket", ""}, "k"),
            "https://s3.eu-west-1.amazonaws.com/my.bucket/k");
}

TEST(ObjectUrl, UsesTheChinaDomainForChinaRegions) {
  EXPECT_EQ(object_url(aws("cn-north-1"), S3Ref{"b-1", ""}, "k"),
            "https://b-1.s3.cn-north-1.amazonaws.com.cn/k");
}

TEST(ObjectUrl, PutsTheBucketInThePathOrHostOfACustomEndpoint) {
  EXPECT_EQ(object_url(endpoint("http://127.0.0.1:9000", true), S3Ref{"bkt", ""}, "dir/f.bin"),
            "http://127.0.0.1:9000/bkt/dir/f.bin");
  EXPECT_EQ(object_url(endpoint("https://acct.r2.cloudflarestorage.com", false), S3Ref{"bkt", ""},
                       "dir/f.bin"),
            "https://bkt.acct.r2.cloudflarestorage.com/dir/f.bin");
}

TEST(ObjectUrl, EncodesTheKeyWithEncodeKeyPath) {
  const std::string key = "\xC3\xA9/[1] ~x=y&z.bin";
  const std::string url =
      object_url(endpoint("http://127.0.0.1:9000", true), S3Ref{"bkt", ""}, key);
  EXPECT_EQ(url, "http://127.0.0.1:9000/bkt" + encode_key_path(key));
  EXPECT_EQ(url, "http://127.0.0.1:9000/bkt/%C3%A9/%5B1%5D%20~x%3Dy%26z.bin");
}

TEST(ListUrl, BuildsASortedEncodedListObjectsV2Query) {
  EXPECT_EQ(list_url(aws("eu-west-1"), "my-bucket", "models/sd xl/", ""),
            "https://my-bucket.s3.eu-west-1.amazonaws.com/?list-type=2&prefix=models%2Fsd%20xl%2F");
  EXPECT_EQ(list_url(aws(), "my-bucket", "", "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="),
            "https://my-bucket.s3.us-east-1.amazonaws.com/?continuation-token="
            "1ueGcxLPRx1Tr%2FXYExHnhbYLgveDs2J%2Fwm36Hy4vbOwM%3D&list-type=2&prefix=");
  EXPECT_EQ(list_url(endpoint("http://localhost:4568", true), "bkt", "a/", ""),
            "http://localhost:4568/bkt?list-type=2&prefix=a%2F");
}

TEST(ListUrl, TheQueryIsAlreadyCanonical) {
  // curl 7.88 signs the query as written; S3 signs canonical_query() of it.
  for (const auto& [prefix, token] : std::vector<std::pair<std::string, std::string>>{
           {"", ""}, {"a b/c+d=e&f/", "tok/en+=="}, {"\xE2\x82\xAC/", "Z-_.~"}}) {
    const std::string url = list_url(aws(), "bkt", prefix, token);
    const std::string query = url.substr(url.find('?') + 1);
    EXPECT_EQ(canonical_query(query), query) << url;
  }
}

TEST(CurlSigv4Provider, NamesRegionAndService) {
  EXPECT_EQ(curl_sigv4_provider(aws("eu-central-1")), "aws:amz:eu-central-1:s3");
  S3Config r2 = endpoint("https://acct.r2.cloudflarestorage.com", false);
  r2.region = "auto";
  EXPECT_EQ(curl_sigv4_provider(r2), "aws:amz:auto:s3");
}

}  // namespace
}  // namespace haul::sources::s3
