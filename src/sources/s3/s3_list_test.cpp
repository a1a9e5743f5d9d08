#include "sources/s3/s3_list.hpp"

#include <gtest/gtest.h>

#include <string>

namespace haul::sources::s3 {
namespace {

// ---- parse_list_objects_v2 ----------------------------------------------------------------

// "Example 4: Using a Continuation Token" of the ListObjectsV2 API reference.
constexpr const char* kTruncatedPage = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name>
  <Prefix></Prefix>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
  <KeyCount>1000</KeyCount>
  <MaxKeys>1000</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <Contents>
    <Key>happyface.jpg</Key>
    <LastModified>2014-11-21T19:40:05.000Z</LastModified>
    <ETag>&quot;70ee1738b6b21e2c8a43f3a5ab0eee71&quot;</ETag>
    <Size>11</Size>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
</ListBucketResult>)";

// The shape of a last page: a prefix, a multipart ETag, a key that needs
// XML escaping, a size past 4 GiB, an archived object.
constexpr const char* kLastPage = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>models</Name>
  <Prefix>sdxl/</Prefix>
  <ContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</ContinuationToken>
  <KeyCount>3</KeyCount>
  <MaxKeys>1000</MaxKeys>
  <IsTruncated>false</IsTruncated>
  <Contents>
    <Key>sdxl/sd_xl_base_1.0.safetensors</Key>
    <LastModified>2023-07-26T12:00:01.000Z</LastModified>
    <ETag>&quot;c6ad4f1f8b5e7b3c9d2b1a0f9e8d7c6b-832&quot;</ETag>
    <ChecksumAlgorithm>CRC64NVME</ChecksumAlgorithm>
    <Size>6938078334</Size>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
  <Contents>
    <Key>sdxl/notes &amp; &lt;draft&gt;.txt</Key>
    <LastModified>2023-07-26T12:00:02.000Z</LastModified>
    <ETag>"d41d8cd98f00b204e9800998ecf8427e"</ETag>
    <Size>0</Size>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
  <Contents>
    <Key>sdxl/old.ckpt</Key>
    <LastModified>2021-01-01T00:00:00.000Z</LastModified>
    <ETag>"fba9dede5f27731c9771645a39863328"</ETag>
    <Size>434234</Size>
    <StorageClass>DEEP_ARCHIVE</StorageClass>
  </Contents>
</ListBucketResult>)";

TEST(ParseListObjectsV2, ReadsATruncatedPageAndItsToken) {
  auto page = parse_list_objects_v2(kTruncatedPage);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
  ASSERT_EQ(page->objects.size(), 1u);
  const S3Object& object = page->objects[0];
  EXPECT_EQ(object.key, "happyface.jpg");
  EXPECT_EQ(object.size, 11u);
  EXPECT_EQ(object.etag, "\"70ee1738b6b21e2c8a43f3a5ab0eee71\"") << "quotes kept";
  EXPECT_EQ(object.last_modified, "2014-11-21T19:40:05.000Z");
  EXPECT_EQ(object.storage_class, "STANDARD");
}

TEST(ParseListObjectsV2, ReadsTheLastPage) {
  auto page = parse_list_objects_v2(kLastPage);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_FALSE(page->truncated);
  EXPECT_EQ(page->next_continuation_token, "");
  ASSERT_EQ(page->objects.size(), 3u);
  EXPECT_EQ(page->objects[0].key, "sdxl/sd_xl_base_1.0.safetensors");
  EXPECT_EQ(page->objects[0].size, 6938078334u);
  EXPECT_EQ(page->objects[0].etag, "\"c6ad4f1f8b5e7b3c9d2b1a0f9e8d7c6b-832\"");
  EXPECT_EQ(page->objects[1].key, "sdxl/notes & <draft>.txt");
  EXPECT_EQ(page->objects[1].size, 0u);
  EXPECT_EQ(page->objects[1].etag, "\"d41d8cd98f00b204e9800998ecf8427e\"");
  EXPECT_EQ(page->objects[2].storage_class, "DEEP_ARCHIVE");
}

