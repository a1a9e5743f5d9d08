#include "net/file_name.hpp"

#include <gtest/gtest.h>

#include <string>

namespace haul::net {
namespace {

using namespace std::string_literals;
using namespace std::string_view_literals;

// Strict UTF-8 check (RFC 3629): no overlong forms, no surrogates, <= U+10FFFF.
bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// ---- parse_content_disposition ----------------------------------------------

TEST(ParseContentDisposition, ReadsAQuotedFilename) {
  EXPECT_EQ(parse_content_disposition("attachment; filename=\"model.safetensors\""),
            "model.safetensors");
}

TEST(ParseContentDisposition, ReadsAnUnquotedFilename) {
  EXPECT_EQ(parse_content_disposition("attachment; filename=model.bin"), "model.bin");
  EXPECT_EQ(parse_content_disposition("attachment; filename=model.bin ; size=3"), "model.bin");
}

TEST(ParseContentDisposition, UnescapesBackslashesInQuotedStrings) {
  EXPECT_EQ(parse_content_disposition(R"(attachment; filename="a \"quoted\" name.txt")"),
            "a \"quoted\" name.txt");
  EXPECT_EQ(parse_content_disposition(R"(attachment; filename="back\\slash.txt")"),
            "back\\slash.txt");
  EXPECT_EQ(parse_content_disposition(R"(attachment; filename="\x\y.txt")"), "xy.txt");
}

TEST(ParseContentDisposition, KeepsSemicolonsInsideQuotes) {
  EXPECT_EQ(parse_content_disposition("attachment; filename=\"a;b.txt\"; size=3"), "a;b.txt");
  // A quoted value that looks like another parameter does not count.
  EXPECT_EQ(
      parse_content_disposition("attachment; note=\"x; filename=evil.sh\"; filename=good.bin"),
      "good.bin");
}

TEST(ParseContentDisposition, ExtendedUtf8FilenameIsDecoded) {
  EXPECT_EQ(parse_content_disposition("attachment; filename*=UTF-8''na%C3%AFve%20file.txt"),
            "na\xC3\xAFve file.txt");
  EXPECT_EQ(parse_content_disposition("attachment; filename*=utf-8'en'%E2%82%AC%20rates.txt"),
            "\xE2\x82\xAC rates.txt");
}

TEST(ParseContentDisposition, ExtendedIso88591FilenameIsConvertedToUtf8) {
  EXPECT_EQ(parse_content_disposition("attachment; filename*=iso-8859-1'en'%A3%20rates.txt"),
            "\xC2\xA3 rates.txt");
  EXPECT_EQ(parse_content_disposition("attachment; filename*=ISO-8859-1''caf%E9.txt"),
            "caf\xC3\xA9.txt");
}

TEST(ParseContentDisposition, ExtendedFilenameWinsWhicheverComesFirst) {
  EXPECT_EQ(parse_content_disposition(
                "attachment; filename=\"fallback.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"),
            "r\xC3\xA9sum\xC3\xA9.pdf");
  EXPECT_EQ(parse_content_disposition(
                "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf; filename=\"fallback.pdf\""),
            "r\xC3\xA9sum\xC3\xA9.pdf");
  EXPECT_EQ(parse_content_disposition(
                "attachment; filename=\"fallback.txt\"; filename*=iso-8859-1''%E9t%E9.txt"),
            "\xC3\xA9t\xC3\xA9.txt");
}

TEST(ParseContentDisposition, FallsBackToFilenameWhenTheExtendedFormIsUnusable) {
  // Unsupported charset, missing quotes, empty value.
  EXPECT_EQ(
      parse_content_disposition("attachment; filename*=koi8-r''%F0%F2; filename=\"plain.txt\""),
      "plain.txt");
  EXPECT_EQ(
      parse_content_disposition("attachment; filename*=no-quotes.txt; filename=\"plain.txt\""),
      "plain.txt");
  EXPECT_EQ(parse_content_disposition("attachment; filename*=UTF-8''; filename=\"plain.txt\""),
            "plain.txt");
}

TEST(ParseContentDisposition, ParameterNamesAreCaseInsensitive) {
  EXPECT_EQ(parse_content_disposition("ATTACHMENT; FILENAME=\"UP.BIN\""), "UP.BIN");
  EXPECT_EQ(parse_content_disposition("attachment; FileName*=Utf-8''x.bin"), "x.bin");
}

TEST(ParseContentDisposition, ToleratesSpacesAroundParameters) {
  EXPECT_EQ(parse_content_disposition("attachment;filename = \"spaced.txt\""), "spaced.txt");
  EXPECT_EQ(parse_content_disposition("inline ;  filename=   bare.txt   "), "bare.txt");
}

TEST(ParseContentDisposition, SkipsParametersWithoutAValue) {
  EXPECT_EQ(parse_content_disposition("attachment; flag; filename=\"after-flag.bin\""),
            "after-flag.bin");
}

TEST(ParseContentDisposition, ReturnsTheRawNameUnsanitised) {
  EXPECT_EQ(parse_content_disposition("attachment; filename=\"../../etc/passwd\""),
            "../../etc/passwd");
}

TEST(ParseContentDisposition, ReadsAnUnterminatedQuoteToTheEnd) {
  EXPECT_EQ(parse_content_disposition("attachment; filename=\"unterminated.bin"),
            "unterminated.bin");
}

TEST(ParseContentDisposition, ReturnsNothingWithoutAFilename) {
  for (const char* value :
       {"", "attachment", "inline", "attachment;", "attachment; name=\"field\"",
        "attachment; filename=\"\"", "attachment; filename=", "attachment; filename",
        "attachment; filenames=\"x\"", "attachment; filename*=bogus"}) {
    EXPECT_FALSE(parse_content_disposition(value).has_value()) << value;
  }
}

// ---- sanitize_file_name -----------------------------------------------------

TEST(SanitizeFileName, KeepsOrdinaryNames) {
  EXPECT_EQ(sanitize_file_name("model-00001-of-00002.safetensors"),
            "model-00001-of-00002.safetensors");
  EXPECT_EQ(sanitize_file_name("my model (v2).bin"), "my model (v2).bin");
  EXPECT_EQ(sanitize_file_name("na\xC3\xAFve \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x8E\x89.txt"),
            "na\xC3\xAFve \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x8E\x89.txt");
}

TEST(SanitizeFileName, KeepsOnlyTheLastPathComponent) {
  EXPECT_EQ(sanitize_file_name("../../etc/passwd"), "passwd");
  EXPECT_EQ(sanitize_file_name("/etc/passwd"), "passwd");
  EXPECT_EQ(sanitize_file_name("C:\\evil\\x.bin"), "x.bin");
  EXPECT_EQ(sanitize_file_name("..\\..\\windows\\system32"), "system32");
  EXPECT_EQ(sanitize_file_name("a/b\\c/d.txt"), "d.txt");
}

TEST(SanitizeFileName, ReturnsEmptyWhenNothingUsableRemains) {
  for (std::string_view bad : {""sv, "."sv, ".."sv, "..."sv, "/"sv, "\\"sv, "dir/"sv, "../.."sv,
                               "\x01"sv, "   "sv, ". . ."sv}) {
    EXPECT_EQ(sanitize_file_name(bad), "") << bad;
  }
}

TEST(SanitizeFileName, DropsControlCharacters) {
  EXPECT_EQ(sanitize_file_name("a\x01"
                               "b"),
            "ab");
  EXPECT_EQ(sanitize_file_name("tab\there\r\n"), "tabhere");
  EXPECT_EQ(sanitize_file_name("del\x7f.txt"), "del.txt");
  EXPECT_EQ(sanitize_file_name("nul\0byte.bin"s), "nulbyte.bin");
  EXPECT_EQ(sanitize_file_name("\x1b[31mred.txt"), "[31mred.txt");
}

TEST(SanitizeFileName, StripsLeadingDotsAndSpaces) {
  EXPECT_EQ(sanitize_file_name(".bashrc"), "bashrc");
  EXPECT_EQ(sanitize_file_name("...hidden"), "hidden");
  EXPECT_EQ(sanitize_file_name(" . x.txt"), "x.txt");
}

TEST(SanitizeFileName, StripsTrailingDotsAndSpaces) {
  EXPECT_EQ(sanitize_file_name("name. "), "name");
  EXPECT_EQ(sanitize_file_name("file.txt..."), "file.txt");
  EXPECT_EQ(sanitize_file_name("a b "), "a b");
}

TEST(SanitizeFileName, ReplacesWindowsReservedCharacters) {
  EXPECT_EQ(sanitize_file_name("a:b*c?d\"e<f>g|h.bin"), "a_b_c_d_e_f_g_h.bin");
  EXPECT_EQ(sanitize_file_name("C:evil.txt"), "C_evil.txt");
}

TEST(SanitizeFileName, ReplacesInvalidUtf8Bytes) {
  EXPECT_EQ(sanitize_file_name("a\xff"
                               "b"),
            "a_b");
  EXPECT_EQ(sanitize_file_name("\x80\x80.bin"), "__.bin");
  EXPECT_EQ(sanitize_file_name("trunc\xC3"), "trunc_");
  EXPECT_EQ(sanitize_file_name("\xC0\xAF.txt"), "__.txt") << "overlong two-byte '/'";
  EXPECT_EQ(sanitize_file_name("\xF8\x88\x80\x80\x80"), "_____") << "five-byte form";
  EXPECT_EQ(sanitize_file_name("\xE6\x97x"), "__x") << "truncated three-byte sequence";
  EXPECT_TRUE(is_valid_utf8(sanitize_file_name("\xfe\xff mixed \xC3\xA9 \xE2\x82")));
}

TEST(SanitizeFileName, ReplacesOverlongSurrogateAndOutOfRangeSequences) {
  EXPECT_EQ(sanitize_file_name("\xE0\x80\xAF.txt"), "___.txt") << "overlong three-byte '/'";
  EXPECT_EQ(sanitize_file_name("\xED\xA0\x80.txt"), "___.txt") << "UTF-16 surrogate U+D800";
  EXPECT_EQ(sanitize_file_name("\xF4\x90\x80\x80.txt"), "____.txt") << "U+110000";
  EXPECT_EQ(sanitize_file_name("\xF0\x80\x80\xAF.txt"), "____.txt") << "overlong four-byte '/'";
  EXPECT_TRUE(is_valid_utf8(sanitize_file_name("x\xED\xBF\xBFy")));
}

TEST(SanitizeFileName, ShortensALongNameKeepingItsExtension) {
  const std::string long_name = std::string(396, 'a') + ".bin";
  ASSERT_EQ(long_name.size(), 400u);
  const std::string clean = sanitize_file_name(long_name);
  EXPECT_EQ(clean.size(), 255u);
  EXPECT_EQ(clean, std::string(251, 'a') + ".bin");
  EXPECT_TRUE(is_valid_utf8(clean));
}

TEST(SanitizeFileName, ShortensMultiByteNamesOnACharacterBoundary) {
  std::string long_name;
  for (int i = 0; i < 200; ++i) long_name += "\xC3\xA9";  // é
  long_name += ".safetensors";
  const std::string clean = sanitize_file_name(long_name);
  EXPECT_LE(clean.size(), 255u);
  EXPECT_GE(clean.size(), 250u);
  EXPECT_TRUE(clean.ends_with(".safetensors"));
  EXPECT_TRUE(is_valid_utf8(clean));

  std::string cjk;
  for (int i = 0; i < 150; ++i) cjk += "\xE6\x97\xA5";  // 日, 3 bytes
  const std::string clean_cjk = sanitize_file_name(cjk);
  EXPECT_LE(clean_cjk.size(), 255u);
  EXPECT_EQ(clean_cjk.size() % 3, 0u);
  EXPECT_TRUE(is_valid_utf8(clean_cjk));
}

TEST(SanitizeFileName, DropsAnExtensionTooLongToBeOne) {
  const std::string long_name = std::string(300, 'a') + "." + std::string(40, 'b');
  const std::string clean = sanitize_file_name(long_name);
  EXPECT_EQ(clean, std::string(255, 'a'));
}

TEST(SanitizeFileName, ShorteningDoesNotLeaveATrailingDotOrSpace) {
  // rfind('.') finds a dot 102 bytes from the end: no extension is kept, and
  // the cut at 255 bytes lands right after that dot.
  const std::string dot = sanitize_file_name(std::string(254, 'a') + ". " + std::string(100, 'b'));
  EXPECT_LE(dot.size(), 255u);
  EXPECT_FALSE(dot.ends_with(".")) << dot.size();
  const std::string space = sanitize_file_name(std::string(254, 'a') + " " + std::string(100, 'b'));
  EXPECT_FALSE(space.ends_with(" "));
}

TEST(SanitizeFileName, ResultIsAlwaysASafeComponent) {
  for (std::string_view hostile :
       {"../../etc/passwd"sv, "..\\..\\x"sv, "\x01\x02\x03"sv, ".\x01."sv, "a/../.."sv, "%2e%2e"sv,
        "...."sv, "\xC0\xAE\xC0\xAE"sv, "x\\"sv, " ..  "sv}) {
    const std::string clean = sanitize_file_name(hostile);
    EXPECT_EQ(clean.find('/'), std::string::npos) << hostile;
    EXPECT_EQ(clean.find('\\'), std::string::npos) << hostile;
    EXPECT_NE(clean, ".");
    EXPECT_NE(clean, "..");
    EXPECT_FALSE(clean.starts_with(".")) << hostile;
    for (char c : clean) EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 || c == 0x7f) << hostile;
  }
}

// ---- file_name_from_url -----------------------------------------------------

TEST(FileNameFromUrl, TakesTheLastPathSegment) {
  EXPECT_EQ(file_name_from_url("https://example.com/models/llama-7b.Q4_K_M.gguf"),
            "llama-7b.Q4_K_M.gguf");
  EXPECT_EQ(file_name_from_url("http://example.com:8080/file.bin"), "file.bin");
  EXPECT_EQ(file_name_from_url("example.com/no/scheme.bin"), "scheme.bin");
}

TEST(FileNameFromUrl, StripsQueryAndFragment) {
  EXPECT_EQ(file_name_from_url("https://cdn.example.com/a/b.bin?X-Amz-Signature=abc/def&x=1"),
            "b.bin");
  EXPECT_EQ(file_name_from_url("https://example.com/a/b.bin#part/2"), "b.bin");
  EXPECT_EQ(file_name_from_url("https://example.com/a/b.bin?q#f"), "b.bin");
}

TEST(FileNameFromUrl, PercentDecodesTheSegment) {
  EXPECT_EQ(file_name_from_url("https://example.com/dir/my%20model%2Bv2.bin"), "my model+v2.bin");
  EXPECT_EQ(file_name_from_url("https://example.com/caf%C3%A9.txt"), "caf\xC3\xA9.txt");
}

TEST(FileNameFromUrl, ReturnsEmptyWithoutASegment) {
  EXPECT_EQ(file_name_from_url("https://example.com"), "");
  EXPECT_EQ(file_name_from_url("https://example.com?download=/x.bin"), "");
  EXPECT_EQ(file_name_from_url("https://example.com#/x.bin"), "");
  EXPECT_EQ(file_name_from_url("https://example.com/"), "");
  EXPECT_EQ(file_name_from_url("https://example.com/dir/"), "");
}

TEST(FileNameFromUrl, SanitisesTheDecodedName) {
  EXPECT_EQ(file_name_from_url("https://example.com/x/..%2F..%2Fetc%2Fpasswd"), "passwd");
  EXPECT_EQ(file_name_from_url("https://example.com/x/..%5C..%5Cboot.ini"), "boot.ini");
  EXPECT_EQ(file_name_from_url("https://example.com/%2e%2e"), "");
  EXPECT_EQ(file_name_from_url("https://example.com/%00%01evil.bin"), "evil.bin");
  EXPECT_EQ(file_name_from_url("https://example.com/.env"), "env");
}

// ---- percent_decode ---------------------------------------------------------

TEST(PercentDecode, DecodesEscapesInEitherCase) {
  EXPECT_EQ(percent_decode("a%20b"), "a b");
  EXPECT_EQ(percent_decode("%41%42%43"), "ABC");
  EXPECT_EQ(percent_decode("%4a%4A"), "JJ");
  EXPECT_EQ(percent_decode("%e2%82%ac"), "\xE2\x82\xAC");
  EXPECT_EQ(percent_decode("%00"), "\0"s);
  EXPECT_EQ(percent_decode("a+b"), "a+b") << "'+' is not a space in paths";
  EXPECT_EQ(percent_decode(""), "");
}

TEST(PercentDecode, KeepsMalformedEscapes) {
  EXPECT_EQ(percent_decode("%"), "%");
  EXPECT_EQ(percent_decode("%4"), "%4");
  EXPECT_EQ(percent_decode("100%"), "100%");
  EXPECT_EQ(percent_decode("%zz"), "%zz");
  EXPECT_EQ(percent_decode("%g1"), "%g1");
  EXPECT_EQ(percent_decode("%1g"), "%1g");
  EXPECT_EQ(percent_decode("%%41"), "%A");
  EXPECT_EQ(percent_decode("%4%41"), "%4A");
  EXPECT_EQ(percent_decode("a%2"), "a%2");
}

TEST(PercentDecode, DecodesOnlyOnce) { EXPECT_EQ(percent_decode("%2541"), "%41"); }

}  // namespace
}  // namespace haul::net