TEST(ParseListObjectsV2, AcceptsAnEmptyListingAndPrefixedNames) {
  auto empty = parse_list_objects_v2(
      R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>none/</Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>)");
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_TRUE(empty->objects.empty());
  EXPECT_FALSE(empty->truncated);

  auto prefixed = parse_list_objects_v2(
      R"(<s3:ListBucketResult xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/"><s3:IsTruncated>false</s3:IsTruncated><s3:Contents><s3:Key>k</s3:Key><s3:Size>5</s3:Size></s3:Contents></s3:ListBucketResult>)");
  ASSERT_TRUE(prefixed) << prefixed.error().message;
  ASSERT_EQ(prefixed->objects.size(), 1u);
  EXPECT_EQ(prefixed->objects[0].key, "k");
  EXPECT_EQ(prefixed->objects[0].size, 5u);
}

TEST(ParseListObjectsV2, RejectsBrokenPagesAsProtocolErrors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "not an XML document"},
      {"<ListBucketResult><Contents>", "not an XML document"},
      {"<html><body>captive portal</body></html>", "<html>"},
      {"<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>", "no <Key>"},
      {"<ListBucketResult><Contents><Key>k</Key></Contents></ListBucketResult>", "'k'"},
      {"<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents></ListBucketResult>",
       "'-1'"},
      {"<ListBucketResult><Contents><Key>k</Key><Size>12x</Size></Contents></ListBucketResult>",
       "'12x'"},
      {"<ListBucketResult><Contents><Key>k</Key><Size>99999999999999999999</Size></Contents>"
       "</ListBucketResult>",
       "not a number"},
      {"<ListBucketResult><IsTruncated>maybe</IsTruncated></ListBucketResult>", "'maybe'"},
      {"<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
       "no NextContinuationToken"},
  };
  for (const auto& [xml, why] : cases) {
    auto page = parse_list_objects_v2(xml);
    ASSERT_FALSE(page) << xml;
    EXPECT_EQ(page.error().code, ErrorCode::kProtocol) << xml;
    EXPECT_NE(page.error().message.find("bad ListObjectsV2 response"), std::string::npos);
    EXPECT_NE(page.error().message.find(why), std::string::npos) << page.error().message;
  }
}

TEST(ParseListObjectsV2, TurnsAnErrorDocumentIntoItsError) {
  auto page = parse_list_objects_v2(
      R"(<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>656c76696e6727732072657175657374</RequestId><HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==</HostId></Error>)");
  ASSERT_FALSE(page);
  EXPECT_EQ(page.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(page.error().message.find("AccessDenied: Access Denied"), std::string::npos)
      << page.error().message;
}

// ---- s3_error ---------------------------------------------------------------------------

constexpr const char* kWhat = "s3://examplebucket/models/a.safetensors";

std::string body(const std::string& code, const std::string& message,
                 const std::string& extra = "") {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>" +
         message + "</Message>" + extra +
         "<RequestId>4442587FB7D0A2F9</RequestId><HostId>hostid==</HostId></Error>";
}

TEST(S3Error, NoSuchKeyIsNotFoundWithCodeAndMessageVerbatim) {
  Error error = s3_error(
      404,
      body("NoSuchKey", "The specified key does not exist.", "<Key>models/a.safetensors</Key>"),
      kWhat);
  EXPECT_EQ(error.code, ErrorCode::kNotFound);
  EXPECT_EQ(error.http_status, 404);
  EXPECT_EQ(error.message,
            "s3://examplebucket/models/a.safetensors: HTTP 404 NoSuchKey: The specified key does "
            "not exist.");
}

TEST(S3Error, NoSuchBucketIsNotFound) {
  Error error = s3_error(404,
                         body("NoSuchBucket", "The specified bucket does not exist",
                              "<BucketName>examplebucket</BucketName>"),
                         kWhat);
  EXPECT_EQ(error.code, ErrorCode::kNotFound);
  EXPECT_NE(error.message.find("NoSuchBucket: The specified bucket does not exist"),
            std::string::npos);
}

TEST(S3Error, RefusedCredentialsArePermissionDeniedWithAdvice) {
  struct Case {
    std::string code, message, advice;
  };
  for (const Case& c : std::vector<Case>{
           {"AccessDenied", "Access Denied", ""},
           {"InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
            "check AWS_ACCESS_KEY_ID"},
           {"SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check "
            "your key and signing method.",
            "check AWS_SECRET_ACCESS_KEY"},
           {"RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.", "clock"},
       }) {
    Error error = s3_error(403, body(c.code, c.message), kWhat);
    EXPECT_EQ(error.code, ErrorCode::kPermissionDenied) << c.code;
    EXPECT_EQ(error.http_status, 403);
    EXPECT_NE(error.message.find("HTTP 403 " + c.code + ": " + c.message), std::string::npos)
        << error.message;
    EXPECT_NE(error.message.find(c.advice), std::string::npos) << error.message;
  }
}

TEST(S3Error, ExpiredTokenAsksForAFreshSessionToken) {
  for (const char* code : {"ExpiredToken", "TokenRefreshRequired"}) {
    Error error = s3_error(
        400,
        body(code, "The provided token has expired.", "<Token-0>FwoGZXIvYXdzEXAMPLE</Token-0>"),
        kWhat);
    EXPECT_EQ(error.code, ErrorCode::kPermissionDenied) << code;
    EXPECT_EQ(error.message, std::string(kWhat) +
                                 ": credentials expired: refresh AWS_SESSION_TOKEN (HTTP 400 " +
                                 code + ": The provided token has expired.)");
  }
}

TEST(S3Error, PreconditionFailedMeansTheObjectChanged) {
  Error error = s3_error(
      412,
      body("PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
           "<Condition>If-Match</Condition>"),
      kWhat);
  EXPECT_EQ(error.code, ErrorCode::kUnavailable);
  EXPECT_NE(error.message.find("changed on the server"), std::string::npos) << error.message;
  EXPECT_NE(error.message.find("PreconditionFailed"), std::string::npos);
}

TEST(S3Error, ThrottlingAndServerErrorsAreTransient) {
  EXPECT_EQ(s3_error(503, body("SlowDown", "Please reduce your request rate."), kWhat).code,
            ErrorCode::kUnavailable);
  EXPECT_EQ(
      s3_error(500, body("InternalError", "We encountered an internal error. Please try again."),
               kWhat)
          .code,
      ErrorCode::kUnavailable);
  EXPECT_EQ(s3_error(400,
                     body("RequestTimeout",
                          "Your socket connection to the server was not read from or written "
                          "to within the timeout period."),
                     kWhat)
                .code,
            ErrorCode::kUnavailable);
  EXPECT_EQ(s3_error(503, "", kWhat).code, ErrorCode::kUnavailable);
}

TEST(S3Error, PermanentRedirectNamesTheRegionFromTheEndpoint) {
  const std::string redirect = body(
      "PermanentRedirect",
      "The bucket you are attempting to access must be addressed using the specified endpoint. "
      "Please send all future requests to this endpoint.",
      "<Endpoint>examplebucket.s3.eu-west-1.amazonaws.com</Endpoint><Bucket>examplebucket</"
      "Bucket>");
  Error error = s3_error(301, redirect, kWhat);
  EXPECT_EQ(error.code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(error.http_status, 301);
  EXPECT_EQ(error.message.find(std::string(kWhat) +
                               ": the bucket is in region eu-west-1: set AWS_REGION=eu-west-1 "
                               "(HTTP 301 PermanentRedirect: The bucket you are attempting"),
            0u)
      << error.message;
  EXPECT_EQ(redirect_region(redirect), "eu-west-1");
}

TEST(S3Error, RedirectRegionReadsEveryEndpointSpelling) {
  auto with_endpoint = [](const std::string& endpoint) {
    return body("PermanentRedirect", "m", "<Endpoint>" + endpoint + "</Endpoint>");
  };
  EXPECT_EQ(redirect_region(with_endpoint("hello.s3-eu-west-1.amazonaws.com")), "eu-west-1");
  EXPECT_EQ(redirect_region(with_endpoint("s3-data.s3.ap-south-1.amazonaws.com")), "ap-south-1");
  EXPECT_EQ(redirect_region(with_endpoint("b.s3.dualstack.us-west-2.amazonaws.com")), "us-west-2");
  EXPECT_EQ(redirect_region(with_endpoint("mock-bucket.s3.amazonaws.com")), "us-east-1");
  EXPECT_EQ(redirect_region(with_endpoint("s3.amazonaws.com")), "us-east-1");
  EXPECT_EQ(redirect_region(with_endpoint("minio.internal")), "");
  EXPECT_EQ(
      redirect_region(body("AuthorizationHeaderMalformed", "m", "<Region>eu-north-1</Region>")),
      "eu-north-1");
  EXPECT_EQ(redirect_region("", "ap-southeast-2"), "ap-southeast-2");
  EXPECT_EQ(redirect_region(with_endpoint("b.s3.eu-west-1.amazonaws.com"), "eu-central-1"),
            "eu-central-1")
      << "x-amz-bucket-region wins";
}

TEST(S3Error, AuthorizationHeaderMalformedWithARegionNamesIt) {
  Error error = s3_error(
      400,
      body("AuthorizationHeaderMalformed",
           "The authorization header is malformed; the region 'us-east-1' is wrong; expecting "
           "'ap-northeast-1'",
           "<Region>ap-northeast-1</Region>"),
      kWhat);
  EXPECT_EQ(error.code, ErrorCode::kInvalidArgument);
  EXPECT_NE(error.message.find("set AWS_REGION=ap-northeast-1"), std::string::npos)
      << error.message;
  EXPECT_NE(error.message.find("expecting 'ap-northeast-1'"), std::string::npos);
}

TEST(S3Error, AHeadRedirectUsesTheBucketRegionHeader) {
  Error error = s3_error(301, "", kWhat, "eu-central-1");
  EXPECT_EQ(error.code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(error.message,
            std::string(kWhat) +
                ": the bucket is in region eu-central-1: set AWS_REGION=eu-central-1 "
                "(HTTP 301)");
  Error unknown = s3_error(301, "", kWhat);
  EXPECT_NE(unknown.message.find("another region"), std::string::npos) << unknown.message;
}

TEST(S3Error, HeadResponsesWithoutABodyAreJudgedByStatus) {
  EXPECT_EQ(s3_error(404, "", kWhat).code, ErrorCode::kNotFound);
  EXPECT_EQ(s3_error(404, "", kWhat).message, std::string(kWhat) + ": HTTP 404");
  EXPECT_EQ(s3_error(403, "", kWhat).code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(s3_error(412, "", kWhat).code, ErrorCode::kUnavailable);
  EXPECT_EQ(s3_error(307, "", kWhat).code, ErrorCode::kUnavailable);
  EXPECT_EQ(s3_error(400, "", kWhat).code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(s3_error(416, "", kWhat).code, ErrorCode::kProtocol);
  EXPECT_EQ(s3_error(200, "not xml", kWhat).code, ErrorCode::kProtocol);
}

TEST(S3Error, ArchivedObjectsAreAConflict) {
  Error error = s3_error(
      403,
      body("InvalidObjectState", "The operation is not valid for the object's storage class",
           "<StorageClass>GLACIER</StorageClass>"),
      kWhat);
  EXPECT_EQ(error.code, ErrorCode::kConflict);
  EXPECT_NE(error.message.find("restore it"), std::string::npos) << error.message;
}

TEST(S3Error, KeepsTheMessageOnOneLine) {
  Error error = s3_error(418, body("Teapot", "line one\n   line two\r\n"), kWhat);
  EXPECT_EQ(error.code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(error.message, std::string(kWhat) + ": HTTP 418 Teapot: line one line two");
}

TEST(ParseErrorBody, ReadsTheFieldsOrNothing) {
  auto parsed = parse_error_body(body("PermanentRedirect", "m", "<Endpoint>e.example</Endpoint>"));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->code, "PermanentRedirect");
  EXPECT_EQ(parsed->message, "m");
  EXPECT_EQ(parsed->endpoint, "e.example");
  EXPECT_EQ(parsed->region, "");
  EXPECT_FALSE(parse_error_body(""));
  EXPECT_FALSE(parse_error_body(kTruncatedPage));
  EXPECT_FALSE(parse_error_body("<Error>"));
}

}  // namespace
}  // namespace haul::sources::s3
